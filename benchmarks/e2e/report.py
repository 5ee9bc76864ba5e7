"""The Markdown report (``RESULTS.md``) with the machine description."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psycopg

from e2e.config import END_DATE
from e2e.loadgen import WRK, LoadResult, median_ms, percentile_ms
from e2e.measure import Result, Timings
from e2e.stack import LoadTime, Server


def machine(dsn: str) -> dict[str, str]:
    info = {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "load_before": " / ".join(f"{value:.2f}" for value in os.getloadavg()),
    }
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        info["postgresql"] = str(row[0]) if row else "?"
    info["django"] = metadata.version("django")
    info["gunicorn"] = metadata.version("gunicorn")
    info["psycopg"] = psycopg.__version__
    if WRK:
        done = subprocess.run([WRK, "--version"], capture_output=True, text=True, check=False)
        info["wrk"] = (done.stdout or done.stderr).split(" [", 1)[0].strip() or "wrk"
    return info


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def _ratio(http_ms: float | None, raw_ms: float | None) -> str:
    if http_ms is None or raw_ms is None or raw_ms <= 0:
        return "-"
    return f"{http_ms / raw_ms:.2f}x"


def _pair(timings: Timings) -> str:
    return f"{_ms(timings.median_ms)} / {_ms(timings.p95_ms)}"


def _pair_s(samples: list[float]) -> str:
    return f"{_ms(median_ms(samples))} / {_ms(percentile_ms(samples, 95))}"


def _server_time_section(results: list[Result]) -> list[str]:
    """Client vs server time of the very same HTTP requests of the latency table."""
    lines = [
        "",
        "## Client time vs server time",
        "",
        "The HTTP requests of the table above, timed three ways (ms, median / p95): by the "
        "**client** (request sent -> body read); by **gunicorn** (its access log's `%(D)s`: "
        "request parsed -> response written); by the **app** (`Server-Timing: app;dur=`, "
        "Django inside `RequestIdMiddleware`: URL resolution, authentication, view, rendering). "
        "Client - gunicorn is the loopback network, the client's own parsing and waiting for a "
        "worker; gunicorn - app is WSGI, the outer middlewares and writing the response.",
        "",
        "| workload | kind | n | client | gunicorn | app |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for result in results:
        for kind, client, server, app in (
            ("uncached", result.uncached, result.uncached_server, result.uncached_app),
            ("cached", result.cached, result.cached_server, result.cached_app),
        ):
            if client.samples:
                lines.append(
                    f"| `{result.workload.name}` | {kind} | {len(client.samples)} "
                    f"| {_pair(client)} | {_pair(server)} | {_pair(app)} |"
                )
    return lines


def _cpu(tp: LoadResult, *names: str) -> float:
    return sum(tp.cpu.get(name, 0.0) for name in names)


def _throughput_section(throughput: list[LoadResult]) -> list[str]:
    tools = sorted({tp.tool for tp in throughput})
    client = (
        "`wrk` (one thread, epoll, C)"
        if tools == ["wrk"]
        else "a single-process Python client (non-blocking sockets, one selector)"
        if tools == ["python"]
        else " and ".join(tools)
    )
    lines = [
        "",
        "## Throughput",
        "",
        f"Fixed-duration load from {client} over N connections, each with one request in flight, "
        "after a 1 s warm-up. Latencies in ms (median / p95): client as seen by the load "
        "client, gunicorn and app as above, for exactly these requests (tagged in "
        "`X-Request-ID`). CPU in cores (of 2) over the measurement, read from `/proc`: "
        "gunicorn (master + workers), PostgreSQL (the backends of the benchmark database), "
        "Redis (the whole server), the load client, and **other** (the rest of the machine: "
        "on a shared machine, other people's work). **Server CPU per "
        "request** = (gunicorn + PostgreSQL + Redis) CPU time ÷ requests: what one request "
        "costs the server, much less sensitive to other work on the machine than the rates; "
        "2 cores ÷ that estimates what two dedicated cores could sustain (the load client "
        "aside). gunicorn's time ends after the response is written and the request finished, "
        "so with few samples it can exceed the client's.",
        "",
        "| gunicorn | endpoint | conns | requests/s | client | gunicorn | app | CPU: gunicorn "
        "/ PG / Redis / client / other | server CPU per request | 2 cores ÷ that |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for tp in throughput:
        if tp.note and not tp.requests:
            lines.append(
                f"| {tp.server} | `{tp.target}` | {tp.connections} | - | - | - | - | - | - | - |"
            )
            continue
        server_cpu = _cpu(tp, "gunicorn", "postgres", "redis")
        per_request = server_cpu / tp.rate * 1000 if tp.rate else None
        ceiling = "-" if not per_request else f"{2000 / per_request:.0f}/s"
        errors = f" ({tp.errors} errors)" if tp.errors else ""
        lines.append(
            f"| {tp.server} | `{tp.target}` | {tp.connections} | **{tp.rate:.0f}**{errors} "
            f"| {_ms(tp.client_p50_ms)} / {_ms(tp.client_p95_ms)} "
            f"| {_pair_s(tp.times.gunicorn)} | {_pair_s(tp.times.app)} "
            f"| {_cpu(tp, 'gunicorn'):.2f} / {_cpu(tp, 'postgres'):.2f} / "
            f"{_cpu(tp, 'redis'):.2f} / {_cpu(tp, 'client'):.2f} / {_cpu(tp, 'other'):.2f} "
            f"| {_ms(per_request)} ms | {ceiling} |"
        )
    lines += _floor(throughput)
    return lines


def _floor(throughput: list[LoadResult]) -> list[str]:
    """Split a cache hit into Django's floor, the authentication and prismiq's part."""
    first = throughput[0].server if throughput else ""
    chosen = {
        tp.target: tp
        for tp in throughput
        if tp.server == first and tp.connections == 1 and tp.times.app and tp.rate
    }
    app = {name: median_ms(tp.times.app) or 0.0 for name, tp in chosen.items()}
    cpu = {
        name: _cpu(tp, "gunicorn", "postgres", "redis") / tp.rate * 1000
        for name, tp in chosen.items()
    }
    rows = []
    for suffix, auth in (("", "run's authentication"), ("_session", "session cookie")):
        if not {"health_live", f"tables{suffix}", f"top10_cached{suffix}"} <= chosen.keys():
            continue
        for label, values in (("app time, median", app), ("server CPU per request", cpu)):
            live, tables = values["health_live"], values[f"tables{suffix}"]
            hit = values[f"top10_cached{suffix}"]
            rows.append(
                f"| {auth} | {label} | {live:.2f} ms | {tables:.2f} ms (+{tables - live:.2f}) "
                f"| {hit:.2f} ms ({hit - tables:+.2f}) | {max(0.0, hit - tables) / hit:.0%} |"
            )
    if not rows:
        return []
    return [
        "",
        f"Where a cache hit goes (1 connection, {first}): `health/live` is Django's and "
        "gunicorn's floor (middlewares, DRF, no authentication, no database); `tables` adds the "
        "authentication and a catalog read; the cached top-10 query adds prismiq's cache-hit path "
        "(parse, compile, cache lookups, the cached answer). The last column is the part of the "
        "cache hit that comes after what `tables` costs, i.e. roughly prismiq's own share. With "
        "the session cookie, authentication reads the session (Redis) and the user (PostgreSQL) "
        "and checks the CSRF token on every request; a bearer token is verified in memory. "
        "Wall-clock app times swell when other work takes the CPU; CPU per request much less so.",
        "",
        "| authentication | measure | `health_live` | `tables` | `top10_cached` "
        "| top-10 beyond `tables` |",
        "|---|---|---:|---:|---:|---:|",
        *rows,
    ]


def render(
    args: argparse.Namespace,
    info: dict[str, str],
    counts: dict[str, int],
    load: LoadTime | None,
    results: list[Result],
    throughput: list[LoadResult],
    rss: list[float],
    checks: list[str],
    problems: list[str],
    *,
    servers: list[Server] | None = None,
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    server = (servers or [Server()])[0]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `benchmarks/run.py{' --quick' if args.quick else ''} --orders {args.orders}`"
        f" on {now}. See `benchmarks/README.md` for what is measured and how.",
        "",
        "## Machine",
        "",
        f"- CPU: {info.get('cpu', '?')}, {info['nproc']} cores (`nproc`), shared by the client, "
        "gunicorn, PostgreSQL and Redis",
        f"- Memory: {info.get('memory', '?')}",
        f"- PostgreSQL {info['postgresql']}, Python {info['python']}, Django {info['django']}, "
        f"gunicorn {info['gunicorn']} (2 workers, {server.label}), psycopg {info['psycopg']}, "
        "Redis cache (also for sessions: `cached_db`)",
        "- Authentication of the measured requests: "
        + (
            "a bearer token (djangorestframework-simplejwt's `JWTStatelessUserAuthentication`: "
            "verified in memory, no session or user read); `*_session` rows use the session "
            "cookie"
            if getattr(args, "auth", "session") == "jwt"
            else "the session cookie (+ CSRF token)"
        ),
        f"- Load client: {info.get('wrk', 'the Python fallback (wrk not installed)')}",
        f"- Load average (1/5/15 min) before the measurements: {info['load_before']}; after: "
        + " / ".join(f"{value:.2f}" for value in os.getloadavg())
        + " (other processes on the machine add noise, mostly to the p95 values)",
        "",
        "## Dataset",
        "",
        f"{counts['orders']:,} orders, {counts['items']:,} order items, "
        f"{counts['customers']:,} customers, {counts['products']:,} products "
        f"(`load_demo_data --orders {args.orders} --end-date {END_DATE}`).",
    ]
    if load is not None:
        own = "" if load.loader is None else f"**{load.loader:.1f} s** for the data itself, "
        lines.append(
            f"Loading it took {own}{load.wall:.1f} s for the whole `manage.py load_demo_data "
            "--reset` (Django start-up, emptying the tables, exposure and the demo user included)."
        )
    else:
        lines.append("It was already loaded; the load time was not measured in this run.")
    lines += [
        "",
        "## Latency per workload",
        "",
        "Times in milliseconds, measured by the client on the same machine: **raw DB** = psycopg "
        "executing the SQL the app compiles (from `query/sql`) and fetching every row; **HTTP** "
        "= the whole request through gunicorn + Django + DRF + prismiq_django, response body read; "
        "uncached = `bypass_cache: true`. p95 is nearest-rank over the repetitions shown.",
        "",
        "| workload | rows | n | raw DB median / p95 | HTTP uncached median / p95 | "
        "uncached ÷ raw | HTTP cached median / p95 | cached ÷ raw | response |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        raw, unc, cac = result.raw, result.uncached, result.cached
        size = "-" if result.response_bytes is None else f"{result.response_bytes / 1024:.0f} KiB"
        lines.append(
            f"| `{result.workload.name}` | {'-' if result.rows is None else f'{result.rows:,}'} "
            f"| {len(unc.samples) or len(cac.samples) or len(raw.samples)} "
            f"| {_ms(raw.median_ms)} / {_ms(raw.p95_ms)} "
            f"| {_ms(unc.median_ms)} / {_ms(unc.p95_ms)} | {_ratio(unc.median_ms, raw.median_ms)} "
            f"| {_ms(cac.median_ms)} / {_ms(cac.p95_ms)} | {_ratio(cac.median_ms, raw.median_ms)} "
            f"| {size} |"
        )
    lines += ["", "Workloads:", ""]
    for result in results:
        note = "".join(f" **Note:** {n}." for n in result.notes)
        for timings in (result.raw, result.uncached, result.cached):
            if timings.error:
                note += f" **Error:** {timings.error}."
        lines.append(f"- `{result.workload.name}`: {result.workload.description}.{note}")
    if results:
        lines += _server_time_section(results)
    lines += _throughput_section(throughput)
    if not throughput:
        lines.append("- Not measured (see problems below).")
    lines += ["", "## Memory", ""]
    if rss:
        lines.append(
            "- Peak RSS (VmHWM) of the gunicorn workers after the whole run: "
            + ", ".join(f"{value:.0f} MiB" for value in sorted(rss, reverse=True))
            + " (the 100,000-row listing dominates)."
        )
    else:
        lines.append("- Not measured.")
    if checks:
        lines += ["", "## Checks", ""] + [f"- {check}" for check in checks]
    if problems:
        lines += ["", "## Problems in this run", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"
