"""Throughput: a fixed-duration load at N connections, with server times and CPU per process group.

The load comes from ``wrk`` (Debian package ``wrk``; ``make bench-tools`` installs it) when it is
on the ``PATH``: one C thread with epoll, a few percent of a core at 1,000 requests/s, so almost
all of the 2 cores stay with the server. Without it, a lean single-process Python client
(:func:`run_python`: non-blocking sockets and one selector, raw HTTP/1.1 bytes, no http.client)
does the same job at a higher CPU cost, which the report shows.

Every request carries an ``X-Request-ID`` tag, so gunicorn's access log gives the server-side time
of exactly these requests (:mod:`e2e.accesslog`). CPU time is read from ``/proc`` before and after
and split into the client, gunicorn (master + workers), PostgreSQL, Redis and everything else on
the machine (``other``: on a shared machine, other people's work).
"""

from __future__ import annotations

import json
import os
import re
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from e2e.accesslog import AccessLog, ServerTimes
from e2e.client import Client
from e2e.config import API

WRK = shutil.which("wrk")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Target:
    """One request, sent over and over: ``name`` also tags it (``X-Request-ID``)."""

    name: str
    method: str
    path: str  # below the API prefix
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(slots=True)
class LoadResult:
    target: str
    connections: int
    tool: str  # "wrk" or "python"
    server: str = ""  # gunicorn setup (stack.Server.label)
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    client_p50_ms: float | None = None
    client_p95_ms: float | None = None
    times: ServerTimes = field(default_factory=ServerTimes)
    cpu: dict[str, float] = field(default_factory=dict)  # cores used per group
    note: str | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile_ms(samples: list[float], pct: int) -> float | None:
    """Nearest-rank percentile of seconds, in ms."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[(pct * len(ordered) + 99) // 100 - 1] * 1000


def median_ms(samples: list[float]) -> float | None:
    return statistics.median(samples) * 1000 if samples else None


# --- CPU accounting --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float
    busy: int  # machine-wide busy ticks (/proc/stat)
    processes: dict[int, tuple[str, int]]  # pid -> (comm, utime + stime ticks)


def cpu_snapshot() -> CpuSnapshot:
    processes: dict[int, tuple[str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        if comm.startswith("postgres"):  # a backend's title names its database
            try:
                title = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                title = ""
            comm = f"postgres:{title}"
        fields = raw[raw.rindex(")") + 2 :].split()
        processes[int(entry.name)] = (comm, int(fields[11]) + int(fields[12]))
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(values) - values[3] - (values[4] if len(values) > 4 else 0)  # minus idle, iowait
    return CpuSnapshot(time.monotonic(), busy, processes)


def cpu_usage(
    before: CpuSnapshot,
    after: CpuSnapshot,
    groups: dict[str, set[int]],
    client_s: float | None,
    database: str,
) -> dict[str, float]:
    """Cores used between the snapshots: per pid group, ``postgres``, ``redis``, ``other``.

    ``postgres`` counts the backends connected to ``database`` only (other databases on the
    same server are someone else's work); ``redis`` is the whole Redis server. ``client_s`` (CPU
    seconds of a client child that has exited) is added to ``client``. ``machine`` is the whole
    machine (all cores).
    """
    backend = f" {database} "
    wall = after.at - before.at
    usage = dict.fromkeys((*groups, "postgres", "redis"), 0.0)
    known = 0.0
    for pid, (comm, ticks) in after.processes.items():
        previous = before.processes.get(pid)
        spent = (ticks - (previous[1] if previous else 0)) / _TICK  # new: all of its time
        group = next((name for name, pids in groups.items() if pid in pids), None)
        if group is None:
            if comm.startswith("postgres:"):
                group = "postgres" if backend in comm else None
            elif comm.startswith("redis"):
                group = "redis"
        if group is not None:
            usage[group] += spent / wall
            known += spent
    if client_s is not None:
        usage["client"] = usage.get("client", 0.0) + client_s / wall
        known += client_s
    machine = (after.busy - before.busy) / _TICK
    usage["other"] = max(0.0, machine - known) / wall
    usage["machine"] = machine / wall
    return usage


# --- wrk -------------------------------------------------------------------------------------


def _lua_string(value: str) -> str:
    if "]==]" in value:
        raise ValueError("cannot quote this value for Lua")
    return f"[==[{value}]==]"


_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    "WRK-RESULT {\\"requests\\":%d,\\"duration_us\\":%d,\\"connect\\":%d,\\"read\\":%d," ..
    "\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d,\\"p50_us\\":%d,\\"p95_us\\":%d}\\n",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


def wrk_script(target: Target, request_id: str) -> str:
    """Lua for wrk: send ``target`` (method, headers, body), tagged ``request_id``."""
    lines = [f"wrk.method = {_lua_string(target.method)}"]
    if target.body is not None:
        lines.append(f"wrk.body = {_lua_string(target.body.decode())}")
    for name, value in {**target.headers, "X-Request-ID": request_id}.items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    return "\n".join(lines) + "\n" + _DONE


@dataclass(slots=True)
class ClientStats:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    cpu_s: float = 0.0


def run_wrk(
    port: int, target: Target, request_id: str, connections: int, duration: float
) -> ClientStats:
    """``wrk`` with one thread and ``connections`` keep-alive connections for ``duration`` s."""
    assert WRK is not None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(wrk_script(target, request_id))
        script = handle.name
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        url = f"http://127.0.0.1:{port}{API}{target.path}"
        done = subprocess.run(
            [
                WRK,
                "-t1",
                f"-c{connections}",
                f"-d{duration:.0f}s",
                "--timeout=30s",
                "-s",
                script,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.unlink(script)
    match = re.search(r"^WRK-RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-300:]}")
    data = json.loads(match.group(1))
    errors = sum(data[key] for key in ("connect", "read", "write", "status", "timeout"))
    return ClientStats(
        requests=data["requests"] - data["status"],
        errors=errors,
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    )


# --- the Python fallback ---------------------------------------------------------------------


def raw_request(target: Target, request_id: str) -> bytes:
    head = [f"{target.method} {API}{target.path} HTTP/1.1", "Host: 127.0.0.1"]
    head += [f"{k}: {v}" for k, v in {**target.headers, "X-Request-ID": request_id}.items()]
    body = target.body or b""
    if target.body is not None:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class _Conn:
    __slots__ = ("buffer", "sock", "started")

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.started = 0.0


def _complete(buffer: bytearray) -> tuple[int, int, bool] | None:
    """``(status, total length, server closes)`` once a whole response is buffered."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
    if "content-length" not in headers:
        raise RuntimeError("response without Content-Length")
    total = end + 4 + int(headers["content-length"])
    if len(buffer) < total:
        return None
    return status, total, headers.get("connection", "").lower() == "close"


