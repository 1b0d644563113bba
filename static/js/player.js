// Affea's film player: HLS with adaptive bitrate through hls.js (native HLS on Safari),
// falling back to the progressive fMP4 from video-url; resumes and reports progress.
(function () {
  "use strict";

  var video = document.getElementById("player");
  if (!video) return;

  var masterUrl = video.dataset.masterUrl;
  var videoUrl = video.dataset.videoUrl;
  var progressUrl = video.dataset.progressUrl;
  var start = parseFloat(video.dataset.start || "0") || 0;
  var lastSent = -1;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function sendProgress() {
    if (!progressUrl || !isFinite(video.currentTime)) return;
    var position = video.currentTime;
    if (isFinite(video.duration)) position = Math.min(position, video.duration);
    if (Math.abs(position - lastSent) < 1) return;
    lastSent = position;
    fetch(progressUrl, {
      method: "PUT",
      credentials: "same-origin",
      keepalive: true, // still delivered when the page is being closed
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ position: Math.max(0, position) })
    }).catch(function () { /* progress is best effort; the next report retries */ });
  }

  // Resume where the viewer stopped, unless that was (almost) the end.
  function resume() {
    if (start > 0 && (!isFinite(video.duration) || start < video.duration - 5)) {
      video.currentTime = start;
    }
  }

  // Presigned URLs expire: on a media error, fetch a fresh one and carry on where we were.
  function playProgressive() {
    var at = video.currentTime || start;
    return fetch(videoUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("video-url answered " + response.status);
        return response.json();
      })
      .then(function (body) {
        video.src = body.url;
        video.addEventListener("loadedmetadata", function seek() {
          video.removeEventListener("loadedmetadata", seek);
          if (at > 0) video.currentTime = at;
        });
      });
  }

  if (window.Hls && window.Hls.isSupported()) {
    var hls = new window.Hls({ startPosition: start > 0 ? start : -1 });
    hls.on(window.Hls.Events.ERROR, function (event, data) {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
      } else {
        hls.destroy();
        playProgressive();
      }
    });
    hls.loadSource(masterUrl);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = masterUrl;
    video.addEventListener("loadedmetadata", resume, { once: true });
  } else {
    playProgressive();
    video.addEventListener("error", function () {
      if (video.error && video.error.code === video.error.MEDIA_ERR_NETWORK) playProgressive();
    });
  }

  setInterval(function () { if (!video.paused) sendProgress(); }, 10000);
  video.addEventListener("pause", sendProgress);
  video.addEventListener("ended", sendProgress);
  window.addEventListener("pagehide", sendProgress);
})();
