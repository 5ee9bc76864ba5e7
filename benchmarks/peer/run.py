"""Side by side with Prismiq (issue 22): the same workload against both backends, one run.

    .venv/bin/python benchmarks/peer/run.py                 # the full run (about 15 minutes)
    .venv/bin/python benchmarks/peer/run.py --smoke         # seconds per phase: not figures

What it does, in order:

1. The dataset: database ``shop`` built from ``/work/shared/bench/shop.sql`` at scale 5
   (1,000,000 orders) with ``psql``, only when it has no ``orders`` table.
2. Prismiq at commit ``1cffaea``: ``git archive`` of that commit from ``--prismiq-git`` (a clone
   or bare mirror of statisfy-us/prismiq) into ``--scratch``, a Python 3.11 virtualenv there
   with the pinned packages of the bench README (pip), then ``uvicorn app:app`` of
   ``prismiq-host/app.py`` on 127.0.0.1:8711, 1 worker. Each step is skipped when done.
3. Ours, as docs/deployment.md recommends: the peer site (``peer_site.py``: PostgreSQL with
   persistent connections, django-redis on Redis database 7, stateless JWT, ``RATE_LIMIT`` on
   at a rate the run never reaches) migrated into ``prismiq_peer``, served by granian's WSGI
   interface with the example project's ``wsgi.py`` (the hot path), 2 workers x 1 blocking
   thread (``--worker-class granian|gthread|sync|uvicorn``, ``--workers``, ``--threads``: pass
   ``--threads 2`` for gthread); a 12-hour access token for a benchmark user. With ``--auth
   jwt,token`` (the default) a second server of ours on 127.0.0.1:8713 authenticates with DRF's
   database tokens instead (``PEER_AUTH=token``: the token row and its user read on every
   request); its runs are labelled ``ours-token-N``, the stateless ones ``ours-N``.
4. ``peer_bench.py`` for both, ``--rounds`` times in alternating order (Prismiq first in odd
   rounds, ours first in even ones), each with ``--server-pid`` so the server's CPU per request
   is measured; then ``peer_bench.py --compare`` of every run, written between
   ``<!-- peer:begin -->`` and ``<!-- peer:end -->`` in ``benchmarks/RESULTS.md`` (``run.py``
   keeps the section when it rewrites the file). JSON reports stay in ``--scratch``.

Both servers run for the whole run (the idle one costs nothing). Nothing else should run on the
machine: its 2 cores are shared by the servers, PostgreSQL and the load generator.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from e2e.sections import markers, write_section  # noqa: E402

BENCH = Path("/work/shared/bench")
PRISMIQ_COMMIT = "1cffaea"
PRISMIQ_PINS = [
    "asyncpg==0.31.0",
    "pydantic==2.12.5",
    "fastapi==0.127.1",
    "starlette==0.50.0",
    "sqlalchemy==2.0.45",
    "sqlglot==28.5.0",
    "uvicorn==0.40.0",
]
PG = "postgresql://root@127.0.0.1:5432"
SHOP_DSN = f"{PG}/shop"
SITE_DSN = f"{PG}/prismiq_peer"
PRISMIQ_PORT = 8711
OURS_PORT = 8712
OURS_TOKEN_PORT = 8713
#: --auth value -> the label of that server's runs, and how the section describes it
LABELS = {"jwt": "ours", "token": "ours-token"}
AUTH_TEXT = {
    "jwt": "stateless JWT (`ours-N`)",
    "token": "DRF's database tokens (`ours-token-N`: `Authorization: Token`, the token row and "
    "its user read on every request)",
}
OURS_API = "/api/analytics"
WORKER_SPLIT = (
    "Each run's server CPU split between its worker processes, in percent, the busiest first "
    "(the whole peer_bench run; the throughput phase is most of it): a split far from even "
    "means the 4 connections of the throughput phase landed unevenly on the workers, and its "
    "req/s is then that of fewer workers: "
)


def log(message: str) -> None:
    print(f"[peer {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def psql(database: str, *args: str) -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "root", "-d", database, "-At", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def ensure_database(name: str) -> None:
    if not psql("postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        log(f"creating database {name}")
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "root", name], check=True)


def ensure_shop(scale: int) -> None:
    ensure_database("shop")
    if psql("shop", "-c", "SELECT to_regclass('public.orders') IS NOT NULL") == "t":
        log("shop dataset present")
        return
    log(f"building the shop dataset, scale {scale}")
    started = time.perf_counter()
    psql(
        "shop", "-q", "-v", f"scale={scale}", "-v", "ON_ERROR_STOP=1", "-f", str(BENCH / "shop.sql")
    )
    log(f"shop dataset built in {time.perf_counter() - started:.0f} s")


def ensure_prismiq(git_dir: Path, scratch: Path) -> tuple[Path, Path]:
    """The export of Prismiq at PRISMIQ_COMMIT and its virtualenv's python."""
    export = scratch / f"prismiq-{PRISMIQ_COMMIT}"
    if not (export / "packages" / "python").is_dir():
        log(f"exporting Prismiq {PRISMIQ_COMMIT} from {git_dir}")
        export.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", f"--git-dir={git_dir}", "archive", PRISMIQ_COMMIT],
            check=True,
            capture_output=True,
        )
        subprocess.run(["tar", "-x", "-C", str(export)], input=archive.stdout, check=True)
    venv = scratch / "prismiq-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".pins"
    if not stamp.exists() or stamp.read_text() != "\n".join(PRISMIQ_PINS):
        log("making Prismiq's virtualenv (pinned packages)")
        subprocess.run(
            [shutil.which("python3.11") or "python3.11", "-m", "venv", str(venv)], check=True
        )
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PRISMIQ_PINS], check=True)
        stamp.write_text("\n".join(PRISMIQ_PINS))
    return export, python


