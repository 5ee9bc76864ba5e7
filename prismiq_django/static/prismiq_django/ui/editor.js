// The dashboard editor: widgets on a gridstack grid (drag to move, corner to resize, or the
// position fields of the widget form from the keyboard), the widget form, the filters, and one
// PATCH dashboards/{id} that saves everything (widgets keep their ids; new ones get theirs).

import { ApiError, announce, config, get, h, list, patch, post } from "./api.js";
import { PRESETS } from "./querystate.js";
import { renderWidget } from "./widgets.js";

const $ = (sel) => document.querySelector(sel);
const GS = window.GridStack && (window.GridStack.GridStack || window.GridStack);
const FILTER_TYPES = ["date_range", "select", "multi_select", "text", "number_range"];
const TYPE_LABELS = {
  metric: "Metric", bar_chart: "Bar chart", line_chart: "Line chart", area_chart: "Area chart",
  pie_chart: "Pie chart", scatter_chart: "Scatter chart", table: "Table", text: "Text",
};

let dashboard;
let widgets = [];
let filters = [];
let grid;
let savedQueries = [];
let keySeq = 0;
let lastResults = {};

function message(text, isError = false) {
  const box = $("#editor-message");
  box.textContent = text;
  box.classList.toggle("error", isError);
  box.hidden = false;
  announce(text);
}

function itemFor(w) { return document.querySelector(`.grid-stack-item[gs-id="${w.key}"]`); }

function itemContent(w) {
  const body = h("div", { class: "widget-body" });
  const content = h("div", { class: "grid-stack-item-content widget" },
    h("header", { class: "widget-head drag-handle" },
      h("h3", { class: "widget-title" }, w.title || "(untitled)"),
      h("span", { class: "badge" }, TYPE_LABELS[w.type] || w.type),
      h("div", { class: "widget-actions" },
        h("button", { type: "button", class: "small secondary", "aria-label": `Edit ${w.title || "widget"}`, onclick: () => openDialog(w) }, "Edit"),
        h("button", { type: "button", class: "small danger", "aria-label": `Delete ${w.title || "widget"}`, onclick: () => removeWidget(w) }, "Delete"))),
    body);
  return content;
}

// Drawn once the item is in the document (a chart needs its box's size).
function fillBody(w) {
  const body = itemFor(w)?.querySelector(".widget-body");
  if (!body) return;
  const entry = w.id !== undefined ? lastResults[String(w.id)] : undefined;
  const shown = { ...w, id: `edit-${w.key}` };
  if (w.type === "text") renderWidget(shown, body, {});
  else if (entry && !entry.error) renderWidget(shown, body, { result: entry });
  else if (entry && entry.error) renderWidget(shown, body, { error: entry.error });
  else body.replaceChildren(h("p", { class: "muted" }, sourceSummary(w)));
}

function sourceSummary(w) {
  if (w.saved_query) {
    const sq = savedQueries.find((q) => String(q.id) === String(w.saved_query));
    return `Saved query: ${sq ? sq.name : w.saved_query}`;
  }
  if (w.query) return `Query on ${w.query.tables.map((t) => t.name).join(", ")}`;
  return w.type === "text" ? "" : "No query yet: use Edit.";
}

function addToGrid(w) {
  const p = w.position;
  const el = h("div", { class: "grid-stack-item", "gs-id": w.key, "gs-x": String(p.x), "gs-y": String(p.y), "gs-w": String(p.w), "gs-h": String(p.h), dataset: { widgetId: w.id === undefined ? "" : String(w.id) } }, itemContent(w));
  $("#editor-grid").append(el);
  grid.makeWidget(el);
  fillBody(w);
}

function refreshItem(w) {
  const el = itemFor(w);
  if (!el) return;
  // Keep the content element and its header (gridstack bound the drag handle to them): only
  // their children change.
  const fresh = itemContent(w);
  const content = el.querySelector(".grid-stack-item-content");
  const head = content.querySelector(".widget-head");
  head.replaceChildren(...fresh.querySelector(".widget-head").childNodes);
  content.querySelector(".widget-body").replaceWith(fresh.querySelector(".widget-body"));
  fillBody(w);
}