def run_python(
    port: int, target: Target, request_id: str, connections: int, duration: float
) -> ClientStats:
    """One process, ``connections`` non-blocking sockets, one request in flight on each."""
    payload = raw_request(target, request_id)
    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    stats = ClientStats()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    deadline = started + duration

    def send(conn: _Conn) -> None:
        conn.started = time.perf_counter()
        conn.sock.setblocking(True)
        conn.sock.sendall(payload)
        conn.sock.setblocking(False)

    def reopen(conn: _Conn | None) -> None:
        if conn is not None:
            selector.unregister(conn.sock)
            conn.sock.close()
        if time.perf_counter() < deadline:
            fresh = _Conn(port)
            selector.register(fresh.sock, selectors.EVENT_READ, fresh)
            send(fresh)

    for _ in range(connections):
        reopen(None)
    while selector.get_map():
        if time.perf_counter() > deadline + 30:
            stats.errors += len(selector.get_map())
            break
        for key, _ in selector.select(timeout=1.0):
            conn: _Conn = key.data
            try:
                chunk = conn.sock.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:  # closed by the server: count it unless between requests
                stats.errors += 1
                reopen(conn)
                continue
            conn.buffer += chunk
            done = _complete(conn.buffer)
            if done is None:
                continue
            status, length, closes = done
            latencies.append(time.perf_counter() - conn.started)
            if 200 <= status < 300:
                stats.requests += 1
            else:
                stats.errors += 1
            del conn.buffer[:length]
            if closes:
                reopen(conn)
            elif time.perf_counter() < deadline:
                send(conn)
            else:
                selector.unregister(conn.sock)
                conn.sock.close()
    stats.seconds = time.perf_counter() - started
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    stats.cpu_s = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    stats.p50_ms = percentile_ms(latencies, 50)
    stats.p95_ms = percentile_ms(latencies, 95)
    return stats


