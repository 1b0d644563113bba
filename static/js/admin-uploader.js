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

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

// Companion's client calls plain fetch; our endpoints are admin views, so they need the
// CSRF header, and their plain-words error is what staff must read (not "Bad Request").
function guardFetch(endpoint, showError) {
  const original = window.fetch.bind(window);
  window.fetch = async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    if (!url.startsWith(endpoint)) return original(input, init);
    const headers = new Headers(init.headers || {});
    headers.set("X-CSRFToken", csrfToken());
    const response = await original(input, { ...init, headers, credentials: "same-origin" });
    if (!response.ok) {
      const body = await response.clone().json().catch(() => ({}));
      if (body.error) showError(body.error);
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
  guardFetch(endpoint, (text) => say(text, "error"));

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
    companionEndpoint: endpoint,
    shouldUseMultipart: true,
    limit: 1,
    getChunkSize: () => partSize,
  });

  uppy.on("file-added", (file) => {
    uppy.setFileMeta(file.id, { size: file.size });
    // A reload (or a new tab) picks the same file again: carry on with its upload.
    const saved = localStorage.getItem(resumeKey(endpoint, file));
    if (saved) uppy.setFileState(file.id, { s3Multipart: JSON.parse(saved) });
  });
  uppy.on("s3-multipart:part-uploaded", (file) => {
    const current = uppy.getFile(file.id);
    if (current && current.s3Multipart) {
      localStorage.setItem(resumeKey(endpoint, current), JSON.stringify(current.s3Multipart));
    }
  });
  // A dropped connection fails the part in flight: retry once the browser is back online
  // (the retry lists the parts S3 already holds and sends only the rest).
  uppy.on("upload-error", (file) => {
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
