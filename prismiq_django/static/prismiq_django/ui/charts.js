// ECharts options from a QueryResult ({columns, column_types, rows}) and a widget's config
// (x_axis, y_axis, series_column, stacked, show_legend, colors). Every drawn chart is kept in
// window.prismiqCharts (key -> ECharts instance) so that tests and the page can read it back.

const NUMERIC = new Set(["integer", "decimal", "float"]);
const TEMPORAL = new Set(["date", "datetime"]);
const CHART_TYPES = new Set(["bar_chart", "line_chart", "area_chart", "pie_chart", "scatter_chart"]);

window.prismiqCharts = window.prismiqCharts || {};

export const isChart = (type) => CHART_TYPES.has(type);

export function columnRoles(result, config = {}) {
  const cols = result.columns;
  const types = result.column_types || [];
  const index = (name) => cols.indexOf(name);
  let x = config.x_axis && index(config.x_axis) >= 0 ? index(config.x_axis) : -1;
  if (x < 0) x = types.findIndex((t) => !NUMERIC.has(t));
  if (x < 0) x = 0;
  const series = config.series_column && index(config.series_column) >= 0 ? index(config.series_column) : -1;
  let ys = (config.y_axis || []).map(index).filter((i) => i >= 0);
  if (!ys.length) ys = types.map((t, i) => i).filter((i) => i !== x && i !== series && NUMERIC.has(types[i]));
  if (!ys.length) ys = cols.map((c, i) => i).filter((i) => i !== x && i !== series).slice(0, 1);
  return { x, ys, series };
}

// A temporal value is shown as its own wall-clock time, without its offset: a time bucket's
// label is its start in the site's zone with that zone's offset ("2024-03-01T00:00:00+01:00"),
// shown as "2024-03-01"; plain timestamps are UTC ("+00:00").
export function label(value, type) {
  if (value === null || value === undefined) return "(empty)";
  if (TEMPORAL.has(type) && typeof value === "string") {
    const m = /^(\d{4}-\d{2}-\d{2})(?:T00:00:00(?:\.0+)?(?:Z|[+-]\d\d:\d\d(?::\d\d)?)?)?$/.exec(value);
    if (m) return m[1];
    return value.replace("T", " ").replace(/(:\d\d)(\.\d+)?([+-]\d\d:\d\d(?::\d\d)?|Z)$/, "$1");
  }
  return String(value);
}

function num(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export function formatValue(value, format) {
  const n = num(value);
  if (n === null) return value === null || value === undefined ? "–" : String(value);
  switch (format) {
    case "integer":
      return new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }).format(n);
    case "currency":
      return new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
    case "percent":
      return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 }).format(n);
    default:
      return new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(n);
  }
}

export function chartOption(type, result, config = {}) {
  const { x, ys, series } = columnRoles(result, config);
  const types = result.column_types || [];
  const rows = result.rows || [];
  const legend = config.show_legend !== false;
  const base = {
    animation: false,
    tooltip: { trigger: type === "pie_chart" || type === "scatter_chart" ? "item" : "axis", confine: true },
    legend: legend ? { type: "scroll", bottom: 0 } : { show: false },
    grid: { left: 8, right: 16, top: 16, bottom: legend ? 40 : 16, containLabel: true },
  };
  if (Array.isArray(config.colors) && config.colors.length) base.color = config.colors;
  if (type === "pie_chart") {
    delete base.grid;
    const y = ys[0];
    return {
      ...base,
      series: [{
        type: "pie",
        name: result.columns[y],
        radius: ["35%", "70%"],
        data: rows.map((r) => ({ name: label(r[x], types[x]), value: num(r[y]) })),
      }],
    };
  }
  if (type === "scatter_chart") {
    const temporal = TEMPORAL.has(types[x]);
    return {
      ...base,
      xAxis: { type: temporal ? "time" : "value", name: result.columns[x], scale: true },
      yAxis: { type: "value", scale: true },
      series: ys.map((y) => ({
        type: "scatter",
        name: result.columns[y],
        data: rows.map((r) => [temporal ? r[x] : num(r[x]), num(r[y])]),
      })),
    };
  }
  const echartsType = type === "bar_chart" ? "bar" : "line";
  const area = type === "area_chart";
  const categories = [];
  const seen = new Map();
  for (const r of rows) {
    const key = label(r[x], types[x]);
    if (!seen.has(key)) { seen.set(key, categories.length); categories.push(key); }
  }
  let seriesList;
  if (series >= 0) {
    const y = ys[0];
    const groups = new Map();
    for (const r of rows) {
      const name = label(r[series], types[series]);
      if (!groups.has(name)) groups.set(name, new Array(categories.length).fill(null));
      groups.get(name)[seen.get(label(r[x], types[x]))] = num(r[y]);
    }
    seriesList = [...groups].map(([name, data]) => ({ name, data }));
  } else {
    seriesList = ys.map((y) => {
      const data = new Array(categories.length).fill(null);
      for (const r of rows) data[seen.get(label(r[x], types[x]))] = num(r[y]);
      return { name: result.columns[y], data };
    });
  }
  return {
    ...base,
    xAxis: { type: "category", data: categories, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value" },
    series: seriesList.map((s) => ({
      ...s,
      type: echartsType,
      ...(config.stacked || area ? { stack: "total" } : {}),
      ...(area ? { areaStyle: {} } : {}),
      showSymbol: categories.length <= 40,
    })),
  };
}

const observers = new WeakMap();

export function drawChart(key, element, type, result, config) {
  let chart = window.echarts.getInstanceByDom(element);
  if (!chart) chart = window.echarts.init(element, null, { renderer: "canvas" });
  chart.setOption(chartOption(type, result, config), { notMerge: true });
  window.prismiqCharts[key] = chart;
  if (!observers.has(element) && "ResizeObserver" in window) {
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(element);
    observers.set(element, observer);
  }
  return chart;
}

export function disposeChart(key, element) {
  const chart = element && window.echarts.getInstanceByDom(element);
  if (chart) chart.dispose();
  delete window.prismiqCharts[key];
}
