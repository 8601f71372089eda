// The embed page (/api/embed/<id>): plays one video, tracked by the SDK (window.MediaTracker).
// HLS plays through hls.js where the browser has Media Source Extensions, natively where it has
// neither (Safari on iPhone); a video whose HLS ladder is not ready yet shows that it is being
// prepared; a video offered without HLS plays its original file. Keys: Space/K play or pause,
// arrows seek 5 s and change the volume, F fullscreen.
"use strict";

(function () {
  const PROCESSING_RECHECK_MS = 60000;
  const video = document.getElementById("player");
  const state = document.getElementById("state");
  const config = JSON.parse(document.getElementById("embed-config").textContent);
  const apiUrl = new URL("../../", window.location.href).href; // this page is <api>/api/embed/<id>

  function say(text) {
    state.textContent = text;
    state.hidden = !text;
  }

  function track(hls) {
    return window.MediaTracker.attach(video, {
      apiUrl: apiUrl,
      videoId: config.videoId,
      referer: document.referrer, // the page this player is embedded in
      hls: hls,
    });
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error("could not load " + src));
      document.head.append(script);
    });
  }

  function playWithHlsJs(url) {
    const hls = new window.Hls({ capLevelToPlayerSize: true }); // no rung larger than the frame shows
    hls.loadSource(url);
    hls.attachMedia(video);
    track(hls);
  }

  function playNatively(url) {
    video.src = url;
    track(null);
  }

  function playHls(url) {
    const mediaSource = window.ManagedMediaSource || window.MediaSource;
    if (config.hlsScript && mediaSource) {
      loadScript(config.hlsScript)
        .then(() => (window.Hls.isSupported() ? playWithHlsJs(url) : playNatively(url)))
        .catch(() => say("The player could not be loaded. Reload the page to try again."));
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      playNatively(url);
    } else {
      say("This browser cannot play this video.");
    }
  }

  function start() {
    if (config.playbackUrl) {
      playHls(config.playbackUrl);
    } else if (config.processingStatus === "processing") {
      say("This video is being prepared. It will play here in a few minutes.");
      window.setTimeout(() => window.location.reload(), PROCESSING_RECHECK_MS);
    } else if (config.processingStatus === "failed") {
      say("This video cannot be played.");
    } else {
      playNatively(config.streamUrl);
    }
  }

  function seekBy(seconds) {
    const end = Number.isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.min(end, Math.max(0, video.currentTime + seconds));
  }

  function volumeBy(step) {
    video.muted = false;
    video.volume = Math.min(1, Math.max(0, Math.round((video.volume + step) * 10) / 10));
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (video.requestFullscreen) video.requestFullscreen().catch(() => {});
  }

  function togglePlay() {
    if (video.paused) video.play().catch(() => {});
    else video.pause();
  }

  const KEYS = {
    " ": togglePlay,
    k: togglePlay,
    ArrowLeft: () => seekBy(-5),
    ArrowRight: () => seekBy(5),
    ArrowUp: () => volumeBy(0.1),
    ArrowDown: () => volumeBy(-0.1),
    f: toggleFullscreen,
  };

  // The page's keys, wherever the focus is in the frame: taken first (capture) and kept from the
  // native controls, which would otherwise act on the same key press in their own way.
  function onKey(event) {
    const action = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.type === "keydown") action();
  }

  for (const type of ["keydown", "keypress", "keyup"]) window.addEventListener(type, onKey, true);
  video.addEventListener("error", () => say("This video could not be played."));
  start();
})();