def wait_for(port: int, path: str, headers: dict[str, str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers=headers)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"nothing answered 200 on 127.0.0.1:{port}{path}")
        time.sleep(0.5)


@contextmanager
def server(command: list[str], env: dict[str, str], cwd: Path, logfile: Path) -> Iterator[int]:
    """Start ``command`` in its own process group; yield its pid; stop it (that group) after."""
    with logfile.open("w") as out:
        proc = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc.pid
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def worker_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of each child process of ``pid`` (its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        children += [int(child) for child in task.read_text().split()]
    spent: dict[int, float] = {}
    for child in children:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            spent[child] = (int(fields[11]) + int(fields[12])) / ticks
    return spent


def split(before: dict[int, float], after: dict[int, float]) -> str:
    """Each worker's share of the workers' CPU between two :func:`worker_cpu` readings, the
    largest first ("61/39"); empty with fewer than two workers."""
    used = sorted((after[pid] - before.get(pid, 0.0) for pid in after), reverse=True)
    total = sum(used)
    if len(used) < 2 or total <= 0:
        return ""
    return "/".join(f"{100 * share / total:.0f}" for share in used)


def ours_env(rate_limit: str, auth: str = "jwt") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=f"{ROOT}{os.pathsep}{HERE}",
        DJANGO_SETTINGS_MODULE="peer_site",
        PEER_SITE_DSN=SITE_DSN,
        PEER_SHOP_DSN=SHOP_DSN,
        PEER_RATE_LIMIT=rate_limit,
        PEER_AUTH=auth,
    )
    return env


SETUP_SCRIPT = """
import django
django.setup()
from datetime import timedelta
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken
user, _ = get_user_model().objects.get_or_create(username="peer-bench")
from rest_framework.authtoken.models import Token
token = AccessToken.for_user(user)
token.set_exp(lifetime=timedelta(hours=12))
print(Token.objects.get_or_create(user=user)[0].key)
print(token)
"""


def prepare_ours(env: dict[str, str]) -> tuple[str, str]:
    """Migrate the peer site; the benchmark user's (access token, database token key)."""
    ensure_database("prismiq_peer")
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    done = subprocess.run(
        [sys.executable, "-c", SETUP_SCRIPT],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    key, token = done.stdout.strip().splitlines()[-2:]
    return token, key


def ours_command(worker_class: str, workers: int, threads: int, port: int = OURS_PORT) -> list[str]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    bind = f"127.0.0.1:{port}"
    loopback = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if worker_class == "granian":  # docs/deployment.md's recommendation: Rust HTTP, WSGI threads
        granian = str(Path(sys.executable).with_name("granian"))
        return [granian, "--interface", "wsgi", *loopback, "--blocking-threads", str(threads),
                "--no-ws", "example_project.wsgi:application"]  # fmt: skip
    if worker_class == "uvicorn":  # ASGI, for comparison: Django's sync views in a thread pool
        uvicorn = str(Path(sys.executable).with_name("uvicorn"))
        return [uvicorn, "peer_asgi:application", *loopback, "--no-access-log"]
    command = [
        gunicorn,
        "example_project.wsgi",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads), "--keep-alive", "5"]
    return command


