"""Server-side request times from gunicorn's access log (``stack.ACCESS_LOG_FORMAT``).

Each benchmark request carries an ``X-Request-ID`` tag; gunicorn logs it with the request time it
measured (``%(D)s``: request parsed -> response written, in microseconds) and the app's
``Server-Timing: app;dur=<ms>`` (RequestIdMiddleware). Reading the lines of one tag gives the
server's view of exactly the requests the client timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from e2e.client import app_ms


@dataclass(slots=True)
class ServerTimes:
    """Seconds per request as gunicorn saw it (``gunicorn``) and as Django did (``app``)."""

    gunicorn: list[float] = field(default_factory=list)
    app: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


class AccessLog:
    """The access log file of one gunicorn run; read incrementally from an offset."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def offset(self) -> int:
        """The current end of the log: read from here to see only later requests."""
        return self.path.stat().st_size if self.path.exists() else 0

    def times(self, start: int, prefix: str, *, settle_s: float = 0.3) -> ServerTimes:
        """Times of the requests logged after ``start`` whose request id starts with ``prefix``.

        gunicorn writes the line after the response is sent, so the last lines may land just
        after the client got its answer: wait ``settle_s`` first.
        """
        time.sleep(settle_s)
        result = ServerTimes()
        if not self.path.exists():
            return result
        with self.path.open("rb") as handle:
            handle.seek(start)
            data = handle.read().decode(errors="replace")
        for line in data.splitlines():
            parts = line.split(" ", 3)
            if len(parts) < 3 or not parts[0].startswith(prefix):
                continue
            status, micros = parts[1], parts[2]
            result.statuses[status] = result.statuses.get(status, 0) + 1
            try:
                result.gunicorn.append(int(micros) / 1e6)
            except ValueError:
                continue
            app = app_ms(parts[3]) if len(parts) > 3 else None
            if app is not None:
                result.app.append(app / 1000)
        return result
