// The film admin's direct uploader: Uppy's dashboard over S3 multipart, bundled by esbuild
// into static/vendor/uploader/ (`make install`). Affea's staff endpoints speak Companion's
// protocol (content_app/uploads/views.py): they create the upload, sign each part, list
// parts, complete and verify, abort. No byte of the file passes through Django.
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import AwsS3 from "@uppy/aws-s3";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";

const RETRY_MS = 2000;
// Every progress event re-renders the dashboard, and at the browser's rate (dozens a
// second for each part in flight) that rendering took CPU from the upload itself: on a
// 2-core machine the upload ran at 0.55 of the speed of the same parts sent without Uppy
// (bench/upload.py). Once a second is the pace of the progress, speed and time left.
const PROGRESS_MS = 1000;

// Uppy's part PUT, with the progress events of all parts in flight thinned to one per
// PROGRESS_MS; the last event of each part (when it is sent) always passes.
function pacedUploadPartBytes() {
  let last = -Infinity;
  return (options) => {
    const size = options.size ?? options.body.size;
    const onProgress = (event) => {
      const now = performance.now();
      if (event.loaded >= size || now - last >= PROGRESS_MS) {
        last = now;
        options.onProgress(event);
      }
    };
    return AwsS3.uploadPartBytes({ ...options, onProgress });
  };
}

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

// Companion's client calls plain fetch; our endpoints are admin views, so they need the
// CSRF header, and their plain-words error is what staff must read (not "Bad Request").
// `onRefusal(status, text)` hears every answer that is not OK.
function guardFetch(endpoint, onRefusal) {
  const original = window.fetch.bind(window);
  window.fetch = async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    if (!url.startsWith(endpoint)) return original(input, init);
    const headers = new Headers(init.headers || {});
    headers.set("X-CSRFToken", csrfToken());
    const response = await original(input, { ...init, headers, credentials: "same-origin" });
    if (!response.ok) {
      const body = await response.clone().json().catch(() => ({}));
      onRefusal(response.status, body.error || "");
    }
    return response;
  };
}

function resumeKey(endpoint, file) {
  const data = file.data || {};
  return `affea-upload:${endpoint}:${file.name}:${file.size}:${data.lastModified || ""}`;
}

function start(root) {
  const endpoint = root.dataset.endpoint;
  const mode = root.dataset.mode;
  const partSize = Number(root.dataset.partSize) || 16 * 1024 * 1024;
  const message = root.querySelector(".film-uploader-message");
  const say = (text, kind) => {
    message.textContent = text;
    message.dataset.kind = kind || "info";
  };
  // The last refusal by our endpoints since the previous error: an answer, not a dropped link.
  let refused = null;
  guardFetch(endpoint, (status, text) => {
    refused = { status };
    say(text || `The server refused the upload (HTTP ${status}).`, "error");
  });

  const uppy = new Uppy({
    id: "film-source",
    autoProceed: false,
    restrictions: {
      maxNumberOfFiles: 1,
      allowedFileTypes: root.dataset.extensions.split(",").map((e) => `.${e}`),
    },
  });
  uppy.use(Dashboard, {
    target: root.querySelector(".film-uploader-dashboard"),
    inline: true,
    height: 300,
    width: "100%",
    proudlyDisplayPoweredByUppy: false,
    showProgressDetails: true, // percent, speed and time left
    note: "The original video; it goes straight to storage in parts and resumes after a drop.",
  });
  uppy.use(AwsS3, {
    endpoint,
    shouldUseMultipart: true,
    // Parts in flight at once (sign requests included). Two keep the link busy while the
    // next part is signed; more were no faster on a 2-core machine (bench/upload.py).
    limit: 2,
    getChunkSize: () => partSize,
    uploadPartBytes: pacedUploadPartBytes(),
  });

  uppy.on("file-added", (file) => {
    uppy.setFileMeta(file.id, { size: file.size });
    // A reload (or a new tab) picks the same file again: carry on with its upload, which
    // lists the parts storage holds and sends only the rest.
    const saved = localStorage.getItem(resumeKey(endpoint, file));
    if (saved) {
      uppy.setFileState(file.id, { s3Multipart: JSON.parse(saved) });
      say("The upload of this file begun earlier carries on: only the parts not yet in " +
        "storage are sent.", "info");
    }
  });
  uppy.on("s3-multipart:part-uploaded", (file) => {
    const current = uppy.getFile(file.id);
    if (current && current.s3Multipart) {
      localStorage.setItem(resumeKey(endpoint, current), JSON.stringify(current.s3Multipart));
    }
  });
  // A connection down longer than Uppy's own retries (about 9 s) fails the upload: retry
  // once the browser is back online (the retry lists the parts S3 already holds and sends
  // only the rest).
  uppy.on("upload-error", (file) => {
    const why = refused;
    refused = null;
    const current = uppy.getFile(file.id);
    if (why && why.status === 404 && current && current.s3Multipart) {
      // The saved upload is gone (expired, aborted, or finished elsewhere): begin anew
      // rather than ask for it again and again.
      localStorage.removeItem(resumeKey(endpoint, current));
      uppy.setFileState(file.id, { s3Multipart: undefined });
      say("The upload begun earlier has expired; this file is sent again from the start.",
        "warning");
      setTimeout(() => uppy.retryUpload(file.id), 0);
      return;
    }
    if (why && why.status < 500) return; // refused in plain words (shown): a retry would be too
    say("The connection dropped; the upload resumes when it is back.", "warning");
    const again = () => setTimeout(() => uppy.retryUpload(file.id), RETRY_MS);
    if (navigator.onLine) again();
    else window.addEventListener("online", again, { once: true });
  });
  uppy.on("file-removed", (file) => localStorage.removeItem(resumeKey(endpoint, file)));
  uppy.on("upload-success", (file, response) => {
    localStorage.removeItem(resumeKey(endpoint, file));
    if (mode === "add") {
      document.getElementById("id_source_upload").value = response.body.location;
      say("Uploaded. Save the film to check the file and start processing.", "success");
    } else {
      say("Uploaded and checked: processing has started.", "success");
      document.dispatchEvent(new CustomEvent("affea:source-uploaded"));
    }
  });
  root.uppy = uppy; // for the browser test and the console
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-film-uploader]").forEach(start);
});
