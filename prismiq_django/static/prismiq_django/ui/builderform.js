// The builder's form: one section per part of the query definition (tables and joins, columns,
// filters, group, order, time bucket, limit), rendered from `model.state`, which *is* the
// definition being built (plus the UI's sort targets). Rendering keeps the keyboard focus.

import { get, h } from "./api.js";
import {
  AGGREGATIONS, BUCKETS, PRESETS, coerce, defaultAlias, isNumeric, isTemporal, operatorsFor,
  splitList,
} from "./querystate.js";

const $ = (sel) => document.querySelector(sel);

// The schema (a SchemaIndex) and the state being edited, shared with the page module.
export const model = { schema: null, state: null };

export function emptyState(tableName) {
  return {
    tables: [{ id: "t0", name: tableName }],
    joins: [],
    columns: [],
    filters: [],
    group_by: [],
    order_by: [],
    time_series: null,
    limit: 100,
    extraFilters: [],
  };
}

export function definition() {
  const q = {
    tables: model.state.tables.map((t) => ({ id: t.id, name: t.name })),
    columns: model.state.columns.map((c) => {
      const col = { table_id: c.table_id, column: c.column };
      if (c.aggregation && c.aggregation !== "none") col.aggregation = c.aggregation;
      if (c.date_trunc) col.date_trunc = c.date_trunc;
      const alias = c.alias || defaultAlias(c);
      if (alias) col.alias = alias;
      return col;
    }),
  };
  if (model.state.joins.length) q.joins = model.state.joins.map((j) => ({ ...j }));
  const filters = model.state.filters.filter((f) => f.column).map((f) => ({
    table_id: f.table_id, column: f.column, operator: f.operator, value: f.value ?? null,
  }));
  if (filters.length || model.state.extraFilters.length) q.filters = [...filters, ...model.state.extraFilters];
  if (model.state.group_by.length) q.group_by = model.state.group_by.filter((g) => g.column).map((g) => ({ ...g }));
  if (model.state.order_by.length) {
    q.order_by = model.state.order_by.filter((o) => o.target !== "").map((o) => {
      const c = model.state.columns[Number(o.target)];
      if (!c) return null;
      const alias = c.alias || defaultAlias(c);
      if (alias) return { alias, direction: o.direction };
      return { table_id: c.table_id, column: c.column, direction: o.direction };
    }).filter(Boolean);
  }
  if (model.state.time_series) q.time_series = { ...model.state.time_series };
  if (model.state.limit !== null && model.state.limit !== "") q.limit = Number(model.state.limit);
  return q;
}

export function loadDefinition(q) {
  const st = emptyState(q.tables[0].name);
  st.tables = q.tables.map((t) => ({ id: t.id, name: t.name }));
  st.joins = (q.joins || []).map((j) => ({ join_type: "INNER", ...j }));
  st.columns = (q.columns || []).map((c) => ({
    table_id: c.table_id, column: c.column, aggregation: c.aggregation || "none",
    date_trunc: c.date_trunc || "", alias: c.alias || "",
  }));
  for (const f of q.filters || []) {
    if (f && f.table_id && f.operator) st.filters.push({ ...f });
    else st.extraFilters.push(f);
  }
  st.group_by = (q.group_by || []).map((g) => ({ ...g }));
  st.order_by = (q.order_by || []).map((o) => {
    const idx = st.columns.findIndex((c) => (o.alias && (c.alias === o.alias || defaultAlias(c) === o.alias))
      || (!o.alias && c.table_id === o.table_id && c.column === o.column));
    return { target: idx >= 0 ? String(idx) : "", direction: o.direction || "ASC" };
  });
  st.time_series = q.time_series ? { ...q.time_series } : null;
  st.limit = q.limit ?? "";
  model.state = st;
  render();
}

function tableOf(id) { return model.state.tables.find((t) => t.id === id); }

function columnOptions({ withStar = false, only } = {}) {
  const groups = [];
  for (const t of model.state.tables) {
    const table = model.schema.table(t.name);
    if (!table) continue;
    const opts = [];
    if (withStar) opts.push(h("option", { value: `${t.id}.*` }, "All rows (*)"));
    for (const c of table.columns) {
      if (only && !only(c)) continue;
      opts.push(h("option", { value: `${t.id}.${c.name}` }, c.display_name || c.name));
    }
    groups.push(h("optgroup", { label: `${model.schema.tableLabel(t.name)} (${t.id})` }, opts));
  }
  return groups;
}

