// MediaTracker: the Media API's tracking contract and quality-of-experience measurements for one
// <video> element. This ES module is the one source of both files the API serves: `make assets`
// builds /api/sdk/tracker.js (a classic script defining window.MediaTracker) and
// /api/sdk/tracker.mjs (this module) from it with esbuild. No dependencies. See docs/sdk.md.
//
//   const handle = MediaTracker.attach(video, { apiUrl: "https://api.example", videoId: 42 });
//
// Every figure sent is cumulative for the view (watch time, rebuffer count and time), so a retry
// or a late delivery never counts anything twice: the server keeps the largest value.

const BEAT_MS = 10000;
const MIN_SEEK_SECONDS = 0.5;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60000;
const RETRIED = [0, 429, 502, 503, 504]; // 0: the request never got an answer
const MEDIA_ERRORS = ["", "MEDIA_ERR_ABORTED", "MEDIA_ERR_NETWORK", "MEDIA_ERR_DECODE", "MEDIA_ERR_SRC_NOT_SUPPORTED"];
const attached = new WeakMap();

const round = (value) => Math.round(value * 100) / 100;
const clock = () => performance.now();
// When the element fired `event`, on this clock: the browser stamps an event as it queues it, but a
// listener runs after those added before it (hls.js's, the page's) and whatever else keeps the page
// busy, tens of ms late and more on a loaded device, so two listeners reading the clock disagree.
// A stamp that is not on this clock (0, or an epoch time in an old browser) gives way to the clock.
const firedAt = (event) => (event && event.timeStamp > 0 && event.timeStamp <= clock() ? event.timeStamp : clock());

/**
 * Track `video` for the video `options.videoId` of the API at `options.apiUrl` (its origin, as in
 * MEDIA_API_URL). Options: `token` (an access token: the view is the signed-in user's), `consent`
 * (true: the user agreed that the view may carry their user id), `hls` (an hls.js instance playing
 * the element: its fatal errors and renditions are measured), `referer` (the page the player is on:
 * `location.href` unless given; empty sends none). Attaching the same element again returns the same handle: one view
 * per element and page load.
 */