def bench(
    label: str, base: str, header: str, pid: int, out: Path, args: argparse.Namespace
) -> None:
    command = [
        sys.executable, str(BENCH / "peer_bench.py"), "--label", label, "--base-url", base,
        "--header", header, "--dsn", SHOP_DSN, "--json", str(out), "--server-pid", str(pid),
        "--requests", str(args.requests), "--phase-seconds", str(args.phase_seconds),
        "--throughput-seconds", str(args.throughput_seconds),
        "--concurrency", str(args.concurrency),
    ]  # fmt: skip
    if args.only:
        command += ["--only", args.only]
    log(f"peer_bench {label}")
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def section(table: str, args: argparse.Namespace, runs: list[str]) -> str:
    begin, end = markers("peer")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    threads = {
        "gthread": f" x {args.threads} threads, keep-alive 5 s",
        "granian": f" x {args.threads} blocking thread(s), WSGI, prismiq's hot path",
    }.get(args.worker_class, "")
    server = "granian" if args.worker_class == "granian" else f"gunicorn {args.worker_class}"
    kind = "SMOKE RUN (short phases: not figures to compare)" if args.smoke else "full run"
    return "\n".join([
        begin,
        "## Side by side with Prismiq (issue 22)",
        "",
        f"`benchmarks/peer/run.py` ({kind}), {when}; load average before: {load[0]:.2f}. "
        f"Dataset `shop.sql` scale {args.scale}. Prismiq {PRISMIQ_COMMIT}: FastAPI + asyncpg, "
        f"1 uvicorn worker, header auth, its in-memory cache. Ours: {server} "
        f"({args.workers} workers" + threads
        + "), " + " and ".join(AUTH_TEXT[auth] for auth in args.auth.split(",") if auth)
        + ", PostgreSQL persistent connections (prepared statements on the site's own alias), "
        "django-redis result cache, "
        f"RATE_LIMIT {'off' if args.rate_limit == 'off' else 'on (' + args.rate_limit + ')'}. "
        f"Runs in order: {', '.join(runs)}.",
        "",
        table.strip(),
        end,
        "",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=5)
    parser.add_argument(
        "--prismiq-git", type=Path, default=Path("/work/.mirror/statisfy-us+prismiq/repo")
    )
    parser.add_argument("--scratch", type=Path, default=ROOT / "var" / "peer")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--worker-class", choices=["granian", "gthread", "sync", "uvicorn"], default="granian"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rate-limit", default="1000000/m", help="our RATE_LIMIT ('off': none)")
    parser.add_argument(
        "--auth",
        default="jwt,token",
        help="our authentications to run, comma-separated: jwt (stateless), token (database)",
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--phase-seconds", type=float, default=30.0)
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--only", default="", help="peer_bench.py --only (a subset of the workload)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="3 samples, 2 s phases, 1 round, top_customers and count_jp only",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.phase_seconds, args.throughput_seconds, args.rounds = 3, 2.0, 2.0, 1
        args.only = args.only or "top_customers,count_jp"

    args.scratch.mkdir(parents=True, exist_ok=True)
    ensure_shop(args.scale)
    export, prismiq_python = ensure_prismiq(args.prismiq_git, args.scratch)
    env = ours_env(args.rate_limit)
    token, key = prepare_ours(env)
    auths = [a for a in args.auth.split(",") if a]
    if not auths or set(auths) - {"jwt", "token"}:
        raise SystemExit(f"--auth: jwt and/or token, not {args.auth!r}")

    prismiq_env = dict(
        os.environ, PYTHONPATH=str(export / "packages" / "python"), PRISMIQ_BENCH_DSN=SHOP_DSN
    )
    prismiq_cmd = [
        str(prismiq_python),
        "-m",
        "uvicorn",
        "app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(PRISMIQ_PORT),
        "--workers",
        "1",
    ]
    #: label -> (port, Authorization header) of each server of ours, in --auth order
    ours = {
        LABELS[auth]: (port, credential)
        for auth, port, credential in [
            ("jwt", OURS_PORT, f"Bearer {token}"),
            ("token", OURS_TOKEN_PORT, f"Token {key}"),
        ]
        if auth in auths
    }
    host = BENCH / "prismiq-host"
    with contextlib.ExitStack() as stack:
        pids = {
            "prismiq": stack.enter_context(
                server(prismiq_cmd, prismiq_env, host, args.scratch / "prismiq.log")
            )
        }
        for auth in auths:
            who = LABELS[auth]
            command = ours_command(args.worker_class, args.workers, args.threads, ours[who][0])
            pids[who] = stack.enter_context(
                server(command, ours_env(args.rate_limit, auth), ROOT, args.scratch / f"{who}.log")
            )
        wait_for(PRISMIQ_PORT, "/api/schema", {"X-Tenant-ID": "t1"})
        for port, credential in ours.values():
            wait_for(port, f"{OURS_API}/schema", {"Authorization": credential})
        reports: list[Path] = []
        runs: list[str] = []
        balance: list[str] = []  # each multi-worker run's CPU split between its workers
        for round_ in range(1, args.rounds + 1):
            order = ["prismiq", *ours] if round_ % 2 else [*reversed(ours), "prismiq"]
            for who in order:
                label = f"{who}-{round_}"
                out = args.scratch / f"{label}.json"
                if who == "prismiq":
                    base, header = f"http://127.0.0.1:{PRISMIQ_PORT}/api", "X-Tenant-ID: t1"
                else:
                    port, credential = ours[who]
                    base = f"http://127.0.0.1:{port}{OURS_API}"
                    header = f"Authorization: {credential}"
                before = worker_cpu(pids[who])
                bench(label, base, header, pids[who], out, args)
                shares = split(before, worker_cpu(pids[who]))
                if shares:
                    balance.append(f"{label} {shares}")
                reports.append(out)
                runs.append(label)
    compared = subprocess.run(
        [sys.executable, str(BENCH / "peer_bench.py"), "--compare", *map(str, reports)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    table = compared.stdout
    if balance:
        table = table.rstrip() + "\n\n" + WORKER_SPLIT + "; ".join(balance) + ".\n"
    write_section(args.output, section(table, args, runs), "peer")
    print(compared.stdout)
    log(f"wrote the peer section of {args.output}")


if __name__ == "__main__":
    main()
