// Entry point of every page: runs the module named by the page's configuration.

import { config } from "./api.js";

const pages = {
  builder: () => import("./builder.js"),
  saved: () => import("./saved.js"),
  dashboards: () => import("./dashboards.js"),
  dashboard: () => import("./dashboard.js"),
  editor: () => import("./editor.js"),
};

const load = pages[config.page];
if (load) {
  load()
    .then((module) => module.start())
    .then(() => { document.body.dataset.ready = "true"; })
    .catch((err) => {
      document.body.dataset.ready = "error";
      const main = document.getElementById("main");
      const p = document.createElement("p");
      p.className = "state error";
      p.setAttribute("role", "alert");
      p.textContent = err && err.message ? err.message : String(err);
      main.prepend(p);
    });
}
