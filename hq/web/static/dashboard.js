// Live refresh of a dashboard page: fetch the page's view as JSON every few seconds,
// put each field's text where the page shows it and redraw the charts (Plotly.react).
// No inline scripts: the first view comes in a JSON data block (CSP default-src 'self').
"use strict";
(function () {
  const body = document.body;
  const url = body.dataset.refreshUrl;
  const every = Math.max(2, Number(body.dataset.refreshS) || 15) * 1000;
  const state = document.getElementById("refresh-state");
  const drawn = {};

  function draw(charts) {
    if (!window.Plotly) return;
    for (const [id, fig] of Object.entries(charts || {})) {
      const el = document.getElementById("chart-" + id);
      if (!el) continue;
      const config = { responsive: true, displaylogo: false, displayModeBar: false };
      if (drawn[id]) {
        window.Plotly.react(el, fig.data, fig.layout, config);
      } else {
        window.Plotly.newPlot(el, fig.data, fig.layout, config);
        drawn[id] = true;
      }
    }
  }

  function apply(view) {
    if (view.layout !== body.dataset.layout) {
      // Rows came or went (a new store, a device, a new ranking): draw the page anew.
      window.location.reload();
      return;
    }
    for (const el of document.querySelectorAll("[data-field]")) {
      const f = view.fields[el.dataset.field];
      if (!f) continue;
      const [text, value, st] = f;
      if (el.textContent !== text) el.textContent = text;
      el.dataset.value = JSON.stringify(value);
      if (st) el.dataset.state = st; else delete el.dataset.state;
    }
    draw(view.charts);
  }

  async function refresh() {
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (res.status === 401 || res.status === 403 || (res.redirected && new URL(res.url).pathname === "/login")) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        return;
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      apply(await res.json());
      state.textContent = state.dataset.ok;
      body.dataset.refreshed = String(Date.now());
    } catch (err) {
      state.textContent = state.dataset.failed;
    } finally {
      window.setTimeout(refresh, every);
    }
  }

  function start() {
    const first = JSON.parse(document.getElementById("view-data").textContent);
    draw(first.charts);
    window.setTimeout(refresh, every);
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
