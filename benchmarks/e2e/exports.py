"""Exports over HTTP (issue 18): a 1,000,000-order CSV against ``psql \\copy``, and an XLSX.

For the CSV, the same ``SELECT`` (the export's compiled statement, from ``query/sql`` with the
export's row count, its parameters inlined by psycopg) is dumped by ``psql -c "\\copy (...) to
stdout csv"`` into ``/dev/null``; both sides are timed from start to the last byte, interleaved
round by round (so background load hits both alike), and the HTTP body is checked (header + one
record per row). The worker's peak RSS growth is its ``VmHWM`` after the export minus its
``VmRSS`` before, with the peak reset (``/proc/<pid>/clear_refs``) just before the export; the
server runs one gunicorn worker so that the export is in a known process.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from e2e.config import API, log
from e2e.workloads import LISTING_COLUMNS

ORDERS_LISTING: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": LISTING_COLUMNS,
    "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
}


def _kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for pid {pid}")


def reset_peak(pid: int) -> bool:
    """Reset the process's ``VmHWM`` to its current RSS (Linux >= 4.0, same user or root)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass(slots=True)
class Download:
    seconds: float
    body_bytes: int
    records: int
    rss_growth_mib: float | None
    status: int
    first_line: bytes = b""


@dataclass(slots=True)
class ExportBench:
    rows: int
    csv_http: list[Download] = field(default_factory=list)
    psql: list[float] = field(default_factory=list)
    psql_bytes: int = 0
    #: psql running the export's own ``COPY`` statement (values spelled as SPEC section 4 says).
    psql_export: list[float] = field(default_factory=list)
    xlsx_rows: int = 0
    xlsx_http: list[Download] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: str = ""

    def ratio(self) -> float | None:
        if not self.csv_http or not self.psql:
            return None
        return statistics.median(d.seconds for d in self.csv_http) / statistics.median(self.psql)

    def markdown(self) -> str:
        def med(values: list[float]) -> str:
            return f"{statistics.median(values):.2f}" if values else "-"

        def growth(downloads: list[Download]) -> str:
            values = [d.rss_growth_mib for d in downloads if d.rss_growth_mib is not None]
            return f"{max(values):.1f}" if values else "-"

        ratio = self.ratio()
        lines = [
            "",
            "## Exports (issue 18)",
            "",
            f"Load average before the section: {self.load} (the machine is shared with other "
            "engineers' test runs and servers: wall-clock times include their work).",
            "",
            "| export | rows | rounds | median s | min s | body MB "
            "| worker peak RSS growth MiB (max) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        if self.psql:
            lines.append(
                f"| `psql \\copy (same SELECT) to stdout csv` | {self.rows:,} | {len(self.psql)} "
                f"| {med(self.psql)} | {min(self.psql):.2f} | {self.psql_bytes / 1e6:.1f} | - |"
            )
        if self.psql_export:
            lines.append(
                f"| `psql -c` of the export's own `COPY` statement (SPEC 4 spelling, escaping) "
                f"| {self.rows:,} | {len(self.psql_export)} | {med(self.psql_export)} "
                f"| {min(self.psql_export):.2f} | - | - |"
            )
        if self.csv_http:
            secs = [d.seconds for d in self.csv_http]
            lines.append(
                f"| `POST query/export` csv | {self.rows:,} | {len(secs)} | {med(secs)} | "
                f"{min(secs):.2f} | {self.csv_http[0].body_bytes / 1e6:.1f} | "
                f"{growth(self.csv_http)} |"
            )
        if self.xlsx_http:
            secs = [d.seconds for d in self.xlsx_http]
            lines.append(
                f"| `POST query/export` xlsx | {self.xlsx_rows:,} | {len(secs)} | {med(secs)} | "
                f"{min(secs):.2f} | {self.xlsx_http[0].body_bytes / 1e6:.1f} | "
                f"{growth(self.xlsx_http)} |"
            )
        lines += [
            "",
            f"CSV through HTTP / psql: **{ratio:.2f}x** (goal <= 1.3x); worker peak RSS growth "
            f"during the CSV export: **{growth(self.csv_http)} MiB** (goal < 50 MB)."
            if ratio is not None
            else "CSV ratio not measured.",
        ]
        if self.psql_export and self.csv_http:
            own = statistics.median(d.seconds for d in self.csv_http) / statistics.median(
                self.psql_export
            )
            lines += [
                "",
                f"CSV through HTTP / psql running the export's own statement: **{own:.2f}x** "
                "(what the app adds to the database's work; the rest of the gap to plain psql "
                "is the database spelling values as section 4 and escaping formulas).",
            ]
        lines += [f"- problem: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _download(
    port: int, auth: dict[str, str], body: dict[str, Any], worker: int | None
) -> Download:
    payload = json.dumps(body).encode()
    headers = {**auth, "Content-Type": "application/json"}
    before = None
    if worker is not None and reset_peak(worker):
        before = _kib(worker, "VmRSS")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    started = time.perf_counter()
    conn.request("POST", API + "query/export", body=payload, headers=headers)
    response = conn.getresponse()
    size = records = 0
    first = b""
    while chunk := response.read1(1 << 20):
        if not first:
            first = chunk.split(b"\r\n", 1)[0]
        size += len(chunk)
        records += chunk.count(b"\n")  # LF: a CRLF may straddle two reads; no LF inside fields
    seconds = time.perf_counter() - started
    conn.close()
    growth = None
    if before is not None and worker is not None:
        growth = (_kib(worker, "VmHWM") - before) / 1024
    return Download(seconds, size, records, growth, response.status, first)


def _psql_select(port: int, auth: dict[str, str], definition: dict[str, Any], dsn: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        API + "query/sql",
        body=json.dumps(definition).encode(),
        headers={**auth, "Content-Type": "application/json"},
    )
    answer = json.loads(conn.getresponse().read())
    conn.close()
    with psycopg.connect(dsn) as pg:
        return psycopg.ClientCursor(pg).mogrify(answer["sql"], answer["params"])


def _psql(dsn: str, select: str, *, statement: str | None = None) -> tuple[float, int]:
    """psql's ``\\copy`` of ``select``, or its run of the ``COPY`` ``statement``."""
    started = time.perf_counter()
    command = ["psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    done = subprocess.run(
        [*command, "-c", statement or f"\\copy ({select}) to stdout csv"],
        stdout=subprocess.PIPE,
        check=True,
    )
    return time.perf_counter() - started, len(done.stdout)


def measure(
    port: int,
    auth: dict[str, str],
    dsn: str,
    worker: int | None,
    *,
    rows: int,
    xlsx_rows: int,
    rounds: int,
    copy_statement: str | None = None,
) -> ExportBench:
    """Measure the CSV (``rows`` rows vs psql) and XLSX (``xlsx_rows``) exports; with
    ``copy_statement`` (the export's own ``COPY``, parameters inlined) psql runs that too."""
    import os

    bench = ExportBench(rows=rows, xlsx_rows=xlsx_rows)
    bench.load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    csv_definition = {**ORDERS_LISTING, "limit": rows}
    # The SELECT the export runs: the definition compiled with the export's row count (query/sql
    # caps at MAX_ROWS; the runner sets it to the export's row count for this section).
    select = _psql_select(port, auth, csv_definition, dsn)
    log("exports: warm-up (small CSV and XLSX)")
    _download(port, auth, {"query": {**ORDERS_LISTING, "limit": 1000}, "format": "csv"}, None)
    _download(port, auth, {"query": {**ORDERS_LISTING, "limit": 1000}, "format": "xlsx"}, None)
    for round_ in range(rounds):
        log(f"exports: round {round_ + 1}/{rounds}: psql \\copy, then HTTP CSV of {rows:,} rows")
        seconds, size = _psql(dsn, select)
        bench.psql.append(seconds)
        bench.psql_bytes = size
        if copy_statement is not None:
            bench.psql_export.append(_psql(dsn, select, statement=copy_statement)[0])
        got = _download(port, auth, {"query": csv_definition, "format": "csv"}, worker)
        bench.csv_http.append(got)
        if got.status != 200 or got.records != rows + 1:
            bench.notes.append(
                f"CSV round {round_ + 1}: HTTP {got.status}, {got.records} records for {rows} rows"
            )
    if xlsx_rows:
        xlsx_definition = {**ORDERS_LISTING, "limit": xlsx_rows}
        for round_ in range(rounds):
            log(f"exports: round {round_ + 1}/{rounds}: XLSX of {xlsx_rows:,} rows")
            got = _download(port, auth, {"query": xlsx_definition, "format": "xlsx"}, worker)
            bench.xlsx_http.append(got)
            if got.status != 200 or not got.first_line.startswith(b"PK"):
                bench.notes.append(f"XLSX round {round_ + 1}: HTTP {got.status}")
    return bench


__all__ = ["ORDERS_LISTING", "ExportBench", "measure"]
