// A dashboard: filters as controls, widgets on a grid, and one dashboards/{id}/execute request
// per load and per filter change; each widget shows its own loading, error or result.

import { announce, config, download, get, h, post } from "./api.js";
import { buildFilters } from "./filters.js";
import { renderWidget } from "./widgets.js";

const $ = (sel) => document.querySelector(sel);
let sequence = 0;
window.prismiqDashboard = { executeCount: 0, lastResults: null };

function place(article, widget, layout) {
  const p = widget.position || { x: 0, y: 0, w: layout.columns, h: 4 };
  article.style.gridColumn = `${p.x + 1} / span ${p.w}`;
  article.style.gridRow = `${p.y + 1} / span ${p.h}`;
  article.style.setProperty("--h", String(p.h));
}

function downloadButtons(dashboard, widget, currentFilters) {
  if (!config.features.widget_export || widget.type === "text") return [];
  return ["csv", "xlsx"].map((format) => h("button", {
    type: "button", class: "small secondary", "aria-label": `Download ${widget.title || "widget"} as ${format.toUpperCase()}`,
    onclick: async () => {
      try {
        await download("POST", `dashboards/${dashboard.id}/widgets/${widget.id}/export`,
          { format, filter_values: currentFilters() }, `${widget.title || "widget"}.${format}`);
      } catch (err) { announce(err.message); alert(err.message); }
    },
  }, format.toUpperCase()));
}

export async function start() {
  const id = config.dashboard_id;
  const stateLine = $("#dashboard-state");
  let dashboard;
  try {
    dashboard = await get(`dashboards/${id}`);
  } catch (err) {
    stateLine.textContent = err.status === 404 ? "This dashboard does not exist or is not shared with you." : err.message;
    stateLine.classList.add("error");
    stateLine.setAttribute("role", "alert");
    return;
  }
  stateLine.hidden = true;
  document.title = `${dashboard.name} · Analytics`;
  $("#dashboard-title").textContent = dashboard.name;
  $("#dashboard-description").textContent = dashboard.description || "";
  const edit = $("#edit-link");
  if (edit && config.urls.dashboard_edit) {
    edit.href = config.urls.dashboard_edit.replace("{id}", dashboard.id);
    edit.hidden = false;
  }
  const layout = { columns: 12, row_height: 50, margin: [10, 10], ...(dashboard.layout || {}) };
  const grid = $("#dashboard-grid");
  grid.style.setProperty("--columns", String(layout.columns));
  grid.style.setProperty("--row-h", `${layout.row_height}px`);
  grid.style.setProperty("--gap", `${layout.margin[0]}px`);

  let readFilters = () => [];
  const bodies = new Map();
  const widgets = [...dashboard.widgets].sort((a, b) => ((a.position?.y ?? 0) - (b.position?.y ?? 0)) || ((a.position?.x ?? 0) - (b.position?.x ?? 0)));
  for (const widget of widgets) {
    const body = h("div", { class: "widget-body" });
    const titleId = `widget-title-${widget.id}`;
    const article = h("article", { class: `widget widget-${widget.type}`, dataset: { widgetId: String(widget.id), type: widget.type }, "aria-labelledby": titleId },
      h("header", { class: "widget-head" },
        h("h2", { id: titleId }, widget.title || ""),
        h("div", { class: "widget-actions" }, downloadButtons(dashboard, widget, () => readFilters()))),
      body);
    place(article, widget, layout);
    grid.append(article);
    bodies.set(String(widget.id), { widget, body });
    renderWidget(widget, body, { loading: true });
  }
  if (!widgets.length) grid.append(h("p", { class: "state" }, "This dashboard has no widget yet."));

  async function execute() {
    const mine = ++sequence;
    for (const { widget, body } of bodies.values()) renderWidget(widget, body, { loading: true });
    grid.setAttribute("aria-busy", "true");
    window.prismiqDashboard.executeCount += 1;
    let answer;
    try {
      answer = await post(`dashboards/${dashboard.id}/execute`, { filter_values: readFilters() });
    } catch (err) {
      if (mine !== sequence) return;
      for (const { widget, body } of bodies.values()) renderWidget(widget, body, { error: { detail: err.message } });
      grid.setAttribute("aria-busy", "false");
      announce(err.message);
      return;
    }
    if (mine !== sequence) return;
    window.prismiqDashboard.lastResults = answer.results;
    for (const [wid, { widget, body }] of bodies) {
      const entry = answer.results[wid];
      if (!entry) renderWidget(widget, body, widget.type === "text" ? {} : { error: { detail: "No result for this widget." } });
      else if (entry.error) renderWidget(widget, body, { error: entry.error });
      else renderWidget(widget, body, { result: entry });
    }
    grid.setAttribute("aria-busy", "false");
    document.body.dataset.executed = String(sequence);
    announce("Dashboard updated");
  }

  let schemaTables = null;
  const tableFor = (fieldName) => {
    if (!schemaTables) return null;
    const table = schemaTables.find((t) => t.columns.some((c) => c.name === fieldName));
    return table ? table.name : null;
  };
  if ((dashboard.filters || []).some((f) => !f.table && !(f.options || []).length && (f.type === "select" || f.type === "multi_select")) && !config.embed_token) {
    try { schemaTables = (await get("schema")).tables; } catch (err) { schemaTables = null; }
  }
  // An embed token's locked filters are applied by the server: no control for them.
  const locked = new Set(config.locked_filters || []);
  const shown = (dashboard.filters || []).filter((f) => !locked.has(f.id));
  readFilters = await buildFilters($("#dashboard-filters"), shown, () => execute(), tableFor);
  await execute();
}