function syncPositions() {
  // In gridstack's one-column (narrow screen) mode its positions are not the dashboard's.
  if (grid.getColumn() !== (dashboard.layout?.columns || 12)) return;
  for (const node of grid.engine.nodes) {
    const w = widgets.find((x) => x.key === node.id || x.key === node.el?.getAttribute("gs-id"));
    if (w) w.position = { x: node.x, y: node.y, w: node.w, h: node.h };
  }
}

function removeWidget(w) {
  if (!confirm(`Delete the widget “${w.title || TYPE_LABELS[w.type]}”?`)) return;
  grid.removeWidget(itemFor(w));
  widgets = widgets.filter((x) => x !== w);
  message(`Widget removed (not saved yet).`);
}

function bottom() {
  return Math.max(0, ...widgets.map((w) => w.position.y + w.position.h));
}

// --- widget dialog -------------------------------------------------------------------------

function fillSavedOptions(select, current) {
  select.replaceChildren(h("option", { value: "" }, savedQueries.length ? "(choose)" : "(no saved query)"),
    ...savedQueries.map((q) => h("option", { value: String(q.id) }, q.name)));
  select.value = current ? String(current) : "";
}

function toggleFields(form) {
  const type = form.type.value;
  const source = form.source.value;
  const chart = type.endsWith("_chart");
  for (const el of form.querySelectorAll("[data-source]")) el.hidden = el.dataset.source !== source || type === "text";
  for (const el of form.querySelectorAll("[data-type]")) el.hidden = el.dataset.type !== type;
  for (const el of form.querySelectorAll("[data-chart]")) el.hidden = !chart;
  form.source.closest(".field").hidden = type === "text";
}

