// The dashboards list: every dashboard the user may see, and a form to create one.

import { config, h, list, post } from "./api.js";

const $ = (sel) => document.querySelector(sel);

export async function start() {
  const state = document.querySelector("[data-state=loading]");
  const ul = $("#dashboard-list");
  const form = $("#new-dashboard");
  if (!config.features.dashboards) {
    state.textContent = "The dashboards API is not installed on this site.";
    form.closest("section").hidden = true;
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector(".form-error");
    try {
      const created = await post("dashboards", { name: form.name.value, description: form.description.value });
      location.href = config.urls.dashboard_edit.replace("{id}", created.id);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  try {
    const dashboards = await list("dashboards");
    ul.replaceChildren(...dashboards.map((d) => h("li", { class: "card", dataset: { id: String(d.id) } },
      h("h3", {}, h("a", { href: config.urls.dashboard.replace("{id}", d.id) }, d.name)),
      d.description ? h("p", { class: "muted" }, d.description) : null,
      h("p", { class: "meta muted" }, `${(d.widgets || []).length} widgets${d.is_public ? " · public" : ""}`),
      h("a", { class: "button small secondary", href: config.urls.dashboard_edit.replace("{id}", d.id), "aria-label": `Edit ${d.name}` }, "Edit"))));
    state.textContent = dashboards.length ? "" : "No dashboard yet: create one below.";
    state.hidden = !!dashboards.length;
  } catch (err) {
    state.textContent = err.message;
    state.classList.add("error");
  }
}