export function splitRef(value) {
  const i = value.indexOf(".");
  return { table_id: value.slice(0, i), column: value.slice(i + 1) };
}

function typeOf(tableId, column) {
  const t = tableOf(tableId);
  const c = t && model.schema.column(t.name, column);
  return c ? c.type : "unknown";
}

function select(key, labelText, options, value, onchange, extra = {}) {
  const sel = h("select", { "data-key": key, onchange: (e) => onchange(e.target.value), ...extra }, options);
  sel.value = value ?? "";
  return h("label", {}, labelText, " ", sel);
}

function removeButton(key, what, onclick) {
  return h("button", { type: "button", class: "secondary small", "data-key": key, "aria-label": `Remove ${what}`, onclick }, "Remove");
}

function renderTables() {
  const rows = [];
  const first = model.state.tables[0];
  rows.push(h("div", { class: "row" },
    select("table-0", "Table", model.schema.schema.tables.map((t) => h("option", { value: t.name }, t.display_name || t.name)),
      first.name, (name) => { model.state = emptyState(name); addDefaultColumn(); render(); })));
  model.state.joins.forEach((j, i) => {
    const to = tableOf(j.to_table_id);
    rows.push(h("div", { class: "row" },
      h("span", {}, `Join ${model.schema.tableLabel(to.name)} (${to.id}) on ${j.from_table_id}.${j.from_column} = ${j.to_table_id}.${j.to_column}`),
      select(`join-type-${i}`, "Join type", ["INNER", "LEFT", "RIGHT", "FULL"].map((v) => h("option", { value: v }, v)),
        j.join_type, (v) => { j.join_type = v; }),
      removeButton(`join-remove-${i}`, `join ${i + 1}`, () => removeJoin(i))));
  });
  const joinable = model.schema.joinable(model.state.tables);
  const joinSel = h("select", { id: "join-choice", "data-key": "join-choice" },
    h("option", { value: "" }, joinable.length ? "Choose a relationship…" : "No relationship from these tables"),
    joinable.map((rel, i) => h("option", { value: String(i) },
      rel.direction === "forward"
        ? `${model.schema.tableLabel(rel.from_table)}.${rel.from_column} → ${model.schema.tableLabel(rel.to_table)}.${rel.to_column}`
        : `${model.schema.tableLabel(rel.to_table)}.${rel.to_column} ← ${model.schema.tableLabel(rel.from_table)}.${rel.from_column}`)));
  rows.push(h("div", { class: "row" }, h("label", { for: "join-choice" }, "Relationship to join"), joinSel));
  $("#table-rows").replaceChildren(...rows);
  $("#add-join").onclick = () => {
    const rel = joinable[Number(joinSel.value)];
    if (!joinSel.value || !rel) { joinSel.focus(); return; }
    const id = `t${model.state.tables.length}`;
    const anchorName = rel.direction === "forward" ? rel.from_table : rel.to_table;
    const anchor = model.state.tables.find((t) => t.name === anchorName);
    if (rel.direction === "forward") {
      model.state.tables.push({ id, name: rel.to_table });
      model.state.joins.push({ from_table_id: anchor.id, from_column: rel.from_column, to_table_id: id, to_column: rel.to_column, join_type: "INNER" });
    } else {
      model.state.tables.push({ id, name: rel.from_table });
      model.state.joins.push({ from_table_id: anchor.id, from_column: rel.to_column, to_table_id: id, to_column: rel.from_column, join_type: "INNER" });
    }
    render();
  };
}

function removeJoin(i) {
  const removed = model.state.joins[i].to_table_id;
  const drop = new Set([removed]);
  let changed = true;
  while (changed) {
    changed = false;
    for (const j of model.state.joins) {
      if (drop.has(j.from_table_id) && !drop.has(j.to_table_id)) { drop.add(j.to_table_id); changed = true; }
    }
  }
  model.state.joins = model.state.joins.filter((j) => !drop.has(j.to_table_id));
  model.state.tables = model.state.tables.filter((t) => !drop.has(t.id));
  model.state.columns = model.state.columns.filter((c) => !drop.has(c.table_id));
  model.state.filters = model.state.filters.filter((f) => !drop.has(f.table_id));
  model.state.group_by = model.state.group_by.filter((g) => !drop.has(g.table_id));
  if (model.state.time_series && drop.has(model.state.time_series.table_id)) model.state.time_series = null;
  render();
}