export function attach(video, options) {
  if (attached.has(video)) return attached.get(video);
  const endpoint = String(options.apiUrl || "").replace(/\/+$/, "") + "/api/track/";
  const videoId = options.videoId;
  const hls = options.hls;

  let view = null; // {viewId, viewToken} once the API answered
  let creating = false;
  let stopped = false; // the API refused the view, or detach() was called
  let queue = []; // events and the latest heartbeat, in the order they became due
  let sending = false;
  let flushTimer = 0;
  let retryAt = 0;
  let backoff = 0;

  // Measurements: seconds played, the last position played, quality of experience.
  let watched = 0;
  let lastPosition = video.currentTime || 0;
  let lastTickAt = clock();
  let requestedAt = 0;
  let startupMs = null;
  let stallStartedAt = 0;
  let stalls = 0;
  let stalledMs = 0;
  let errorCode = null;
  let bitrateKbps = null;
  let height = null;
  let seekingTo = null; // where the viewer's seek under way goes

  function played() {
    // Count what the element played since the last look; a jump (a seek, a loop) counts nothing.
    if (video.seeking) return; // "seeked" takes the new position
    const at = clock();
    const position = video.currentTime;
    const advance = position - lastPosition;
    const elapsed = (at - lastTickAt) / 1000;
    if (advance > 0 && advance <= elapsed * Math.max(1, video.playbackRate) + 1) watched += advance;
    lastPosition = position;
    lastTickAt = at;
  }

  function endStall() {
    if (stallStartedAt) stalledMs += clock() - stallStartedAt;
    stallStartedAt = 0;
  }

  function qoe() {
    const figures = {
      rebufferCount: stalls,
      rebufferMs: Math.round(stalledMs + (stallStartedAt ? clock() - stallStartedAt : 0)),
    };
    if (startupMs !== null) figures.startupTimeMs = startupMs;
    if (errorCode) figures.errorCode = errorCode;
    if (bitrateKbps) figures.bitrateKbps = bitrateKbps;
    if (height) figures.height = height;
    return figures;
  }

  function heartbeat(ended) {
    const beat = { kind: "heartbeat", watchTimeSeconds: round(watched), position: round(lastPosition), qoe: qoe() };
    if (ended) beat.ended = true;
    return beat;
  }

  function event(eventType, position) {
    return { kind: "event", videoId: videoId, eventType: eventType, timestamp: round(position) };
  }

  function due(item) {
    if (stopped) return;
    if (item.kind === "heartbeat") queue = queue.filter((queued) => queued.kind !== "heartbeat"); // the newest says it all
    const last = queue[queue.length - 1];
    if (last && last.eventType === "seek" && item.eventType === "seek") queue.pop(); // scrubbing: where it landed
    queue.push(item);
    if (!view) return createView();
    if (!flushTimer) flushTimer = setTimeout(flush, 0); // what else becomes due in this task goes along
  }

  function post(path, body) {
    const headers = { "Content-Type": "text/plain;charset=UTF-8" }; // a simple request: no preflight
    if (options.token) headers.Authorization = "Bearer " + options.token;
    return fetch(endpoint + path, { method: "POST", body: JSON.stringify(body), headers: headers, keepalive: true })
      .then((response) => response.json().then((answer) => [response.status, answer, response], () => [response.status, null, response]))
      .catch(() => [0, null, null]);
  }

  function retryLater(response) {
    const seconds = response && Number(response.headers.get("Retry-After"));
    backoff = Math.min(MAX_BACKOFF_MS, backoff ? backoff * 2 : FIRST_BACKOFF_MS);
    const wait = seconds > 0 ? seconds * 1000 : backoff * (0.5 + Math.random() / 2);
    retryAt = clock() + wait;
    return wait;
  }

  function createView() {
    if (creating || view || stopped) return;
    creating = true;
    const body = { videoId: videoId };
    const referer = "referer" in options ? options.referer : location.href;
    if (referer) body.referer = referer;
    if (options.consent) body.consent = true;
    post("view", body).then(([status, answer, response]) => {
      creating = false;
      if (status === 200 && answer) {
        view = { viewId: answer.viewId, viewToken: answer.viewToken };
        backoff = 0;
        due(heartbeat(false)); // reports even if the viewer leaves before the first frame
      } else if (RETRIED.includes(status)) {
        setTimeout(createView, retryLater(response));
      } else {
        stopped = true; // an unknown or unpublished video: nothing to track
        queue = [];
      }
    });
  }

  // Items that share a position go in one request (a batch when several); a batch is one position
  // sample per view, so the heartbeat before a seek and the seek itself go in two requests.
  function nextGroup() {
    let count = 1;
    while (count < queue.length && position(queue[count]) === position(queue[0])) count += 1;
    return queue.splice(0, count);
  }

  function position(item) {
    return item.kind === "heartbeat" ? item.position : item.timestamp;
  }

  function withView(item) {
    return Object.assign({ viewId: view.viewId, viewToken: view.viewToken }, item);
  }

  function request(group) {
    if (group.length > 1) return ["batch", { events: group.map(withView) }];
    const { kind, ...fields } = withView(group[0]);
    return [kind, fields];
  }

  function flush() {
    flushTimer = 0;
    if (sending || !view || !queue.length) return;
    const wait = retryAt - clock();
    if (wait > 0) return void (flushTimer = setTimeout(flush, wait));
    sending = true;
    const group = nextGroup();
    const [path, body] = request(group);
    post(path, body).then(([status, , response]) => {
      sending = false;
      if (RETRIED.includes(status)) {
        // Back in front; a heartbeat that became due meanwhile replaces the one that failed.
        const newer = queue.some((queued) => queued.kind === "heartbeat");
        queue = group.filter((item) => item.kind !== "heartbeat" || !newer).concat(queue);
        retryLater(response);
      } else {
        backoff = 0;
        retryAt = 0;
      }
      if (queue.length) flushTimer = setTimeout(flush, 0);
    });
  }

  // The page is going away: what is due, and a heartbeat that ends the view, as a beacon.
  function leave(ended) {
    if (!view || stopped) return;
    played();
    endStall();
    const items = queue.filter((item) => item.kind !== "heartbeat").concat(heartbeat(ended));
    queue = [];
    const [path, body] = request(items);
    const sent = navigator.sendBeacon && navigator.sendBeacon(endpoint + path, JSON.stringify(body));
    if (!sent) post(path, body);
  }

  const listeners = {
    play(fired) {
      if (!requestedAt && startupMs === null) requestedAt = firedAt(fired);
      lastTickAt = clock();
      due(event("play", video.currentTime));
    },
    playing(fired) {
      if (startupMs === null && requestedAt) startupMs = Math.round(Math.max(0, firedAt(fired) - requestedAt));
      if (!hls && video.videoHeight) height = video.videoHeight; // hls.js says which rendition plays
      endStall();
      lastTickAt = clock();
    },
    waiting() {
      if (startupMs !== null && !video.seeking && !stallStartedAt) {
        stallStartedAt = clock();
        stalls += 1;
      }
    },
    timeupdate() {
      if (!video.paused) played();
    },
    pause() {
      if (video.ended) return; // the element pauses when it ends: "ended" reports it
      played();
      endStall();
      due(heartbeat(false));
      due(event("pause", video.currentTime));
    },
    seeking() {
      // currentTime is already the target: report what was played up to the jump first. A player's
      // own adjustment (to the first frame, before it plays) is no seek.
      endStall();
      if (view && startupMs !== null && Math.abs(video.currentTime - lastPosition) >= MIN_SEEK_SECONDS) {
        seekingTo = video.currentTime;
        due(heartbeat(false));
      }
    },
    seeked() {
      lastPosition = video.currentTime;
      lastTickAt = clock();
      if (seekingTo !== null) due(event("seek", seekingTo));
      seekingTo = null;
    },
    ended() {
      played();
      endStall();
      due(heartbeat(true));
      due(event("complete", video.currentTime));
    },
    error() {
      if (!video.error) return;
      failed(MEDIA_ERRORS[video.error.code] || "MEDIA_ERR_" + video.error.code);
    },
  };

  function failed(code) {
    if (errorCode) return;
    errorCode = code;
    endStall();
    due(heartbeat(false)); // creates the view if the source failed before play: a failed playback
  }

  const hlsListeners = {
    hlsError(name, data) {
      if (data.fatal) failed("hls:" + data.type + ":" + data.details);
    },
    hlsLevelSwitched(name, data) {
      const level = hls.levels[data.level];
      if (!level) return;
      bitrateKbps = Math.round(level.bitrate / 1000);
      height = level.height;
    },
  };

  function onPageHide() {
    leave(true);
    stopped = true;
  }

  function onVisibility() {
    if (document.visibilityState === "hidden") leave(false);
  }

  const beats = setInterval(() => {
    if (!video.paused && !video.ended && view) {
      played();
      due(heartbeat(false));
    }
  }, BEAT_MS);

  for (const name in listeners) video.addEventListener(name, listeners[name]);
  if (hls) for (const name in hlsListeners) hls.on(name, hlsListeners[name]);
  addEventListener("pagehide", onPageHide);
  document.addEventListener("visibilitychange", onVisibility);
  if (!video.paused) listeners.play(); // attached while already playing
  if (video.error) listeners.error();

  const handle = {
    get viewId() {
      return view ? view.viewId : null;
    },
    /** Stop tracking this element; the view ends with a last heartbeat. */
    detach() {
      clearInterval(beats);
      clearTimeout(flushTimer);
      for (const name in listeners) video.removeEventListener(name, listeners[name]);
      if (hls) for (const name in hlsListeners) hls.off(name, hlsListeners[name]);
      removeEventListener("pagehide", onPageHide);
      document.removeEventListener("visibilitychange", onVisibility);
      leave(true);
      stopped = true;
      attached.delete(video);
    },
  };
  attached.set(video, handle);
  return handle;
}
