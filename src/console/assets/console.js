// consoled web console: the one script, loaded with `defer` and allowed by the CSP
// (script-src 'self'). Pages work without it; it adds:
// - live data: every 2 seconds (while the tab is visible) /console/clusters/status.json is
//   fetched (revalidated with its ETag: an unchanged list is a 304) and
//   - every element with data-component inside an element with data-cluster shows that
//     cluster's status, every data-field its name, generation, region or plan;
//   - elements with data-shown-when="<status>" show only while the cluster has it (the
//     Suspend and Wake forms);
//   - the list (data-cluster-rows) gains the clusters created elsewhere, loses the deleted
//     ones and keeps the server's order;
// - copy buttons after every element marked data-copy;
// - a download link after every element marked data-download="<file name>", for its text
//   (a Blob made here: the credentials file is not fetched again, so no URL holds it).
// Text from the server only ever goes into textContent, never into markup.
"use strict";

(function () {
  const STATUS_URL = "/console/clusters/status.json";
  const INTERVAL_MS = 2000;
  const FIELDS = ["name", "generation", "region", "plan"];

  function rowsBody() {
    return document.querySelector("[data-cluster-rows]");
  }

  function live() {
    return rowsBody() !== null || document.querySelector("[data-cluster] [data-component]");
  }

  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  function showStatus(cell, status) {
    if (cell.textContent === status) return;
    cell.textContent = status;
    for (const name of Array.from(cell.classList)) {
      if (name.startsWith("status-")) cell.classList.remove(name);
    }
    cell.classList.add("status-" + status.toLowerCase());
  }

  function cell(tag, field, text) {
    const element = document.createElement(tag);
    if (field) element.dataset.field = field;
    element.textContent = text;
    return element;
  }

  // A row as the server renders it (templates/clusters.html).
  function newRow(cluster) {
    const row = document.createElement("tr");
    row.dataset.cluster = cluster.uuid;
    const head = document.createElement("th");
    head.scope = "row";
    const link = cell("a", "name", cluster.name);
    link.href = "/console/clusters/" + encodeURIComponent(cluster.uuid);
    head.append(link);
    const status = document.createElement("td");
    const badge = cell("span", null, "");
    badge.className = "status";
    badge.dataset.component = "ready";
    status.append(badge);
    row.append(head, status, cell("td", "generation", ""), cell("td", "region", ""),
      cell("td", "plan", ""));
    return row;
  }

  function updateList(clusters) {
    const body = rowsBody();
    if (!body) return;
    const existing = new Map();
    for (const row of body.querySelectorAll("tr[data-cluster]")) {
      existing.set(row.dataset.cluster, row);
    }
    let position = body.firstElementChild;
    for (const cluster of clusters) {
      let row = existing.get(cluster.uuid);
      existing.delete(cluster.uuid);
      if (!row) row = newRow(cluster);
      if (row !== position) body.insertBefore(row, position);
      position = row.nextElementSibling;
    }
    for (const gone of existing.values()) gone.remove();
    const empty = clusters.length === 0;
    const table = document.querySelector("[data-clusters-table]");
    const note = document.querySelector("[data-clusters-empty]");
    if (table) table.hidden = empty;
    if (note) note.hidden = !empty;
  }

  function updateClusters(clusters) {
    const byId = new Map(clusters.map((c) => [c.uuid, c]));
    for (const holder of document.querySelectorAll("[data-cluster]")) {
      const cluster = byId.get(holder.dataset.cluster);
      if (!cluster) continue;
      for (const element of holder.querySelectorAll("[data-component]")) {
        const value = cluster.status[element.dataset.component];
        if (value) showStatus(element, value);
      }
      for (const element of holder.querySelectorAll("[data-field]")) {
        if (FIELDS.includes(element.dataset.field)) {
          setText(element, cluster[element.dataset.field]);
        }
      }
      for (const element of holder.querySelectorAll("[data-shown-when]")) {
        element.hidden = element.dataset.shownWhen !== cluster.status.ready;
      }
    }
  }

  async function poll() {
    let body;
    try {
      const response = await fetch(STATUS_URL, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-cache", // revalidate with the ETag every time
        redirect: "manual", // to the login page: an opaque answer, not ok
      });
      if (!response.ok) return false;
      body = await response.json();
    } catch (_) {
      return true; // offline for a moment: try again later
    }
    updateList(body.clusters);
    updateClusters(body.clusters);
    return true;
  }

  async function loop() {
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
    if (live()) setTimeout(loop, INTERVAL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