function openDialog(w) {
  const dialog = $("#widget-dialog");
  const form = $("#widget-form");
  const error = form.querySelector(".form-error");
  error.hidden = true;
  const c = w.config || {};
  form.title.value = w.title || "";
  form.type.value = w.type;
  form.source.value = w.saved_query ? "saved" : w.query ? "query" : w.type === "text" ? "none" : "saved";
  fillSavedOptions(form.saved_query, w.saved_query);
  form.query.value = w.query ? JSON.stringify(w.query, null, 2) : "";
  form.content.value = c.content || "";
  form.x_axis.value = c.x_axis || "";
  form.y_axis.value = (c.y_axis || []).join(", ");
  form.series_column.value = c.series_column || "";
  form.stacked.checked = !!c.stacked;
  form.show_legend.checked = c.show_legend !== false;
  form.value_format.value = c.value_format || "";
  form.page_size.value = c.page_size || "";
  for (const k of ["x", "y", "w", "h"]) form[k].value = w.position[k];
  toggleFields(form);
  form.type.onchange = () => toggleFields(form);
  form.source.onchange = () => toggleFields(form);
  form.onsubmit = (event) => {
    if (event.submitter && event.submitter.value === "cancel") return;
    try {
      applyForm(w, form);
    } catch (err) {
      event.preventDefault();
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  dialog.showModal();
}

function applyForm(w, form) {
  const type = form.type.value;
  let query = null;
  let saved = null;
  if (type !== "text") {
    if (form.source.value === "saved") {
      if (!form.saved_query.value) throw new Error("Choose a saved query, or give a query definition.");
      saved = form.saved_query.value;
    } else if (form.source.value === "query") {
      try { query = JSON.parse(form.query.value); } catch (err) { throw new Error(`The query definition is not valid JSON: ${err.message}`); }
    }
  }
  const pos = {};
  for (const k of ["x", "y", "w", "h"]) {
    const n = Number(form[k].value);
    if (!Number.isInteger(n) || n < (k === "w" || k === "h" ? 1 : 0)) throw new Error(`Position ${k} must be a whole number.`);
    pos[k] = n;
  }
  if (pos.x + pos.w > (dashboard.layout?.columns || 12)) throw new Error("The widget does not fit: x + width must be at most the number of columns.");
  const cfg = { ...(w.config || {}) };
  const set = (key, value) => { if (value === "" || value === null || (Array.isArray(value) && !value.length)) delete cfg[key]; else cfg[key] = value; };
  set("content", type === "text" ? form.content.value : "");
  if (type.endsWith("_chart")) {
    set("x_axis", form.x_axis.value.trim());
    set("y_axis", form.y_axis.value.split(",").map((s) => s.trim()).filter(Boolean));
    set("series_column", form.series_column.value.trim());
    cfg.stacked = form.stacked.checked;
    cfg.show_legend = form.show_legend.checked;
  }
  if (type === "metric") set("value_format", form.value_format.value);
  if (type === "table") set("page_size", form.page_size.value ? Number(form.page_size.value) : "");
  const changedSource = JSON.stringify(query) !== JSON.stringify(w.query) || String(saved) !== String(w.saved_query);
  Object.assign(w, { type, title: form.title.value, query, saved_query: saved, config: cfg });
  if (changedSource && w.id !== undefined) delete lastResults[String(w.id)];
  const el = itemFor(w);
  w.position = pos;
  if (el) {
    if (grid.getColumn() === (dashboard.layout?.columns || 12)) {
      grid.update(el, pos);
      syncPositions();
    }
    refreshItem(w);
  } else {
    widgets.push(w);
    addToGrid(w);
  }
  message("Widget updated (not saved yet).");
}

// --- filters -------------------------------------------------------------------------------

function parseDefault(type, raw) {
  const text = raw.trim();
  if (!text) return null;
  if (type === "multi_select") return text.split(",").map((s) => s.trim()).filter(Boolean);
  if (type === "number_range") {
    const [min, max] = text.split(",").map((s) => (s.trim() === "" ? null : Number(s)));
    return { min: min ?? null, max: max ?? null };
  }
  if (type === "date_range") {
    if (PRESETS.includes(text)) return text;
    const [start, end] = text.split(",").map((s) => s.trim());
    return { start: start || null, end: end || null };
  }
  return text;
}

function formatDefault(f) {
  const v = f.default_value;
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.join(", ");
  if (typeof v === "object") return "min" in v || "max" in v ? `${v.min ?? ""}, ${v.max ?? ""}` : `${v.start ?? ""}, ${v.end ?? ""}`;
  return String(v);
}

function renderFilters() {
  const rows = filters.map((f, i) => {
    const n = i + 1;
    const input = (name, labelText, attrs = {}) => h("label", {}, labelText, " ", h("input", {
      value: name === "default_value" ? formatDefault(f) : name === "options" ? (f.options || []).map((o) => (o.label && o.label !== String(o.value) ? `${o.value}=${o.label}` : o.value)).join(", ") : f[name] ?? "",
      "data-filter": String(i), name, ...attrs,
      onchange: (e) => {
        const v = e.target.value;
        if (name === "default_value") f.default_value = parseDefault(f.type, v);
        else if (name === "options") f.options = v.split(",").map((s) => s.trim()).filter(Boolean).map((s) => { const [value, ...rest] = s.split("="); return { value: value.trim(), label: (rest.join("=") || value).trim() }; });
        else if (name === "table") f.table = v.trim() || null;
        else f[name] = v.trim();
      },
    }));
    const type = h("select", { name: "type", "data-filter": String(i), onchange: (e) => { f.type = e.target.value; renderFilters(); } },
      FILTER_TYPES.map((t) => h("option", { value: t }, t.replace("_", " "))));
    type.value = f.type;
    const preset = h("select", { name: "date_preset", onchange: (e) => { f.date_preset = e.target.value || null; } },
      h("option", { value: "" }, "(none)"), PRESETS.map((p) => h("option", { value: p }, p.replaceAll("_", " "))));
    preset.value = f.date_preset || "";
    return h("fieldset", { class: "filter-row" },
      h("legend", {}, `Filter ${n}`),
      input("id", "Id (slug)", { required: true, pattern: "[a-z0-9_\\-]+", maxlength: "50" }),
      h("label", {}, "Type ", type),
      input("label", "Label"),
      input("field", "Column", { required: true }),
      input("table", "Table (blank: the first table with that column)"),
      input("default_value", "Default value"),
      f.type === "date_range" ? h("label", {}, "Default period ", preset) : null,
      f.type === "select" || f.type === "multi_select" ? input("options", "Options (value=label, comma-separated; blank: from the data)") : null,
      h("button", { type: "button", class: "small danger", "aria-label": `Remove filter ${n}`, onclick: () => { filters.splice(i, 1); renderFilters(); } }, "Remove"));
  });
  $("#filter-rows").replaceChildren(...rows);
}

// --- load and save -------------------------------------------------------------------------

function fromServer(d) {
  dashboard = d;
  widgets = d.widgets.map((w) => ({ ...w, key: `w${++keySeq}`, position: w.position || { x: 0, y: 0, w: 6, h: 4 }, config: w.config || {} }));
  filters = (d.filters || []).map((f) => ({ ...f }));
  $("#dash-name").value = d.name;
  $("#dash-description").value = d.description || "";
  $("#dash-public").checked = !!d.is_public;
  grid.removeAll(true);
  for (const w of widgets) addToGrid(w);
  renderFilters();
}

function payload() {
  syncPositions();
  return {
    name: $("#dash-name").value,
    description: $("#dash-description").value,
    is_public: $("#dash-public").checked,
    filters: filters.map((f) => {
      const out = { id: f.id, type: f.type, label: f.label || f.id, field: f.field, table: f.table || null };
      if (f.default_value !== null && f.default_value !== undefined) out.default_value = f.default_value;
      if (f.date_preset) out.date_preset = f.date_preset;
      if (f.options && f.options.length) out.options = f.options;
      return out;
    }),
    widgets: widgets.map((w) => {
      const out = { type: w.type, title: w.title || "", query: w.query || null, saved_query: w.saved_query || null, position: w.position, config: w.config || {} };
      if (w.id !== undefined) out.id = w.id;
      return out;
    }),
  };
}

async function save() {
  const button = $("#save-dashboard");
  button.disabled = true;
  try {
    const saved = await patch(`dashboards/${dashboard.id}`, payload());
    fromServer(saved);
    await loadResults();
    message(`Saved “${saved.name}”.`);
  } catch (err) {
    message(err instanceof ApiError ? `Not saved: ${err.message}` : String(err), true);
  } finally {
    button.disabled = false;
  }
}

async function loadResults() {
  try {
    const answer = await post(`dashboards/${dashboard.id}/execute`, {});
    lastResults = answer.results || {};
  } catch (err) {
    lastResults = {};
  }
  for (const w of widgets) refreshItem(w);
}

export async function start() {
  grid = GS.init({ column: 12, cellHeight: 50, margin: 5, float: true, handle: ".drag-handle", columnOpts: { breakpoints: [{ w: 600, c: 1 }] } }, "#editor-grid");
  grid.on("change", () => syncPositions());
  const d = await get(`dashboards/${config.dashboard_id}`);
  if (d.layout && d.layout.row_height) grid.cellHeight(d.layout.row_height);
  try { savedQueries = await list("saved-queries"); } catch (err) { savedQueries = []; }
  $("#view-link").href = config.urls.dashboard.replace("{id}", d.id);
  fromServer(d);
  await loadResults();
  $("#save-dashboard").onclick = save;
  $("#add-widget").onclick = () => openDialog({ key: `w${++keySeq}`, type: "bar_chart", title: "", query: null, saved_query: null, position: { x: 0, y: bottom(), w: 6, h: 5 }, config: {} });
  $("#add-filter").onclick = () => {
    filters.push({ id: `filter_${filters.length + 1}`, type: "select", label: "", field: "", table: null, default_value: null });
    renderFilters();
    $("#filter-rows").lastElementChild.querySelector("input").focus();
  };
  window.prismiqEditor = { grid, widgets: () => widgets, payload };
}
