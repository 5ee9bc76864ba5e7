"""CPU and Redis round trips of one cached ``query/execute`` hit, measured in process.

Runs Django's ``WSGIHandler`` of the peer site (``peer_site.py``: PostgreSQL, django-redis,
stateless JWT) without any server: each request is a WSGI call, so what is measured is the app's
own cost, from the WSGI environ to the last byte of the body. Prints the CPU time per request
(``time.process_time``, median of ``--rounds`` rounds of ``--requests`` requests; ``--hot``:
through the hot path, ``prismiq_django.api.hotpath.HotPath``), the Redis
commands and round trips per request (counted on redis-py's connection: a pipeline is one round
trip), and with ``--profile`` the top functions of a cProfile run by cumulative time.

    PYTHONPATH=.:benchmarks/peer DJANGO_SETTINGS_MODULE=peer_site \\
        .venv/bin/python benchmarks/peer/profile_hit.py --requests 2000 --profile

Needs the peer site migrated and the ``shop`` database loaded (``benchmarks/peer/run.py`` does
both). ``PEER_RATE_LIMIT=off`` measures with the rate limit off; ``PEER_AUTH=token`` with DRF's
database tokens instead of JWT.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_site")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from redis.connection import Connection  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from prismiq_django.api.hotpath import HotPath  # noqa: E402

COMMAND_START = re.compile(rb"(?:^|\r\n)\*\d+\r\n\$")
PATH = "/api/analytics/query/execute"
TOP_CUSTOMERS = {
    "tables": [{"id": "o", "name": "orders"}, {"id": "c", "name": "customers"}],
    "joins": [
        {
            "from_table_id": "o",
            "from_column": "customer_id",
            "to_table_id": "c",
            "to_column": "id",
            "join_type": "INNER",
        }
    ],
    "columns": [
        {"table_id": "c", "column": "name"},
        {"table_id": "c", "column": "country"},
        {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "spent"},
    ],
    "filters": [
        {"table_id": "o", "column": "created_at", "operator": "gte", "value": "2024-01-01"},
        {"table_id": "c", "column": "country", "operator": "in_", "value": ["US", "DE"]},
    ],
    "order_by": [{"table_id": "o", "column": "total", "aggregation": "sum", "direction": "DESC"}],
    "limit": 10,
}


COUNT_JP = {
    "tables": [{"id": "c", "name": "customers"}],
    "columns": [{"table_id": "c", "column": "*", "aggregation": "count", "alias": "n"}],
    "filters": [{"table_id": "c", "column": "country", "operator": "eq", "value": "JP"}],
}
QUERIES = {"top_customers": TOP_CUSTOMERS, "count_jp": COUNT_JP}


class RoundTrips:
    """Counts what redis-py sends: commands, and packets (one per command or pipeline)."""

    def __init__(self) -> None:
        self.commands = 0
        self.trips = 0
        send = Connection.send_packed_command
        counter = self

        def counted_send(conn: Connection, command: Any, check_health: bool = True) -> None:
            counter.trips += 1
            chunks = command if isinstance(command, list | tuple) else [command]
            data = b"".join(bytes(chunk) for chunk in chunks)
            counter.commands += len(COMMAND_START.findall(data))
            send(conn, command, check_health)

        Connection.send_packed_command = counted_send  # type: ignore[method-assign]


def environ(body: bytes, authorization: str) -> dict[str, Any]:
    """A WSGI environ of a POST of ``body`` to ``query/execute`` with that ``Authorization``."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": PATH,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": authorization,
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def make_call(
    body: bytes, authorization: str, hot: bool = False
) -> Callable[[], tuple[str, bytes]]:
    """One request through Django's ``WSGIHandler``, or through it wrapped in the hot path."""
    app: Any = HotPath(WSGIHandler()) if hot else WSGIHandler()

    def call() -> tuple[str, bytes]:
        status: list[str] = []

        def start_response(s: str, headers: Iterable[Any], exc_info: Any = None) -> None:
            status.append(s)

        result = app(environ(body, authorization), start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return status[0], data

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one round")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument(
        "--sort", default="cumulative", help="pstats order of --profile (tottime: own time)"
    )
    parser.add_argument(
        "--callers", default="", help="with --profile: also print the callers of this function"
    )
    parser.add_argument(
        "--hot", action="store_true", help="through prismiq_django.api.hotpath.HotPath"
    )
    parser.add_argument("--query", choices=sorted(QUERIES), default="top_customers")
    parser.add_argument(
        "--bypass", action="store_true", help='"bypass_cache": true (an uncached run each time)'
    )
    args = parser.parse_args()

    user, _ = get_user_model().objects.get_or_create(username="peer-profile")
    if os.environ.get("PEER_AUTH") == "token":  # DRF's database tokens (peer_site.py)
        from rest_framework.authtoken.models import Token

        authorization = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    else:
        authorization = f"Bearer {AccessToken.for_user(user)}"
    body = {"query": QUERIES[args.query], "bypass_cache": args.bypass}
    call = make_call(json.dumps(body).encode(), authorization, hot=args.hot)
    status, data = call()  # the miss: computes and stores the entry
    assert status.startswith("200"), (status, data[:300])
    for _ in range(50):
        status, data = call()
    assert (b'"is_from_cache":true' in data) is not args.bypass, data[:300]

    trips = RoundTrips()
    status, _ = call()
    print(f"redis per request: {trips.trips} round trips, {trips.commands} commands")

    per_request: list[float] = []
    for _ in range(args.rounds):
        started = time.process_time()
        for _ in range(args.requests):
            call()
        per_request.append((time.process_time() - started) / args.requests * 1000)
    print(
        "CPU per request: median {:.3f} ms (rounds: {}), rate limit {}, {}".format(
            statistics.median(per_request),
            ", ".join(f"{v:.3f}" for v in per_request),
            os.environ.get("PEER_RATE_LIMIT", "on"),
            "hot path" if args.hot else "WSGIHandler",
        )
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            call()
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
        stats.print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
        print(out.getvalue())


if __name__ == "__main__":
    main()
