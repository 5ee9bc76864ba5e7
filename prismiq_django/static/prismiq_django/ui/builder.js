// The query builder page: a form over a query definition, from the schema endpoint; preview as a
// table and a chart (query/preview), export (query/export, when mounted), save as a saved query
// or as a widget of a dashboard, and the ask box (when an assistant is configured).

import { ApiError, announce, config, download, get, h, list, patch, post } from "./api.js";
import {
  addDefaultColumn, definition, emptyState, loadDefinition, model, render, splitRef,
} from "./builderform.js";
import { drawChart } from "./charts.js";
import { SchemaIndex } from "./querystate.js";
import { resultTable } from "./widgets.js";

const $ = (sel) => document.querySelector(sel);
let lastResult = null;
let savedId = config.saved_query_id;

function showError(err) {
  const box = $("#builder-error");
  box.textContent = err instanceof ApiError ? err.message : String(err);
  box.hidden = false;
}

async function preview(event) {
  if (event) event.preventDefault();
  $("#builder-error").hidden = true;
  const box = $("#preview-table");
  box.replaceChildren(h("p", { class: "state", "data-state": "loading" }, "Running…"));
  try {
    lastResult = await post("query/preview", { query: definition(), limit: Math.min(Number(model.state.limit) || 100, 1000) });
    box.replaceChildren(resultTable(lastResult, { caption: "Preview" }));
    $("#preview-empty").hidden = true;
    drawPreviewChart();
    announce(`Preview: ${lastResult.row_count} rows`);
  } catch (err) {
    box.replaceChildren();
    showError(err);
  }
}

function drawPreviewChart() {
  const box = $("#preview-chart-box");
  if (!lastResult) return;
  box.hidden = false;
  const type = $("#preview-chart").value;
  if (type === "metric") {
    const chart = window.echarts.getInstanceByDom(box);
    if (chart) chart.dispose();
    const row = lastResult.rows[0];
    box.replaceChildren(h("div", { class: "metric" }, h("div", { class: "metric-value" }, row ? String(row[row.length - 1]) : "–")));
    return;
  }
  if (box.querySelector(".metric")) box.replaceChildren();
  drawChart("builder-preview", box, type, lastResult, {});
}

async function saveQuery(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    name: form.name.value, description: form.description.value,
    is_shared: form.is_shared.checked, query: definition(),
  };
  try {
    const saved = savedId ? await patch(`saved-queries/${savedId}`, body) : await post("saved-queries", body);
    savedId = String(saved.id);
    message(`Saved query “${saved.name}” (id ${saved.id}).`);
    history.replaceState(null, "", `?saved=${saved.id}`);
  } catch (err) {
    message(err.message, true);
  }
}

async function saveWidget(event) {
  event.preventDefault();
  const form = event.target;
  const id = form.dashboard.value;
  try {
    const dash = await get(`dashboards/${id}`);
    const bottom = Math.max(0, ...(dash.widgets || []).map((w) => (w.position ? w.position.y + w.position.h : 0)));
    await post(`dashboards/${id}/widgets`, {
      type: form.type.value, title: form.title.value, query: definition(),
      position: { x: 0, y: bottom, w: 6, h: 6 }, config: {},
    });
    message(`Added widget “${form.title.value}” to ${dash.name}.`, false, config.urls.dashboard.replace("{id}", id));
  } catch (err) {
    message(err.message, true);
  }
}

function message(text, isError = false, link) {
  const box = $("#save-message");
  box.replaceChildren(text);
  if (link) box.append(" ", h("a", { href: link }, "Open the dashboard"));
  box.classList.toggle("error", isError);
  box.hidden = false;
}

async function setupWidgetSave() {
  if (!config.features.dashboards) return;
  try {
    const dashboards = await list("dashboards");
    if (!dashboards.length) return;
    const form = $("#save-widget");
    form.dashboard.replaceChildren(...dashboards.map((d) => h("option", { value: String(d.id) }, d.name)));
    if (config.dashboard_id) form.dashboard.value = config.dashboard_id;
    form.hidden = false;
    form.addEventListener("submit", saveWidget);
  } catch (err) {
    // The dashboards list is optional here: the query can still be saved.
  }
}

function setupExports() {
  if (!config.features.query_export) return;
  const holder = $("#export-buttons");
  for (const format of ["csv", "xlsx"]) {
    holder.append(h("button", { type: "button", class: "secondary small", onclick: async () => {
      try {
        await download("POST", "query/export", { query: definition(), format }, `query.${format}`);
      } catch (err) { showError(err); }
    } }, `Download ${format.toUpperCase()}`));
  }
}

function setupAsk() {
  if (!config.features.ask) return;
  $("#ask-panel").hidden = false;
  $("#ask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = $("#ask-explanation");
    out.textContent = "Thinking…";
    try {
      const answer = await post("ask", { question: event.target.question.value, context: { query: definition() } });
      out.textContent = answer.explanation || "";
      loadDefinition(answer.query);
      await preview();
    } catch (err) {
      out.textContent = err.message;
    }
  });
}

export async function start() {
  model.schema = new SchemaIndex(await get("schema"));
  if (!model.schema.schema.tables.length) {
    showError("No table is exposed yet: ask an administrator to expose tables in the admin.");
    return;
  }
  $("#add-column").onclick = () => {
    const t = model.state.tables[model.state.tables.length - 1];
    model.state.columns.push({ table_id: t.id, column: model.schema.table(t.name).columns[0].name, aggregation: "none", date_trunc: "", alias: "" });
    render();
  };
  $("#add-filter").onclick = () => {
    const t = model.state.tables[0];
    model.state.filters.push({ table_id: t.id, column: model.schema.table(t.name).columns[0].name, operator: "eq", value: null });
    render();
  };
  $("#add-order").onclick = () => { model.state.order_by.push({ target: "", direction: "DESC" }); render(); };
  const tsChange = () => {
    const v = $("#ts-column").value;
    model.state.time_series = v ? { ...splitRef(v), interval: $("#ts-interval").value } : null;
    if (model.state.time_series) {
      model.state.time_series.date_column = model.state.time_series.column;
      delete model.state.time_series.column;
    }
  };
  $("#ts-column").onchange = tsChange;
  $("#ts-interval").onchange = tsChange;
  $("#q-limit").onchange = (e) => { model.state.limit = e.target.value; };
  $("#builder").addEventListener("submit", preview);
  $("#preview-chart").onchange = drawPreviewChart;
  $("#show-json").onclick = (e) => {
    const pre = $("#query-json");
    pre.hidden = !pre.hidden;
    e.target.setAttribute("aria-expanded", String(!pre.hidden));
    e.target.textContent = pre.hidden ? "Show JSON" : "Hide JSON";
    pre.textContent = JSON.stringify(definition(), null, 2);
  };
  $("#save-query").addEventListener("submit", saveQuery);
  setupWidgetSave();
  setupExports();
  setupAsk();
  if (savedId) {
    try {
      const saved = await get(`saved-queries/${savedId}`);
      const form = $("#save-query");
      form.name.value = saved.name;
      form.description.value = saved.description || "";
      form.is_shared.checked = !!saved.is_shared;
      loadDefinition(saved.query);
      await preview();
      return;
    } catch (err) {
      showError(err);
      savedId = null;
    }
  }
  model.state = emptyState(model.schema.schema.tables[0].name);
  addDefaultColumn();
  render();
}

window.prismiqBuilder = { definition: () => definition(), load: (q) => loadDefinition(q) };
