"""Work that runs after the response has been sent (cache writes of computed results).

The result cache hands its writes to a *defer* callable (:data:`prismiq_django.cache.Defer`).
For a request served by a prismiq view, :func:`open_queue` gives the request a queue,
:func:`defer_for` returns the callable that appends to it, and :func:`attach` moves the queued
jobs onto the response: Django runs them when the server closes the response, i.e. after the
last byte of the body was written (WSGI and ASGI servers both call ``close()``; so does the test
client). Encoding and storing a 100,000-row result therefore never delays the answer.

Anything that is not such a request (a management command, a site calling the services from its
own view) gets no queue, and the work runs at once. Jobs never raise into the server: a failure
is logged on ``prismiq_django.cache`` and the rest still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from django.http import HttpResponseBase

logger = logging.getLogger("prismiq_django.cache")

_ATTRIBUTE: Final = "_prismiq_after_response"

Job = Callable[[], None]


def open_queue(request: Any) -> None:
    """Give ``request`` (a DRF or Django request) an empty after-response queue."""
    setattr(request, _ATTRIBUTE, [])


def defer_for(request: object) -> Callable[[Job], None] | None:
    """The ``defer`` callable of ``request``'s queue, or None when it has none (run at once)."""
    queue = getattr(request, _ATTRIBUTE, None)
    return queue.append if isinstance(queue, list) else None


def _guarded(job: Job) -> Job:
    def run() -> None:
        try:
            job()
        except Exception:
            logger.exception("prismiq after-response job failed")

    return run


def attach(request: object, response: HttpResponseBase) -> None:
    """Move ``request``'s queued jobs onto ``response`` (run when it is closed).

    If the response cannot carry them (an object without Django's closer list), they run now.
    """
    queue = getattr(request, _ATTRIBUTE, None)
    if not isinstance(queue, list) or not queue:
        return
    jobs = [_guarded(job) for job in queue]
    queue.clear()
    closers = getattr(response, "_resource_closers", None)
    if isinstance(closers, list):
        closers.extend(jobs)
        return
    for job in jobs:
        job()


__all__ = ["Job", "attach", "defer_for", "open_queue"]
