// The saved-queries page: list (own + shared), run (saved-queries/{id}/execute), export
// (saved-queries/{id}/export, when mounted), open in the builder, delete (owner only).

import { announce, config, del, download, h, list, post } from "./api.js";
import { resultTable } from "./widgets.js";

const $ = (sel) => document.querySelector(sel);

async function run(query) {
  const panel = $("#result-panel");
  panel.hidden = false;
  $("#result-title").textContent = `Result: ${query.name}`;
  const box = $("#result-table");
  box.replaceChildren(h("p", { class: "state", "data-state": "loading" }, "Running…"));
  try {
    const result = await post(`saved-queries/${query.id}/execute`, {});
    $("#result-meta").textContent = `${result.row_count} rows${result.truncated ? " (truncated)" : ""} · ${result.execution_time_ms.toFixed(1)} ms${result.is_from_cache ? " · from cache" : ""}`;
    box.replaceChildren(resultTable(result, { caption: query.name }));
    announce(`${query.name}: ${result.row_count} rows`);
  } catch (err) {
    $("#result-meta").textContent = "";
    box.replaceChildren(h("p", { class: "state error", role: "alert" }, err.message));
  }
  $("#result-title").focus?.();
}

function row(query) {
  const actions = [
    h("button", { type: "button", class: "small", onclick: () => run(query), "aria-label": `Run ${query.name}` }, "Run"),
    h("a", { class: "button small secondary", href: `${config.urls.builder}?saved=${query.id}`, "aria-label": `Open ${query.name} in the builder` }, "Open"),
  ];
  if (config.features.saved_query_export) {
    for (const format of ["csv", "xlsx"]) {
      actions.push(h("button", { type: "button", class: "small secondary", "aria-label": `Download ${query.name} as ${format.toUpperCase()}`,
        onclick: async () => {
          try { await download("GET", `saved-queries/${query.id}/export?format=${format}`, undefined, `${query.name}.${format}`); }
          catch (err) { alert(err.message); }
        } }, format.toUpperCase()));
    }
  }
  if (String(query.owner) === String(config.user_id)) {
    actions.push(h("button", { type: "button", class: "small danger", "aria-label": `Delete ${query.name}`, onclick: async (e) => {
      if (!confirm(`Delete the saved query “${query.name}”?`)) return;
      try { await del(`saved-queries/${query.id}`); e.target.closest("tr").remove(); announce(`Deleted ${query.name}`); }
      catch (err) { alert(err.message); }
    } }, "Delete"));
  }
  return h("tr", { dataset: { id: String(query.id) } },
    h("th", { scope: "row" }, query.name),
    h("td", {}, query.description || ""),
    h("td", {}, query.is_shared ? "yes" : "no"),
    h("td", {}, new Date(query.updated_at).toLocaleString()),
    h("td", { class: "actions" }, actions));
}

export async function start() {
  const state = $("#saved-state");
  try {
    const queries = await list("saved-queries");
    const table = $("#saved-table");
    table.querySelector("tbody").replaceChildren(...queries.map(row));
    table.hidden = !queries.length;
    state.textContent = queries.length ? "" : "No saved query yet: build one in the query builder.";
    state.hidden = !!queries.length;
  } catch (err) {
    state.textContent = err.message;
    state.classList.add("error");
  }
}
