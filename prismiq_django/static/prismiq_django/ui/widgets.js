// Drawing one widget (SPEC section 9 types) from a QueryResult, and the result table shared by
// the builder and the saved-queries page. Text is always inserted as text, never as HTML.

import { h, nextId } from "./api.js";
import { columnRoles, disposeChart, drawChart, formatValue, isChart, label } from "./charts.js";

export function resultTable(result, { pageSize = 25, caption = "Result" } = {}) {
  const wrap = h("div", { class: "result-table" });
  const rows = result.rows || [];
  const types = result.column_types || [];
  let page = 0;
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const tbody = h("tbody");
  const status = h("span", { class: "muted", "aria-live": "polite" });
  const prev = h("button", { type: "button", class: "secondary small", onclick: () => show(page - 1) }, "Previous");
  const next = h("button", { type: "button", class: "secondary small", onclick: () => show(page + 1) }, "Next");
  const table = h("table", { class: "data" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, result.columns.map((c, i) =>
      h("th", { scope: "col", class: ["integer", "decimal", "float"].includes(types[i]) ? "num" : "" }, c)))),
    tbody);
  function show(p) {
    page = Math.min(Math.max(0, p), pages - 1);
    tbody.replaceChildren(...rows.slice(page * pageSize, (page + 1) * pageSize).map((r) =>
      h("tr", {}, r.map((v, i) => {
        const numeric = ["integer", "decimal", "float"].includes(types[i]);
        const text = v !== null && typeof v === "object" ? JSON.stringify(v) : numeric ? formatValue(v) : label(v, types[i]);
        return h("td", { class: numeric ? "num" : "" }, v === null ? "" : text);
      }))));
    status.textContent = rows.length
      ? `Rows ${page * pageSize + 1}–${Math.min(rows.length, (page + 1) * pageSize)} of ${rows.length}${result.truncated ? " (truncated)" : ""}`
      : "No rows";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  show(0);
  wrap.append(h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption }, table));
  if (pages > 1) wrap.append(h("div", { class: "pager" }, prev, status, next));
  else wrap.append(h("div", { class: "pager" }, status));
  return wrap;
}

function metric(result, config) {
  const { ys } = columnRoles(result, config);
  const y = ys[0] ?? 0;
  const row = (result.rows || [])[0];
  const value = row ? row[y] : null;
  return h("div", { class: "metric" },
    h("div", { class: "metric-value", dataset: { value: value === null ? "" : String(value) } }, formatValue(value, config.value_format)),
    h("div", { class: "metric-label muted" }, result.columns[y] || ""));
}

function textBlock(content) {
  const box = h("div", { class: "text-widget" });
  for (const para of String(content || "").split(/\n{2,}/)) {
    const p = h("p");
    para.split("\n").forEach((line, i) => { if (i) p.append(h("br")); p.append(line); });
    box.append(p);
  }
  return box;
}

// state: {loading: true} | {error: {detail, status}} | {result: QueryResult}
export function renderWidget(widget, body, state) {
  const key = `widget-${widget.id}`;
  const config = widget.config || {};
  body.setAttribute("aria-busy", state.loading ? "true" : "false");
  body.dataset.state = state.loading ? "loading" : state.error ? "error" : "ready";
  if (widget.type === "text") {
    body.replaceChildren(textBlock(config.content));
    body.dataset.state = "ready";
    return;
  }
  if (state.loading) {
    if (!body.querySelector(".chart-box, .metric, .result-table")) {
      body.replaceChildren(h("p", { class: "state", "data-state": "loading" }, "Loading…"));
    } else {
      body.classList.add("refreshing");
    }
    return;
  }
  body.classList.remove("refreshing");
  if (state.error) {
    disposeChart(key, body.querySelector(".chart-box"));
    const detail = state.error.detail || "This widget could not be loaded.";
    body.replaceChildren(h("p", { class: "state error", role: "alert", "data-state": "error" }, detail));
    return;
  }
  const result = state.result;
  if (isChart(widget.type)) {
    let box = body.querySelector(".chart-box");
    if (!box) {
      box = h("div", { class: "chart-box", role: "img", "aria-label": `${widget.title || "Chart"} (${widget.type.replace("_", " ")})`, id: nextId("chart") });
      body.replaceChildren(box);
    }
    if (!result.rows.length) {
      disposeChart(key, box);
      body.replaceChildren(h("p", { class: "state", "data-state": "empty" }, "No data for these filters."));
      return;
    }
    drawChart(key, box, widget.type, result, config);
    return;
  }
  disposeChart(key, body.querySelector(".chart-box"));
  if (widget.type === "metric") body.replaceChildren(metric(result, config));
  else body.replaceChildren(resultTable(result, { pageSize: Number(config.page_size) || 10, caption: widget.title || "Table" }));
}
