// Affea's player behaviour over media-chrome's controls and hls-video-element (vendor/player):
// adaptive HLS over the master playlist (native HLS where hls.js cannot run), the progressive
// fMP4 from video-url as the fallback, resume and `?t=`, progress reports, and fresh signed
// URLs when the old ones expire, at the same position.
(function () {
  "use strict";

  var controller = document.getElementById("player");
  if (!controller) return;

  var data = controller.dataset;
  var start = parseFloat(data.start || "0") || 0;
  var tracks = JSON.parse(document.getElementById("player-tracks").textContent || "[]");
  var media = controller.querySelector("[slot=media]");
  var lastSent = -1;
  var recoveries = [];
  var resumeAt = start;
  var resumePlaying = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function sendProgress() {
    if (!data.progressUrl || !isFinite(media.currentTime) || media.currentTime === 0) return;
    var position = media.currentTime;
    if (isFinite(media.duration)) position = Math.min(position, media.duration);
    if (Math.abs(position - lastSent) < 1) return;
    lastSent = position;
    fetch(data.progressUrl, {
      method: "PUT",
      credentials: "same-origin",
      keepalive: true, // still delivered while the page is being closed
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ position: Math.max(0, position) })
    }).catch(function () { /* best effort: the next report carries the position */ });
  }

  // Seek to where playback should (re)start once the new source knows its duration.
  function onMetadata() {
    var at = resumeAt;
    var playing = resumePlaying;
    resumeAt = 0;
    resumePlaying = false;
    // A position in the last moments of the film starts it again from the beginning.
    var end = isFinite(media.duration) ? media.duration - Math.min(1, media.duration * 0.05) : Infinity;
    if (at > 0 && at < end) media.currentTime = at;
    if (playing) media.play().catch(function () {});
  }

  // Said in the player when it cannot go on, instead of a spinner that never ends.
  function fail(message) {
    var notice = document.getElementById("player-error");
    if (!notice) return;
    notice.textContent = message || "This film cannot be played right now. Reload the page to try again in a moment.";
    notice.hidden = false;
  }

  // A source whose signatures expired answers 403 (404 when a replaced source's files are
  // gone): load fresh URLs and carry on there.
  function reload(load) {
    var now = Date.now();
    recoveries = recoveries.filter(function (t) { return now - t < 30000; });
    if (recoveries.length >= 3) { // not an expiry: stop instead of looping, and say so
      fail();
      return false;
    }
    recoveries.push(now);
    resumeAt = media.currentTime || resumeAt;
    resumePlaying = !media.paused;
    load();
    return true;
  }

  function playProgressive() {
    return fetch(data.videoUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("video-url answered " + response.status);
        return response.json();
      })
      .then(function (body) { media.src = body.url; });
  }

  function useProgressive() {
    var video = document.createElement("video");
    video.setAttribute("slot", "media");
    video.setAttribute("playsinline", "");
    video.setAttribute("crossorigin", "anonymous");
    video.preload = "metadata";
    tracks.forEach(function (t) {
      var track = document.createElement("track");
      track.kind = "subtitles";
      track.srclang = t.language;
      track.label = t.label;
      track.src = t.url;
      video.appendChild(track);
    });
    resumeAt = media.currentTime || resumeAt;
    media.replaceWith(video);
    media = video;
    watchMedia();
    media.addEventListener("error", function () {
      var code = media.error && media.error.code;
      if (code === 2 || code === 4) reload(load); // network, or a 403 page
      else fail("Your browser could not decode this film.");
    });
    function load() { playProgressive().catch(function () { fail(); }); }
    load();
  }

  function hlsSupported() {
    var mse = window.ManagedMediaSource || window.MediaSource;
    return !!(mse && mse.isTypeSupported && mse.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"'));
  }

  // hls-video-element makes a new hls.js instance on each load: hook its errors.
  function watchHls() {
    var seen = null;
    var timer = setInterval(function () {
      var api = media.api;
      if (!api || api === seen) return;
      seen = api;
      api.on("hlsError", function (event, error) {
        var code = error.response && error.response.code;
        if (code === 403 || code === 404) {
          reload(function () { media.src = data.masterUrl + "?fresh=" + Date.now(); });
        } else if (error.fatal && error.type === "networkError") {
          clearInterval(timer);
          useProgressive(); // e.g. a film whose renditions predate stored HLS data
        } else if (error.fatal && error.type === "mediaError") {
          api.recoverMediaError();
        }
      });
    }, 25);
  }

  function watchMedia() {
    media.addEventListener("loadedmetadata", onMetadata);
    media.addEventListener("pause", sendProgress);
    media.addEventListener("ended", sendProgress);
  }

  watchMedia();
  if (media.localName === "hls-video" && (hlsSupported() || media.canPlayType("application/vnd.apple.mpegurl"))) {
    watchHls();
    media.src = data.masterUrl;
  } else {
    useProgressive();
  }

  setInterval(function () { if (!media.paused) sendProgress(); }, 10000);
  window.addEventListener("pagehide", sendProgress);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") sendProgress();
  });

})();