# --- one measurement -------------------------------------------------------------------------


def measure_load(
    port: int,
    target: Target,
    connections: int,
    duration: float,
    access_log: AccessLog,
    server_pids: set[int],
    *,
    database: str,
    use_wrk: bool = True,
) -> LoadResult:
    """Load ``target`` with ``connections`` connections for ``duration`` s (after a 1 s warm-up)."""
    tool = "wrk" if use_wrk and WRK else "python"
    run = run_wrk if tool == "wrk" else run_python
    run(port, target, f"warm-{target.name}", connections, 1.0)
    tag = f"load-{target.name}-c{connections}-"
    start = access_log.offset()
    before = cpu_snapshot()
    stats = run(port, target, f"{tag}{os.getpid()}", connections, duration)
    after = cpu_snapshot()
    # This process is the client (python) or waits for it (wrk, whose time comes from rusage).
    groups = {"gunicorn": server_pids, "client": {os.getpid()}}
    result = LoadResult(
        target=target.name,
        connections=connections,
        tool=tool,
        requests=stats.requests,
        errors=stats.errors,
        seconds=stats.seconds,
        client_p50_ms=stats.p50_ms,
        client_p95_ms=stats.p95_ms,
        cpu=cpu_usage(before, after, groups, stats.cpu_s if tool == "wrk" else None, database),
    )
    result.times = access_log.times(start, tag)
    return result


def throughput_targets(
    auth: dict[str, str], top10: dict[str, object], session: dict[str, str] | None = None
) -> list[Target]:
    """``health/live`` (Django's floor: no auth, no database), ``tables`` (+ authentication and
    one catalog lookup) and the cached top-10 query (+ prismiq's cache hit), authenticated with
    ``auth``; with ``session`` (a session cookie + CSRF token), ``tables`` and the cached top-10
    once more as ``*_session``, to show what Django's session authentication costs per request."""
    body = json.dumps({"query": top10}).encode()
    json_type = {"Content-Type": "application/json"}
    targets = [
        Target("health_live", "GET", "health/live"),
        Target("tables", "GET", "tables", dict(auth)),
        Target("top10_cached", "POST", "query/execute", {**auth, **json_type}, body),
    ]
    if session is not None:
        targets += [
            Target("tables_session", "GET", "tables", dict(session)),
            Target("top10_cached_session", "POST", "query/execute", {**session, **json_type}, body),
        ]
    return targets


def run_throughput(
    port: int,
    server_pids: set[int],
    auth: dict[str, str],
    top10: dict[str, object],
    access_log: AccessLog,
    connection_counts: list[int],
    duration: float,
    *,
    server: str,
    database: str,
    use_wrk: bool = True,
    session: dict[str, str] | None = None,
) -> list[LoadResult]:
    """Every target of :func:`throughput_targets` at every connection count; the top-10 answer
    is checked to be a cache hit."""
    checker = Client(port, auth)
    try:
        checker.json("POST", "query/execute", {"query": top10})  # fills the cache
        answer = checker.json("POST", "query/execute", {"query": top10})
    finally:
        checker.close()
    results = []
    for target in throughput_targets(auth, top10, session):
        for connections in connection_counts:
            try:
                result = measure_load(
                    port,
                    target,
                    connections,
                    duration,
                    access_log,
                    server_pids,
                    database=database,
                    use_wrk=use_wrk,
                )
            except Exception as exc:  # one failing phase must not stop the run
                result = LoadResult(
                    target.name, connections, "wrk" if use_wrk and WRK else "python"
                )
                result.note = f"{type(exc).__name__}: {str(exc)[:200]}"
            result.server = server
            if target.name.startswith("top10_cached") and not answer.get("is_from_cache"):
                result.note = "the top-10 answer was not a cache hit"
            results.append(result)
    return results
