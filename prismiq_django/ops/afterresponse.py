"""Work that runs when the response is closed (cache writes of computed results).

The result cache hands its writes to a *defer* callable (:data:`prismiq_django.cache.Defer`).
For a request served by a prismiq view, :func:`open_queue` gives the request a queue,
:func:`defer_for` returns the callable that appends to it, and :func:`attach` moves the queued
jobs onto the response: Django runs them when the server closes the response (WSGI and ASGI
servers both call ``close()``; so does the test client). gunicorn and the ASGI servers close it
after the last byte of the body was written, so there encoding and storing a 100,000-row result
never delays the answer; granian's WSGI worker sends the body only once ``close()`` returned.

Anything that is not such a request (a management command, a site calling the services from its
own view) gets no queue, and the work runs at once. Jobs never raise into the server: a failure
is logged on ``prismiq_django.cache`` and the rest still run.

The jobs include releasing the result cache's single-flight lock, so they must run even when the
response they were attached to is never closed: a site view that calls a prismiq view and answers
with a response of its own, a renderer or middleware failure after the view returned (Django
answers a new 500 response), an ASGI client that disconnects while the view runs (Django then
drops the response). Each response's jobs therefore run exactly once, at the first of: the
response's ``close()``; the next ``request_finished`` signal sent in the thread that attached
them (Django sends it when it closes whichever response it did send, and on an ASGI disconnect);
the next ``request_finished`` in any thread after the response was garbage collected. (Never in
the collector itself: a collection can start inside a cache client holding its own lock.)
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from django.http import HttpResponseBase

logger = logging.getLogger("prismiq_django.cache")

_ATTRIBUTE: Final = "_prismiq_after_response"

Job = Callable[[], None]


def open_queue(request: Any) -> None:
    """Give ``request`` (a DRF or Django request) an empty after-response queue.

    Jobs still in it at the next ``request_finished`` of this thread (an exception escaped the
    view before :func:`attach`) run then.
    """
    queue: list[Job] = []
    setattr(request, _ATTRIBUTE, queue)
    _pending.queues.append(queue)


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


class _Once:
    """Jobs that run (guarded) on the first call only; later calls do nothing."""

    __slots__ = ("_jobs", "_lock")

    def __init__(self, jobs: list[Job]) -> None:
        self._jobs: list[Job] | None = jobs
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            jobs, self._jobs = self._jobs, None
        for job in jobs or ():
            _guarded(job)()


class _Pending(threading.local):
    def __init__(self) -> None:
        self.batches: list[_Once] = []
        self.queues: list[list[Job]] = []


_pending: Final = _Pending()


#: Batches of responses collected unclosed, for the next ``request_finished`` (any thread).
_orphans: Final[deque[_Once]] = deque()


def run_pending(**_: object) -> None:
    """``request_finished`` receiver: run the batches attached in this thread and those of
    collected responses, unless already run."""
    queues = _pending.queues
    if queues:
        _pending.queues = []
        for queue in queues:
            if queue:  # never attached to a response
                _Once(queue[:])()
                queue.clear()
    batches = _pending.batches
    if batches:
        _pending.batches = []
        for batch in batches:
            batch()
    while _orphans:
        try:
            orphan = _orphans.popleft()
        except IndexError:  # another thread took the last one
            break
        orphan()


def attach(request: object, response: HttpResponseBase) -> None:
    """Move ``request``'s queued jobs onto ``response`` (run when it is closed, see above).

    If the response cannot carry them (an object without Django's closer list), they run now.
    """
    queue = getattr(request, _ATTRIBUTE, None)
    if not isinstance(queue, list) or not queue:
        return
    batch = _Once(list(queue))
    queue.clear()
    closers = getattr(response, "_resource_closers", None)
    if not isinstance(closers, list):
        batch()
        return
    closers.append(batch)
    _pending.batches.append(batch)
    collected = weakref.finalize(response, _orphans.append, batch)
    collected.atexit = False  # no cache traffic while the interpreter shuts down


__all__ = ["Job", "attach", "defer_for", "open_queue"]
