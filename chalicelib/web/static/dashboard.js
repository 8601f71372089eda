// The operations dashboard: library figures, live viewers, top videos, schedules and failures,
// and per video its days, audience retention and referrers. Everything comes from this API
// (URLs relative to /api/dashboard); the admin token stays in this tab's sessionStorage.
"use strict";

(function () {
  const TOKEN_KEY = "media-api-token";
  const LIVE_EVERY_MS = 10000;
  const $ = (id) => document.getElementById(id);
  let liveTimer = null;
  const charts = {};

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
      throw new Error(path + ": " + response.status + " " + (body.message || ""));
    }
    return body;
  }

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function problem(message) {
    $("problem").textContent = message || "";
    show("problem", Boolean(message));
  }

  function signOut(message) {
    window.sessionStorage.removeItem(TOKEN_KEY);
    window.clearInterval(liveTimer);
    show("board", false);
    show("sign-out", false);
    show("sign-in", true);
    problem(message);
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (className) td.className = className;
    return td;
  }

  function fill(tableId, items, render) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren();
    if (!items.length) {
      const row = body.insertRow();
      const td = cell(row, "nothing", "empty");
      td.colSpan = $(tableId).tHead.rows[0].cells.length;
      return;
    }
    items.forEach((item) => render(body.insertRow(), item));
  }

  function videoLink(row, id, title) {
    const td = row.insertCell();
    const link = document.createElement("a");
    link.href = "#video=" + id;
    link.textContent = title || "video " + id;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openVideo(id).catch(report);
    });
    td.append(link);
  }

  function when(instant) {
    return instant ? new Date(instant).toLocaleString() : "–";
  }

  function hours(seconds) {
    return (seconds / 3600).toFixed(1) + " h";
  }

  function figures(targetId, answer) {
    const items = [
      ["views", answer.totalViews.toLocaleString()],
      ["unique viewers", answer.uniqueViewers.toLocaleString() + (answer.uniqueViewersExact ? "" : " (est.)")],
      ["watch time", hours(answer.totalWatchTimeSeconds)],
      ["completion", answer.completionRate + " %"],
    ];
    $(targetId).replaceChildren(
      ...items.map(([label, value]) => {
        const box = document.createElement("div");
        const strong = document.createElement("strong");
        strong.textContent = value;
        const small = document.createElement("small");
        small.textContent = label;
        box.append(strong, small);
        return box;
      })
    );
  }

  function chart(targetId, label, xs, ys, time) {
    const target = $(targetId);
    if (charts[targetId]) charts[targetId].destroy();
    const width = Math.max(280, target.clientWidth || 600);
    charts[targetId] = new uPlot(
      {
        width: width,
        height: 220,
        scales: { x: { time: time } },
        series: [{}, { label: label, stroke: "#2f6fdb", fill: "rgba(47,111,219,0.12)", width: 2 }],
        axes: [{}, { size: 60 }],
        legend: { show: true },
      },
      [xs, ys],
      target
    );
  }

  function dayChart(targetId, days) {
    const xs = days.map((day) => Date.parse(day.date + "T00:00:00Z") / 1000);
    chart(targetId, "views", xs, days.map((day) => day.views), true);
  }

  async function loadLibrary() {
    const overview = await api("videos/analytics/overview");
    figures("totals", overview);
    dayChart("library-chart", overview.viewsByDay);
    $("as-of").textContent = "figures as of " + when(overview.asOf);
    const top = await api("videos/analytics/top?limit=10");
    fill("top", top.videos, (row, video) => {
      videoLink(row, video.id, video.title);
      cell(row, video.views.toLocaleString(), "number");
      cell(row, video.uniqueViewers.toLocaleString(), "number");
      cell(row, video.completionRate + " %", "number");
    });
    return top.videos;
  }

  async function loadLive() {
    const live = await api("videos/analytics/live?limit=10");
    $("live-total").textContent = live.concurrentViewers + " now";
    fill("live", live.videos, (row, video) => {
      videoLink(row, video.id, video.title);
      cell(row, video.concurrentViewers, "number");
    });
  }

  async function loadSchedules() {
    const upcoming = await api("videos/schedules/upcoming?limit=10");
    fill("upcoming", upcoming.schedules, (row, schedule) => {
      cell(row, when(schedule.scheduledFor));
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
      cell(row, when(failure.at));
      cell(row, failure.what);
      cell(row, failure.why);
    });
  }

  async function openVideo(id) {
    const report = await api("videos/" + id + "/analytics");
    const retention = await api("videos/" + id + "/analytics/retention");
    const video = await api("videos/" + id);
    $("video-title").textContent = video.title || video.filename;
    figures("video-totals", report);
    show("video", true);
    dayChart("video-chart", report.viewsByDay);
    chart(
      "retention-chart",
      "share of views",
      retention.points.map((point) => point.percent),
      retention.points.map((point) => point.ratio),
      false
    );
    fill("referrers", report.topReferrers, (row, referrer) => {
      cell(row, referrer.referer);
      cell(row, referrer.views.toLocaleString(), "number");
    });
  }

  function report(error) {
    if (error && error.message !== "signed out") problem(String(error.message || error));
  }

  async function start() {
    show("sign-in", false);
    show("board", true);
    show("sign-out", true);
    problem("");
    const top = await loadLibrary();
    await Promise.all([loadLive(), loadSchedules()]);
    if (top.length) await openVideo(top[0].id);
    window.clearInterval(liveTimer);
    liveTimer = window.setInterval(() => loadLive().catch(report), LIVE_EVERY_MS);
  }

  window.addEventListener("DOMContentLoaded", () => {
    takeTokenFromFragment();
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
