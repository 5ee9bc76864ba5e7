// The one way the pages talk to the REST API: JSON in and out, the session's CSRF token on
// writes, or an embed token (and no cookies) on the embed page. Errors become ApiError with the
// API's own detail and per-field errors, never a raw response body.

export const config = JSON.parse(document.getElementById("prismiq-ui-config").textContent);

export class ApiError extends Error {
  constructor(status, body) {
    super(describeError(status, body));
    this.status = status;
    this.body = body || {};
  }
}

export function describeError(status, body) {
  if (body && Array.isArray(body.errors) && body.errors.length) {
    return body.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; ");
  }
  if (body && typeof body.detail === "string") return body.detail;
  if (body && typeof body === "object") {
    const parts = [];
    for (const [field, value] of Object.entries(body)) {
      parts.push(`${field}: ${Array.isArray(value) ? value.join(" ") : JSON.stringify(value)}`);
    }
    if (parts.length) return parts.join("; ");
  }
  if (status === 0) return "The server could not be reached.";
  if (status === 429) return "Too many requests: wait a moment and try again.";
  return `The server answered ${status}.`;
}

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  if (config.embed_token) h.Authorization = `Embed ${config.embed_token}`;
  else if (config.csrf_token) h["X-CSRFToken"] = config.csrf_token;
  return h;
}

export function apiUrl(path) {
  return config.api + path.replace(/^\//, "");
}

export async function request(method, path, body) {
  const init = {
    method,
    headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
    credentials: config.embed_token ? "omit" : "same-origin",
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(apiUrl(path), init);
  } catch (err) {
    throw new ApiError(0, null);
  }
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body ?? {});
export const patch = (path, body) => request("PATCH", path, body);
export const put = (path, body) => request("PUT", path, body);
export const del = (path) => request("DELETE", path);

// A list endpoint's items whether or not the site paginates DRF lists.
export async function list(path) {
  let data = await get(path);
  if (Array.isArray(data)) return data;
  const items = [...(data.results || [])];
  while (data.next) {
    const next = new URL(data.next, location.href);
    data = await get(next.pathname.slice(new URL(apiUrl(""), location.href).pathname.length) + next.search);
    items.push(...(data.results || []));
  }
  return items;
}

// Download a POSTed export (a file answer) through a Blob, keeping the server's file name.
export async function download(method, path, body, fallbackName) {
  const init = {
    method,
    headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
    credentials: config.embed_token ? "omit" : "same-origin",
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(apiUrl(path), init);
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    throw new ApiError(response.status, data);
  }
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  return name;
}

export function announce(text) {
  const status = document.getElementById("prismiq-status");
  if (status) status.textContent = text;
}

const CONTROLS = new Set(["INPUT", "SELECT", "TEXTAREA"]);

// A wrapping label names a select by its text *and* its current option: make it a <label for>
// beside the control instead, so the control's accessible name is exactly the label's text.
function labelled(attrs, children) {
  const flat = children.flat().filter((c) => c !== null && c !== undefined && c !== false);
  const control = flat.find((c) => c instanceof Node && CONTROLS.has(c.nodeName));
  const text = flat.filter((c) => !(c instanceof Node)).join("").trim();
  if (!control.id) control.id = nextId("control");
  const rest = flat.filter((c) => c instanceof Node && c !== control);
  return h("div", { class: `field ${attrs.class || ""}`.trim() }, h("label", { for: control.id }, text), control, rest);
}

// Small DOM helper: h("div", {class: "x", onclick: fn}, child, "text").
export function h(tag, attrs, ...children) {
  if (tag === "label" && !(attrs && attrs.for) && !(attrs && attrs.class === "check")
      && children.flat().some((c) => c instanceof Node && CONTROLS.has(c.nodeName))) {
    return labelled(attrs || {}, children);
  }
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;
