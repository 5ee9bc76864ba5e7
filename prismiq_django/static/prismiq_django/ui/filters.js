// Dashboard filters (SPEC section 9) as labelled form controls, and their values on the wire
// ({filter_id, value}). The server merges them into the widget queries; nothing here does.

import { get, h, nextId } from "./api.js";
import { PRESETS } from "./querystate.js";

function field(labelText, control) {
  const id = control.id || nextId("f");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control);
}

async function optionsFor(filter, tables) {
  if (Array.isArray(filter.options) && filter.options.length) {
    return filter.options.map((o) => (typeof o === "object" ? o : { value: o, label: String(o) }));
  }
  const table = filter.table || tables(filter.field);
  if (!table) return [];
  try {
    const data = await get(`tables/${encodeURIComponent(table)}/columns/${encodeURIComponent(filter.field)}/values?limit=200`);
    return data.values.map((v) => ({ value: v, label: String(v) }));
  } catch (err) {
    return [];
  }
}

// Build the controls into `form`; `onchange()` is called once per user change.
// `tableFor(field)` names a table having that column (for value lists), or null.
export async function buildFilters(form, filters, onchange, tableFor = () => null) {
  const readers = [];
  form.replaceChildren();
  for (const filter of filters) {
    const group = h("fieldset", { class: "filter", dataset: { filterId: filter.id, type: filter.type } },
      h("legend", {}, filter.label || filter.id));
    const dflt = filter.default_value;
    if (filter.type === "select") {
      const sel = h("select", { name: filter.id, onchange }, h("option", { value: "" }, "(all)"));
      const opts = await optionsFor(filter, tableFor);
      sel.append(...opts.map((o, i) => h("option", { value: String(i) }, o.label ?? String(o.value))));
      const di = opts.findIndex((o) => o.value === dflt);
      sel.value = di >= 0 ? String(di) : "";
      group.append(field(filter.label || filter.id, sel));
      group.querySelector("legend").className = "visually-hidden";
      readers.push(() => ({ filter_id: filter.id, value: sel.value === "" ? null : opts[Number(sel.value)].value }));
    } else if (filter.type === "multi_select") {
      const opts = await optionsFor(filter, tableFor);
      const boxes = opts.map((o) => {
        const input = h("input", { type: "checkbox", onchange, checked: Array.isArray(dflt) && dflt.includes(o.value) });
        group.append(h("label", { class: "check" }, input, ` ${o.label ?? o.value}`));
        return [input, o.value];
      });
      readers.push(() => ({ filter_id: filter.id, value: boxes.filter(([b]) => b.checked).map(([, v]) => v) }));
    } else if (filter.type === "text") {
      const input = h("input", { type: "search", name: filter.id, value: dflt ?? "", onchange });
      group.append(field(filter.label || filter.id, input));
      group.querySelector("legend").className = "visually-hidden";
      readers.push(() => ({ filter_id: filter.id, value: input.value === "" ? null : input.value }));
    } else if (filter.type === "number_range") {
      const lo = h("input", { type: "number", step: "any", value: dflt && dflt.min != null ? dflt.min : "", onchange });
      const hi = h("input", { type: "number", step: "any", value: dflt && dflt.max != null ? dflt.max : "", onchange });
      group.append(field("Minimum", lo), field("Maximum", hi));
      readers.push(() => {
        const min = lo.value === "" ? null : Number(lo.value);
        const max = hi.value === "" ? null : Number(hi.value);
        return { filter_id: filter.id, value: min === null && max === null ? null : { min, max } };
      });
    } else if (filter.type === "date_range") {
      const preset = h("select", { onchange: () => { toggle(); onchange(); } },
        h("option", { value: "" }, "(any time)"),
        h("option", { value: "custom" }, "Custom range"),
        PRESETS.map((p) => h("option", { value: p }, p.replaceAll("_", " "))));
      const start = h("input", { type: "date", onchange });
      const end = h("input", { type: "date", onchange });
      const custom = h("div", { class: "range" }, field("From", start), field("To", end));
      const initial = typeof dflt === "string" ? dflt : dflt && dflt.preset ? dflt.preset : filter.date_preset;
      if (dflt && typeof dflt === "object" && dflt.start) {
        preset.value = "custom"; start.value = dflt.start; end.value = dflt.end || "";
      } else {
        preset.value = initial || "";
      }
      const toggle = () => { custom.hidden = preset.value !== "custom"; };
      toggle();
      // The preset list carries the filter's own label (not a second "Period" under it).
      group.append(field(filter.label || filter.id, preset), custom);
      group.querySelector("legend").className = "visually-hidden";
      readers.push(() => {
        if (preset.value === "") return { filter_id: filter.id, value: null };
        if (preset.value !== "custom") return { filter_id: filter.id, value: preset.value };
        if (!start.value && !end.value) return { filter_id: filter.id, value: null };
        return { filter_id: filter.id, value: { start: start.value || null, end: end.value || null } };
      });
    } else {
      continue;
    }
    form.append(group);
  }
  form.hidden = !readers.length;
  form.addEventListener("submit", (e) => e.preventDefault());
  return () => readers.map((read) => read());
}
