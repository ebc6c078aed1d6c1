// consoled web console: the one script, loaded with `defer` and allowed by the CSP
// (script-src 'self'). Pages work without it; it adds two things:
// - live status: every element with data-cluster and data-component is updated from
//   /console/clusters/status.json every 2 seconds;
// - copy buttons after every element marked data-copy;
// - a download link after every element marked data-download="<file name>", for its text
//   (a Blob made here: the credentials file is not fetched again, so no URL holds it).
"use strict";

(function () {
  const STATUS_URL = "/console/clusters/status.json";
  const INTERVAL_MS = 2000;

  function cells() {
    return document.querySelectorAll("[data-cluster][data-component]");
  }

  function show(cell, status) {
    if (cell.textContent === status) return;
    cell.textContent = status;
    for (const name of Array.from(cell.classList)) {
      if (name.startsWith("status-")) cell.classList.remove(name);
    }
    cell.classList.add("status-" + status.toLowerCase());
  }

  async function poll() {
    let body;
    try {
      const response = await fetch(STATUS_URL, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        redirect: "manual", // to the login page: an opaque answer, not ok
      });
      if (!response.ok) return false;
      body = await response.json();
    } catch (_) {
      return true; // offline for a moment: try again later
    }
    const byId = new Map(body.clusters.map((c) => [c.uuid, c.status]));
    for (const cell of cells()) {
      const status = byId.get(cell.dataset.cluster);
      const value = status && status[cell.dataset.component];
      if (value) show(cell, value);
    }
    return true;
  }

  async function loop() {
    if (cells().length === 0) return;
    if (document.visibilityState === "visible") {
      const again = await poll();
      if (!again) return; // signed out or not allowed: stop
    }
    setTimeout(loop, INTERVAL_MS);
  }

  function copyButtons() {
    if (!navigator.clipboard) return;
    for (const element of document.querySelectorAll("[data-copy]")) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link copy";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy " + element.textContent);
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(element.textContent);
          button.textContent = "Copied";
        } catch (_) {
          button.textContent = "Copy failed";
        }
        setTimeout(() => { button.textContent = "Copy"; }, 1500);
      });
      element.after(" ", button);
    }
  }

  function downloadLinks() {
    for (const element of document.querySelectorAll("[data-download]")) {
      const blob = new Blob([element.textContent], { type: "text/plain" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = element.dataset.download;
      link.className = "download";
      link.textContent = "Download " + element.dataset.download;
      element.after(link);
    }
  }

  function start() {
    copyButtons();
    downloadLinks();
    setTimeout(loop, INTERVAL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