function renderColumns() {
  const rows = model.state.columns.map((c, i) => {
    const type = c.column === "*" ? "integer" : typeOf(c.table_id, c.column);
    const parts = [
      select(`col-${i}`, `Column ${i + 1}`, columnOptions({ withStar: true }), `${c.table_id}.${c.column}`, (v) => {
        Object.assign(c, splitRef(v));
        if (c.column === "*") c.aggregation = "count";
        if (!isTemporal(typeOf(c.table_id, c.column))) c.date_trunc = "";
        render();
      }),
      select(`agg-${i}`, "Aggregation", AGGREGATIONS.map(([v, t]) => h("option", { value: v }, t)), c.aggregation || "none",
        (v) => { c.aggregation = v; render(); }),
    ];
    if (isTemporal(type)) {
      parts.push(select(`trunc-${i}`, "Bucket", [h("option", { value: "" }, "(exact)"), ...BUCKETS.map((b) => h("option", { value: b }, b))],
        c.date_trunc || "", (v) => { c.date_trunc = v; }));
    }
    parts.push(h("label", {}, "Alias ", h("input", {
      "data-key": `alias-${i}`, value: c.alias || "", placeholder: defaultAlias(c) || c.column, maxlength: "63",
      onchange: (e) => { c.alias = e.target.value.trim(); renderOrder(); },
    })));
    parts.push(removeButton(`col-remove-${i}`, `column ${i + 1}`, () => {
      model.state.columns.splice(i, 1);
      model.state.order_by = model.state.order_by.filter((o) => o.target !== String(i)).map((o) => ({ ...o, target: Number(o.target) > i ? String(Number(o.target) - 1) : o.target }));
      render();
    }));
    return h("div", { class: "row" }, parts);
  });
  $("#column-rows").replaceChildren(...rows);
}

function valueControls(f, i) {
  const type = typeOf(f.table_id, f.column);
  const inputType = isNumeric(type) ? "number" : type === "date" ? "date" : "text";
  const listId = `values-${i}`;
  const listAttr = type === "string" ? { list: listId } : {};
  if (f.operator === "is_null" || f.operator === "is_not_null") return [];
  if (f.operator === "date_relative") {
    const current = f.value && f.value.preset ? f.value.preset : "last_30_days";
    if (!f.value) f.value = { preset: current };
    return [select(`fval-${i}`, "Period", PRESETS.map((p) => h("option", { value: p }, p.replaceAll("_", " "))), current,
      (v) => { f.value = { preset: v }; })];
  }
  if (f.operator === "between") {
    const [lo, hi] = Array.isArray(f.value) ? f.value : [null, null];
    const set = (k, raw) => { const v = Array.isArray(f.value) ? [...f.value] : [null, null]; v[k] = coerce(raw, type); f.value = v; };
    return [
      h("label", {}, "From ", h("input", { type: inputType, step: "any", "data-key": `flo-${i}`, value: lo ?? "", onchange: (e) => set(0, e.target.value) })),
      h("label", {}, "To ", h("input", { type: inputType, step: "any", "data-key": `fhi-${i}`, value: hi ?? "", onchange: (e) => set(1, e.target.value) })),
    ];
  }
  if (f.operator === "in_" || f.operator === "not_in") {
    return [h("label", {}, "Values (comma-separated) ", h("input", {
      "data-key": `fval-${i}`, value: Array.isArray(f.value) ? f.value.join(", ") : "", ...listAttr,
      onchange: (e) => { f.value = splitList(e.target.value, type); },
    })), datalist(listId, f)];
  }
  if (type === "boolean") {
    return [select(`fval-${i}`, "Value", [h("option", { value: "true" }, "true"), h("option", { value: "false" }, "false")],
      String(f.value ?? "true"), (v) => { f.value = v === "true"; })];
  }
  return [h("label", {}, "Value ", h("input", {
    type: inputType, step: "any", "data-key": `fval-${i}`, value: f.value ?? "", ...listAttr,
    onchange: (e) => { f.value = coerce(e.target.value, type); },
  })), datalist(listId, f)];
}

