"""Copy the browser libraries from node_modules/ into the package's static vendor folder.

Run by ``make vendor`` after ``npm ci`` (package.json pins the exact versions, package-lock.json
the exact tarballs). Copies each library's distributed file(s) as published, with its licence
files, and records name, version, licence and the copied files in ``versions.json`` and
``VENDORED.md`` beside them. Nothing is built or minified here.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
TARGET = ROOT / "prismiq_django" / "static" / "prismiq_django" / "vendor"

#: package -> (files copied from the package, licence files copied from the package, why)
LIBRARIES: dict[str, tuple[list[str], list[str], str]] = {
    "echarts": (
        ["dist/echarts.min.js"],
        ["LICENSE", "NOTICE", "licenses/LICENSE-d3"],
        "charts of the dashboard and query builder pages (global `echarts`)",
    ),
    # ECharts' dist file bundles zrender: its licence ships too.
    "zrender": ([], ["LICENSE"], "bundled inside echarts.min.js (renderer)"),
    "gridstack": (
        ["dist/gridstack-all.js", "dist/gridstack.min.css"],
        ["LICENSE", "dist/gridstack-all.js.LICENSE.txt"],
        "the dashboard editor's drag-and-resize grid (global `GridStack`)",
    ),
}


def _pinned() -> dict[str, str]:
    manifest = json.loads((ROOT / "package.json").read_text())
    return dict(manifest["devDependencies"])


def main() -> int:
    pinned = _pinned()
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    records = []
    for name, (files, licences, purpose) in LIBRARIES.items():
        package_dir = NODE_MODULES / name
        meta = json.loads((package_dir / "package.json").read_text())
        version = meta["version"]
        if name in pinned and pinned[name] != version:
            print(f"{name}: installed {version}, package.json pins {pinned[name]}", file=sys.stderr)
            return 1
        out = TARGET / name
        out.mkdir()
        copied = []
        for rel in [*files, *licences]:
            source = package_dir / rel
            dest = out / Path(rel).name
            shutil.copyfile(source, dest)
            copied.append(f"{name}/{dest.name}")
        records.append(
            {
                "name": name,
                "version": version,
                "license": meta.get("license", ""),
                "homepage": meta.get("homepage", ""),
                "purpose": purpose,
                "files": copied,
            }
        )
    (TARGET / "versions.json").write_text(json.dumps(records, indent=2) + "\n")
    lines = [
        "# Vendored browser libraries",
        "",
        "Copied from npm by `make vendor` (package.json pins the versions, package-lock.json",
        "the tarballs); served from here, never from a CDN. Do not edit these files: change the",
        "pin and run `make vendor` again.",
        "",
        "| package | version | licence | files | used for |",
        "|---|---|---|---|---|",
    ]
    for rec in records:
        files_cell = ", ".join(f"`{f}`" for f in rec["files"])
        lines.append(
            f"| {rec['name']} | {rec['version']} | {rec['license']} | {files_cell} | "
            f"{rec['purpose']} |"
        )
    (TARGET / "VENDORED.md").write_text("\n".join(lines) + "\n")
    print(f"vendored {', '.join(r['name'] + ' ' + r['version'] for r in records)} into {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
