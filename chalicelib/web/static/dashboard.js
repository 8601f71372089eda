// The analysts' dashboard: library figures and quality of experience, live and concurrent viewers,
// top videos, breakdowns by country, device, browser, OS and referrer host, schedules and failures,
// and per video its days, retention and referrers, for a chosen range of days in a chosen time zone,
// with or without team views. Everything comes from this API (URLs relative to /api/dashboard); the
// admin token stays in this tab's sessionStorage. Figures refresh while the page is open.
"use strict";

(function () {
  const TOKEN_KEY = "media-api-token";
  const REFRESH_EVERY_MS = 30000;
  const LIVE_EVERY_MS = 5000;
  const LIVE_SAMPLES_KEPT = 3 * 3600 * 1000 / LIVE_EVERY_MS; // three hours of samples
  const DAY_SECONDS = 86400;
  const $ = (id) => document.getElementById(id);
  const charts = {};
  window.dashboardCharts = charts; // each chart's uPlot, for a look at its scales from the console
  const state = { video: null, features: null, liveSamples: [[], []], timers: [], busy: false, again: false };

  // The metrics a breakdown can show: wire name -> label and how a value reads.
  const METRICS = {
    views: ["Views", count],
    uniqueViewers: ["Unique viewers", count],
    watchTime: ["Watch time", duration],
    completionRate: ["Completion", percent],
    plays: ["Plays", count],
    startupTimeP50Ms: ["Startup time (median)", milliseconds],
    startupTimeP95Ms: ["Startup time (95th percentile)", milliseconds],
    rebufferRatio: ["Rebuffering (share of watch time)", fraction],
    rebuffersPerHour: ["Rebuffers per hour", decimal],
    playbackFailureRate: ["Playback failures", fraction],
    exitsBeforeStartRate: ["Exits before start", fraction],
  };
  const QOE = ["plays", "startupTimeP50Ms", "startupTimeP95Ms", "rebufferRatio", "rebuffersPerHour",
    "playbackFailureRate", "exitsBeforeStartRate"];

  // ---- readable units -------------------------------------------------------------------------------

  function missing(value) {
    return value === null || value === undefined;
  }

  function count(value) {
    return missing(value) ? "–" : Number(value).toLocaleString();
  }

  function decimal(value) {
    return missing(value) ? "–" : Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
  }

  // 1 min 53 s, 3 h 12 min; whole hours only once they are many.
  function duration(seconds) {
    if (missing(seconds)) return "–";
    const total = Math.round(seconds);
    if (total < 60) return total + " s";
    if (total < 3600) {
      const rest = total % 60;
      return Math.floor(total / 60) + " min" + (rest ? " " + rest + " s" : "");
    }
    if (total < 100 * 3600) {
      const minutes = Math.floor((total % 3600) / 60);
      return Math.floor(total / 3600) + " h" + (minutes ? " " + minutes + " min" : "");
    }
    return Math.round(total / 3600).toLocaleString() + " h";
  }

  function milliseconds(value) {
    if (missing(value)) return "–";
    return value < 1000 ? Math.round(value) + " ms" : (value / 1000).toFixed(2) + " s";
  }

  function percent(value) {
    return missing(value) ? "–" : Number(value).toLocaleString(undefined, { maximumFractionDigits: 1 }) + " %";
  }

  function fraction(value) {
    return missing(value) ? "–" : percent(value * 100);
  }

  // ---- range, zone and team ------------------------------------------------------------------------

  function zone() {
    return $("tz").value || "UTC";
  }

  function todayIn(tz) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  }

  function addDays(day, days) {
    return new Date(Date.parse(day + "T00:00:00Z") + days * DAY_SECONDS * 1000).toISOString().slice(0, 10);
  }

  function pickDays(days) {
    const today = todayIn(zone());
    $("start").value = days ? addDays(today, 1 - days) : "";
    $("end").value = days ? today : "";
  }

  // The query every report takes: startDate, endDate, tz, includeTeam (empty dates: the report's defaults).
  function rangeQuery(extra) {
    const query = new URLSearchParams(extra || {});
    if ($("start").value) query.set("startDate", $("start").value);
    if ($("end").value) query.set("endDate", $("end").value);
    return withTeam(query, true);
  }

  function withTeam(query, zoned) {
    if (zoned) query.set("tz", zone());
    if ($("team").checked) query.set("includeTeam", "true");
    return query.toString();
  }

  function rangeLabel() {
    const start = $("start").value;
    const end = $("end").value;
    const days = start || end ? (start || "first view") + " – " + (end || "today") : "all time";
    return days + " · " + zone() + ($("team").checked ? " · team views included" : "");
  }

  function when(instant) {
    if (!instant) return "–";
    return new Intl.DateTimeFormat(undefined, { timeZone: zone(), dateStyle: "medium", timeStyle: "short" })
      .format(new Date(instant));
  }

  function fillZones() {
    const own = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    const names = ["UTC"].concat(Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [own]);
    const select = $("tz");
    new Set(names).forEach((name) => select.add(new Option(name, name)));
    select.value = names.includes(own) ? own : "UTC";
  }

  // ---- talking to the API --------------------------------------------------------------------------

  function token() {
    return window.sessionStorage.getItem(TOKEN_KEY);
  }

  // #token=<JWT> signs in once; the fragment never reaches a server and is removed from the address bar.
  function takeTokenFromFragment() {
    const match = /(?:^|&)token=([^&]+)/.exec(window.location.hash.slice(1));
    if (match) {
      window.sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  async function api(path) {
    if (!token()) throw new Error("signed out"); // a chain of calls still running after "Sign out" stops here
    const response = await fetch(new URL(path, window.location.href), {
      headers: { Authorization: "Bearer " + token() },
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401 || response.status === 403) {
      signOut(body.message || "This token is not an admin's token.");
      throw new Error("signed out");
    }
    if (!response.ok) {
      throw new Error(path.split("?")[0] + ": " + response.status + " " + (body.message || ""));
    }
    return body;
  }

  // What this API offers, from its own OpenAPI document: a panel whose route is missing says
  // "not available" instead of asking for it (a 404 would be a console error).
  async function features() {
    if (!state.features) {
      const paths = Object.keys((await api("openapi.json")).paths || {});
      state.features = {
        breakdowns: paths.some((path) => path.endsWith("/videos/analytics/breakdown")),
        videoBreakdowns: paths.some((path) => path.endsWith("/analytics/breakdown") && path.includes("{")),
        libraryHours: paths.some((path) => path.endsWith("/videos/analytics/report")),
      };
    }
    return state.features;
  }

  // ---- drawing -------------------------------------------------------------------------------------

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function problem(message) {
    $("problem").textContent = message || "";
    show("problem", Boolean(message));
  }

  // A cell shows a readable text and keeps the raw value for the CSV export.
  function cell(row, text, className, raw) {
    const td = row.insertCell();
    td.textContent = missing(text) ? "–" : String(text);
    td.dataset.raw = missing(raw) ? td.textContent : String(raw);
    if (className) td.className = className;
    return td;
  }

  function fill(tableId, items, render, emptyText) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren();
    if (!items.length) {
      const td = cell(body.insertRow(), emptyText || "nothing", "empty");
      td.colSpan = $(tableId).tHead.rows[0].cells.length;
      return;
    }
    items.forEach((item) => render(body.insertRow(), item));
  }

  function videoLink(row, id, title) {
    const td = row.insertCell();
    td.dataset.raw = title || "video " + id;
    const link = document.createElement("a");
    link.href = "#video=" + id;
    link.textContent = title || "video " + id;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openVideo(id).catch(report);
    });
    td.append(link);
  }

  // Figures as boxes: [label, readable value, definition, raw value].
  function boxes(targetId, items) {
    $(targetId).replaceChildren(
      ...items.map(([label, value, title, raw]) => {
        const box = document.createElement("div");
        box.dataset.raw = missing(raw) ? "" : String(raw);
        const strong = document.createElement("strong");
        strong.textContent = value;
        const small = document.createElement("small");
        small.textContent = label;
        if (title) box.title = title;
        box.append(strong, small);
        return box;
      })
    );
  }

  function figures(targetId, answer) {
    boxes(targetId, [
      ["views", count(answer.totalViews)],
      ["unique viewers", count(answer.uniqueViewers) + (answer.uniqueViewersExact ? "" : " (est.)")],
      ["watch time", duration(answer.totalWatchTimeSeconds)],
      ["average watch time", duration(answer.averageWatchTimeSeconds)],
      ["completion", percent(answer.completionRate)],
    ]);
  }

  function qoeFigures(targetId, answer) {
    const qoe = answer.qoe;
    if (!qoe) {
      const note = document.createElement("p");
      note.className = "empty";
      note.textContent = "Quality of experience is not available from this API.";
      $(targetId).replaceChildren(note);
      return;
    }
    boxes(targetId, QOE.map((key) => [METRICS[key][0].toLowerCase(), METRICS[key][1](qoe[key]),
      (answer.definitions || {})[key], qoe[key]]));
    Array.from($(targetId).children).forEach((box, index) => { box.dataset.key = QOE[index]; });
  }

  // A uPlot chart. x ranges are set here, never guessed: one day is drawn as one day (half a step each
  // side), counts start at 0, and time axes read in the chosen zone.
  function chart(targetId, options, xs, ys) {
    const target = $(targetId);
    if (charts[targetId]) charts[targetId].destroy();
    const step = options.step || 1;
    const low = xs.length ? Math.min(...xs) : 0;
    const high = xs.length ? Math.max(...xs) : step;
    const xRange = options.xRange || [low - step / 2, high + step / 2];
    const yMax = options.yMax || Math.max(1, ...ys.filter((y) => !missing(y))) * 1.15;
    const series = {
      label: options.label,
      stroke: "#2f6fdb",
      fill: "rgba(47,111,219,0.12)",
      width: 2,
      points: { show: xs.length < 60, size: 6 },
    };
    if (options.stepped) series.paths = uPlot.paths.stepped({ align: 1 });
    const tz = zone();
    charts[targetId] = new uPlot(
      {
        width: Math.max(280, target.clientWidth || 600),
        height: options.height || 220,
        tzDate: options.dayZone ? (ts) => uPlot.tzDate(new Date(ts * 1000), options.dayZone)
          : (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
        scales: {
          x: { time: options.time, range: () => xRange },
          y: { range: () => [0, yMax] },
        },
        series: [{ label: options.xLabel, value: options.xValue }, series],
        axes: [
          { label: options.xLabel, labelSize: 20, values: options.xValues, incrs: options.xIncrs },
          { label: options.yLabel, labelSize: 20, size: 60, values: options.yValues, incrs: options.yIncrs },
        ],
        legend: { show: true },
      },
      [xs, ys],
      target
    );
  }

  // Days are calendar days of the report's zone: drawn at UTC midnights, read in UTC, a tick per day at most.
  function dayChart(targetId, days) {
    const dayName = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", month: "short", day: "numeric" });
    chart(
      targetId,
      { label: "views", time: true, step: DAY_SECONDS, dayZone: "UTC", xLabel: "day", yLabel: "views",
        xIncrs: [1, 2, 7, 14, 28, 91, 182, 364].map((n) => n * DAY_SECONDS),
        xValues: (u, splits) => splits.map((ts) => dayName.format(new Date(ts * 1000))),
        yIncrs: COUNT_INCRS, yValues: integers,
        xValue: (u, ts) => (missing(ts) ? "–" : new Date(ts * 1000).toISOString().slice(0, 10)) },
      days.map((day) => Date.parse(day.date + "T00:00:00Z") / 1000),
      days.map((day) => day.views)
    );
  }

  // ---- the panels ----------------------------------------------------------------------------------

  async function loadLibrary() {
    const overview = await api("videos/analytics/overview?" + withTeam(new URLSearchParams(), true));
    figures("totals", overview);
    qoeFigures("library-qoe", overview);
    dayChart("library-chart", overview.viewsByDay);
    $("as-of").textContent = "as of " + when(overview.asOf) + " " + zone();
    await loadLibraryHours();
    const top = await api("videos/analytics/top?" + withTeam(new URLSearchParams({ limit: "10" }), false));
    fill("top", top.videos, (row, video) => {
      videoLink(row, video.id, video.title);
      cell(row, count(video.views), "number", video.views);
      cell(row, count(video.uniqueViewers), "number", video.uniqueViewers);
      cell(row, duration(video.watchTimeSeconds), "number", video.watchTimeSeconds);
      cell(row, percent(video.completionRate), "number", video.completionRate);
    });
    return top.videos;
  }

  // The library's busiest minute of each of the last 24 hours (an API without the library report: none).
  async function loadLibraryHours() {
    const offered = await features();
    show("library-concurrent", offered.libraryHours);
    if (!offered.libraryHours) return;
    const hours = await api("videos/analytics/report?" + withTeam(new URLSearchParams({
      startDate: addDays(todayIn(zone()), -1), endDate: todayIn(zone()), interval: "hour" }), true));
    concurrentChart("library-concurrent-chart", hours.viewsByHour);
  }

  function concurrentChart(id, points) {
    const since = Date.now() / 1000 - DAY_SECONDS;
    const recent = points.filter((point) => Date.parse(point.hour) / 1000 >= since - 3600);
    chart(
      id,
      { label: "concurrent viewers", time: true, stepped: true, step: 3600, yValues: integers, yIncrs: COUNT_INCRS,
        xRange: [since, Date.now() / 1000], xLabel: "hour (" + zone() + ")", yLabel: "viewers" },
      recent.map((point) => Date.parse(point.hour) / 1000),
      recent.map((point) => point.peakConcurrentViewers)
    );
  }

  async function loadLive() {
    const live = await api("videos/analytics/live?" + withTeam(new URLSearchParams({ limit: "10" }), false));
    $("live-total").textContent = live.concurrentViewers + " now";
    fill("live", live.videos, (row, video) => {
      videoLink(row, video.id, video.title);
      cell(row, video.concurrentViewers, "number");
    });
    const [xs, ys] = state.liveSamples;
    // Viewers came or went: the other figures have moved too, so they are asked for now, not at the next poll.
    if (ys.length && ys[ys.length - 1] !== live.concurrentViewers) refresh().catch(report);
    xs.push(Date.now() / 1000);
    ys.push(live.concurrentViewers);
    if (xs.length > LIVE_SAMPLES_KEPT) {
      xs.shift();
      ys.shift();
    }
    const now = Date.now() / 1000;
    chart("live-chart", { label: "viewers now", time: true, stepped: true, height: 160, yIncrs: COUNT_INCRS,
      yValues: integers, xRange: [Math.min(xs[0], now - 300), now] }, xs.slice(), ys.slice());
    if (state.video) await loadVideoLive(state.video);
  }

  async function loadVideoLive(id) {
    const one = await api("videos/" + id + "/analytics/live?" + withTeam(new URLSearchParams(), false));
    if (state.video === id) $("video-live").textContent = one.concurrentViewers;
  }

  // Counts are whole: their axes step by 1, 2, 5, 10...
  const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8];

  function integers(u, splits) {
    return splits.map((value) => (Number.isInteger(value) ? String(value) : ""));
  }

  async function loadSchedules() {
    const upcoming = await api("videos/schedules/upcoming?limit=10");
    fill("upcoming", upcoming.schedules, (row, schedule) => {
      cell(row, when(schedule.scheduledFor), null, schedule.scheduledFor);
      videoLink(row, schedule.videoId, schedule.title);
      cell(row, schedule.action);
    });
    const failed = await api("videos/schedules/failed?limit=10");
    const ingest = await api("videos/ingest-failures?limit=10");
    const failures = failed.schedules
      .map((s) => ({ at: s.executedAt || s.scheduledFor, what: s.action + " of " + (s.title || "video " + s.videoId), why: s.error }))
      .concat(ingest.failures.map((f) => ({ at: f.failedAt, what: "upload " + f.key, why: f.reason })))
      .sort((a, b) => (a.at < b.at ? 1 : -1))
      .slice(0, 10);
    fill("failures", failures, (row, failure) => {
      cell(row, when(failure.at), null, failure.at);
      cell(row, failure.what);
      cell(row, failure.why);
    });
  }

  function valueName(by, value) {
    if (missing(value) || value === "") return "unknown";
    if (by === "country" && /^[A-Z]{2}$/.test(value) && window.Intl && Intl.DisplayNames) {
      try {
        return value + " · " + new Intl.DisplayNames(["en"], { type: "region" }).of(value);
      } catch (error) {
        return value;
      }
    }
    return value;
  }

  async function loadBreakdowns() {
    const offered = await features();
    const scope = $("breakdown-scope").value;
    const metric = $("breakdown-metric").value;
    const available = scope === "video" ? offered.videoBreakdowns : offered.breakdowns;
    show("breakdown-missing", !available);
    $("breakdown-range").textContent = rangeLabel();
    const tables = Array.from(document.querySelectorAll("#breakdowns table[data-by]"));
    const base = scope === "video" && state.video ? "videos/" + state.video + "/analytics/breakdown?"
      : "videos/analytics/breakdown?";
    await Promise.all(tables.map(async (table) => {
      table.tHead.querySelector("th.metric").textContent = METRICS[metric][0];
      if (!available) {
        fill(table.id, [], null, "not available");
        return;
      }
      const answer = await api(base + rangeQuery({ by: table.dataset.by, metric: metric }));
      fill(table.id, answer.rows, (row, item) => {
        cell(row, valueName(answer.by, item.value), null, missing(item.value) ? "" : item.value);
        cell(row, METRICS[metric][1](item[metric]), "number", missing(item[metric]) ? "" : item[metric]);
      });
    }));
  }

  async function openVideo(id) {
    state.video = id;
    const [, report, retention, video, hours] = await Promise.all([
      loadVideoLive(id).then(() => null),
      api("videos/" + id + "/analytics?" + rangeQuery()),
      api("videos/" + id + "/analytics/retention?" + retentionQuery()),
      api("videos/" + id),
      api("videos/" + id + "/analytics?" + withTeam(new URLSearchParams({
        startDate: addDays(todayIn(zone()), -1), endDate: todayIn(zone()), interval: "hour" }), true)),
    ]);
    if (state.video !== id) return; // another video was opened meanwhile
    $("video-title").textContent = video.title || video.filename;
    $("video-range").textContent = rangeLabel();
    const scope = $("breakdown-scope").options[1];
    scope.disabled = false;
    scope.textContent = video.title || "video " + id;
    figures("video-totals", report);
    qoeFigures("video-qoe", report);
    show("video", true);
    dayChart("video-chart", report.viewsByDay);
    chart(
      "retention-chart",
      { label: "still watching", time: false, xRange: [0, 100], yMax: 100, xLabel: "position in the video (%)",
        yLabel: "share of views (%)", yValues: (u, splits) => splits.map((v) => v + " %"),
        xValue: (u, v) => (missing(v) ? "–" : v + " %") },
      retention.points.map((point) => point.percent),
      retention.points.map((point) => Math.round(point.ratio * 1000) / 10)
    );
    concurrentChart("concurrent-chart", hours.viewsByHour);
    fill("referrers", report.topReferrers, (row, referrer) => {
      cell(row, referrer.referer);
      cell(row, count(referrer.views), "number", referrer.views);
    });
    if ($("breakdown-scope").value === "video") await loadBreakdowns();
  }

  // Retention counts views by the UTC day they started; the picked local days are close enough.
  function retentionQuery() {
    const query = new URLSearchParams();
    if ($("start").value) query.set("startDate", $("start").value);
    if ($("end").value) query.set("endDate", $("end").value);
    return withTeam(query, false);
  }

  // ---- export --------------------------------------------------------------------------------------

  function csvField(text) {
    let value = String(text);
    if (/^[=+\-@\t\r]/.test(value) && Number.isNaN(Number(value))) value = "'" + value; // no formulas in a sheet
    return /[",\n\r]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
  }

  // The table as CSV (raw values: seconds, fractions, codes), downloaded from a Blob: nothing leaves the page.
  function exportTable(table) {
    const rows = [Array.from(table.tHead.rows[0].cells, (th) => th.textContent)];
    Array.from(table.tBodies[0].rows).forEach((tr) => {
      if (!tr.querySelector("td.empty")) rows.push(Array.from(tr.cells, (td) => td.dataset.raw || td.textContent));
    });
    const text = rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    const range = [$("start").value, $("end").value].filter(Boolean).join("_") || "all-time";
    const metric = table.dataset.by ? "-" + $("breakdown-metric").value : "";
    link.download = table.dataset.export + metric + "-" + range + ".csv";
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  function addExportButtons() {
    document.querySelectorAll("table[data-export]").forEach((table) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "export";
      button.textContent = "CSV";
      button.title = "Download this table as CSV";
      button.addEventListener("click", () => exportTable(table));
      const caption = table.createCaption();
      caption.append(button);
    });
  }

  // ---- life of the page ----------------------------------------------------------------------------

  function report(error) {
    if (error && error.message !== "signed out") problem(String(error.message || error));
  }

  function stopTimers() {
    state.timers.forEach((timer) => window.clearInterval(timer));
    state.timers = [];
  }

  function signOut(message) {
    window.sessionStorage.removeItem(TOKEN_KEY);
    stopTimers();
    show("board", false);
    show("controls", false);
    show("sign-out", false);
    show("sign-in", true);
    problem(message);
  }

  // Everything but the live count, again: on a timer and whenever a control changes.
  // A change made while figures are loading is drawn right after them, never lost.
  async function refresh() {
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    try {
      const top = await loadLibrary();
      await Promise.all([loadSchedules(), loadBreakdowns()]);
      if (!state.video && top.length) state.video = top[0].id;
      if (state.video) await openVideo(state.video);
      problem("");
    } finally {
      state.busy = false;
    }
    if (state.again) {
      state.again = false;
      await refresh();
    }
  }

  async function start() {
    show("sign-in", false);
    show("board", true);
    show("controls", true);
    show("sign-out", true);
    problem("");
    stopTimers();
    await Promise.all([refresh(), loadLive()]);
    state.timers.push(window.setInterval(() => refresh().catch(report), REFRESH_EVERY_MS));
    state.timers.push(window.setInterval(() => loadLive().catch(report), LIVE_EVERY_MS));
  }

  function wireControls() {
    fillZones();
    Object.entries(METRICS).forEach(([name, [label]]) => $("breakdown-metric").add(new Option(label, name)));
    pickDays(30);
    document.querySelectorAll(".presets button").forEach((button) =>
      button.addEventListener("click", () => {
        pickDays(Number(button.dataset.days));
        refresh().catch(report);
      })
    );
    ["start", "end", "tz", "team"].forEach((id) => $(id).addEventListener("change", () => refresh().catch(report)));
    ["breakdown-scope", "breakdown-metric"].forEach((id) =>
      $(id).addEventListener("change", () => loadBreakdowns().catch(report))
    );
    $("controls").addEventListener("submit", (event) => event.preventDefault());
    addExportButtons();
  }

  window.addEventListener("DOMContentLoaded", () => {
    takeTokenFromFragment();
    wireControls();
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      window.sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
      start().catch(report);
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    if (token()) {
      start().catch(report);
    } else {
      signOut("");
    }
  });
})();