const valueCache = new Map();
function datalist(id, f) {
  const dl = h("datalist", { id });
  const t = tableOf(f.table_id);
  if (!t || typeOf(f.table_id, f.column) !== "string") return dl;
  const key = `${t.name}/${f.column}`;
  if (!valueCache.has(key)) {
    valueCache.set(key, get(`tables/${encodeURIComponent(t.name)}/columns/${encodeURIComponent(f.column)}/values?limit=200`)
      .then((d) => d.values).catch(() => []));
  }
  valueCache.get(key).then((values) => dl.replaceChildren(...values.map((v) => h("option", { value: String(v) }))));
  return dl;
}

function renderFilters() {
  const rows = model.state.filters.map((f, i) => {
    const type = typeOf(f.table_id, f.column);
    const ops = operatorsFor(type);
    if (!ops.some(([op]) => op === f.operator)) f.operator = ops[0][0];
    return h("div", { class: "row" },
      select(`fcol-${i}`, `Filter ${i + 1} column`, columnOptions(), `${f.table_id}.${f.column}`, (v) => {
        Object.assign(f, splitRef(v)); f.value = null; render();
      }),
      select(`fop-${i}`, "Operator", ops.map(([v, t]) => h("option", { value: v }, t)), f.operator, (v) => {
        f.operator = v; f.value = null; render();
      }),
      ...valueControls(f, i),
      removeButton(`filter-remove-${i}`, `filter ${i + 1}`, () => { model.state.filters.splice(i, 1); render(); }));
  });
  if (model.state.extraFilters.length) {
    rows.push(h("p", { class: "muted" }, `${model.state.extraFilters.length} grouped filter(s) (all/any/not) from the loaded definition are kept as they are.`));
  }
  $("#filter-rows").replaceChildren(...rows);
}

function renderGroup() {
  const rows = model.state.group_by.map((g, i) => h("div", { class: "row" },
    select(`group-${i}`, `Group ${i + 1}`, columnOptions(), `${g.table_id}.${g.column}`, (v) => { Object.assign(g, splitRef(v)); }),
    removeButton(`group-remove-${i}`, `group ${i + 1}`, () => { model.state.group_by.splice(i, 1); render(); })));
  rows.push(h("button", { type: "button", class: "secondary small", "data-key": "add-group", onclick: () => {
    const t = model.state.tables[0];
    model.state.group_by.push({ table_id: t.id, column: model.schema.table(t.name).columns[0].name });
    render();
  } }, "Add group column"));
  $("#group-rows").replaceChildren(...rows);
}

function renderOrder() {
  const targets = model.state.columns.map((c, i) => h("option", { value: String(i) },
    c.alias || defaultAlias(c) || `${c.table_id}.${c.column}`));
  const rows = model.state.order_by.map((o, i) => h("div", { class: "row" },
    select(`order-${i}`, `Sort ${i + 1} by`, [h("option", { value: "" }, "(choose a column)"), ...targets], o.target, (v) => { o.target = v; }),
    select(`dir-${i}`, "Direction", [h("option", { value: "ASC" }, "ascending"), h("option", { value: "DESC" }, "descending")], o.direction, (v) => { o.direction = v; }),
    removeButton(`order-remove-${i}`, `sort ${i + 1}`, () => { model.state.order_by.splice(i, 1); render(); })));
  $("#order-rows").replaceChildren(...rows);
}

function renderTimeSeries() {
  const sel = $("#ts-column");
  sel.replaceChildren(h("option", { value: "" }, "(none)"), ...columnOptions({ only: (c) => isTemporal(c.type) }));
  sel.value = model.state.time_series ? `${model.state.time_series.table_id}.${model.state.time_series.date_column}` : "";
  $("#ts-interval").value = model.state.time_series ? model.state.time_series.interval : "month";
  $("#q-limit").value = model.state.limit ?? "";
}

export function render() {
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  renderTables();
  renderColumns();
  renderFilters();
  renderGroup();
  renderOrder();
  renderTimeSeries();
  if (!$("#query-json").hidden) $("#query-json").textContent = JSON.stringify(definition(), null, 2);
  if (focused) {
    const again = document.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

export function addDefaultColumn() {
  const t = model.state.tables[0];
  const table = model.schema.table(t.name);
  if (table && table.columns.length) model.state.columns.push({ table_id: t.id, column: table.columns[0].name, aggregation: "none", date_trunc: "", alias: "" });
}

