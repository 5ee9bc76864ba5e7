// The builder's state is a query definition (SPEC section 3) plus nothing else: these helpers
// read the schema for it and turn form values into definition values.

export const AGGREGATIONS = [
  ["none", "Value"], ["sum", "Sum"], ["avg", "Average"], ["count", "Count"],
  ["count_distinct", "Distinct count"], ["min", "Minimum"], ["max", "Maximum"],
];
export const BUCKETS = ["minute", "hour", "day", "week", "month", "quarter", "year"];
export const PRESETS = [
  "today", "yesterday", "last_7_days", "last_30_days", "this_week", "last_week", "this_month",
  "last_month", "this_quarter", "last_quarter", "this_year", "last_year",
];
const NUMERIC = new Set(["integer", "decimal", "float"]);
const TEMPORAL = new Set(["date", "datetime"]);

const OPERATORS = {
  eq: "equals", neq: "does not equal", in_: "is one of", not_in: "is none of",
  gt: "greater than", gte: "at least", lt: "less than", lte: "at most", between: "between",
  contains: "contains", starts_with: "starts with", ends_with: "ends with",
  like: "matches (LIKE)", ilike: "matches (ILIKE)", is_null: "is empty",
  is_not_null: "is not empty", date_relative: "in the period",
};

export function operatorsFor(type) {
  const ops = ["eq", "neq", "in_", "not_in"];
  if (NUMERIC.has(type) || TEMPORAL.has(type) || type === "time") ops.push("gt", "gte", "lt", "lte", "between");
  if (type === "string") ops.push("contains", "starts_with", "ends_with", "like", "ilike");
  if (TEMPORAL.has(type)) ops.push("date_relative");
  ops.push("is_null", "is_not_null");
  return ops.map((op) => [op, OPERATORS[op]]);
}

export const isTemporal = (type) => TEMPORAL.has(type);
export const isNumeric = (type) => NUMERIC.has(type);

export class SchemaIndex {
  constructor(schema) {
    this.schema = schema;
    this.tables = new Map(schema.tables.map((t) => [t.name, t]));
  }
  table(name) { return this.tables.get(name); }
  column(tableName, column) {
    const table = this.tables.get(tableName);
    return table ? table.columns.find((c) => c.name === column) : undefined;
  }
  tableLabel(name) {
    const t = this.tables.get(name);
    return (t && t.display_name) || name;
  }
  columnLabel(tableName, column) {
    if (column === "*") return "all rows";
    const c = this.column(tableName, column);
    return (c && c.display_name) || column;
  }
  // Relationships that join a table already in the query to one that is not yet (or to itself).
  joinable(tables) {
    const names = new Set(tables.map((t) => t.name));
    const out = [];
    for (const rel of this.schema.relationships || []) {
      if (names.has(rel.from_table)) out.push({ ...rel, direction: "forward" });
      if (names.has(rel.to_table)) out.push({ ...rel, direction: "backward" });
    }
    return out;
  }
}

export function coerce(raw, type) {
  if (raw === "" || raw === undefined) return null;
  if (NUMERIC.has(type)) {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  if (type === "boolean") return raw === "true" ? true : raw === "false" ? false : raw;
  return raw;
}

export function splitList(raw, type) {
  return String(raw || "").split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => coerce(s, type));
}

export function outputName(column) {
  if (column.alias) return column.alias;
  return column.column;
}

// Aggregated columns get a readable alias when none was given (charts and ordering use it).
export function defaultAlias(column) {
  if (!column.aggregation || column.aggregation === "none") return "";
  if (column.column === "*") return "count";
  return `${column.aggregation}_${column.column}`;
}
