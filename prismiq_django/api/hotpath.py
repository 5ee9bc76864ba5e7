"""The hot path: ``query/execute`` served without Django's middleware chain and URL resolution.

A WSGI wrapper the site opts into in its ``wsgi.py``::

    from django.core.wsgi import get_wsgi_application
    from prismiq_django.api.hotpath import HotPath

    application = HotPath(get_wsgi_application())

Contract:

- It serves ``POST`` requests whose path resolves to :class:`~.views.ExecuteView` itself (not a
  subclass; a JSON body of a known length within ``DATA_UPLOAD_MAX_MEMORY_SIZE``) and ``GET``
  requests of :class:`~.views.SchemaView` itself (no body) that carry
  ``Authorization: Bearer <token>`` or ``Authorization: Token <key>`` and no query string,
  when the view's first authentication class is simplejwt's
  ``JWTStatelessUserAuthentication`` or DRF's ``TokenAuthentication`` (exactly those classes:
  a subclass may read the request differently; the token's row and its user are read from the
  database on every request, as DRF does) and it authenticates the caller.
- It serves them as Django would: the site's middleware run hook by hook in Django's order
  (``process_request``, ``process_view``, ``process_exception``, ``process_template_response``,
  ``process_response``), then DRF's dispatch of the view with that one authentication class
  (negotiation, versioning, permission classes, throttles and ``RATE_LIMIT``, the handler, DRF's
  error answers, ``finalize_response``); an exception DRF leaves is Django's 500. Django's
  ``request_started`` is sent, and ``request_finished`` when the response is closed. (A request
  handed to Django after its ``process_request`` hooks ran gets ``request_started`` a second
  time from Django: Django's own receivers, closing stale connections, do nothing the second
  time.)
  ``tests/api/test_hotpath.py`` compares status, body and headers with the plain application's.
- Every other request goes to the wrapped application unchanged, body included: another
  endpoint, method or scheme, a token the class refuses (Django then tries every class and
  answers), a middleware hook answering or raising early. Nothing has been counted or run when
  it hands a request over.
- It stands aside (every request to Django) when a ``MIDDLEWARE`` entry is not a hook-style
  ``MiddlewareMixin`` subclass (a function middleware, or one with its own ``__call__``: it
  cannot be run in pieces), except prismiq's ``RequestIdMiddleware``, whose work it does
  itself. :meth:`HotPath.active` says why, and it is logged once (``prismiq_django.hotpath``).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

from django.conf import settings
from django.core import signals
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_path_info, get_script_name
from django.core.signals import setting_changed
from django.http import HttpResponseBase
from django.urls import Resolver404, ResolverMatch, resolve, set_script_prefix
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string
from rest_framework.authentication import TokenAuthentication

from prismiq_django.api.jwtmemo import is_stateless_jwt, memoized
from prismiq_django.api.replay import replayed
from prismiq_django.api.views.queries import ExecuteView
from prismiq_django.api.views.schema import SchemaView
from prismiq_django.ops.middleware import close_request, open_request
from prismiq_django.ops.observability import current_request_id

logger = logging.getLogger("prismiq_django.hotpath")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REQUEST_ID: Final = frozenset(
    {
        "prismiq_django.middleware.RequestIdMiddleware",
        "prismiq_django.ops.middleware.RequestIdMiddleware",
    }
)
_JSON: Final = frozenset({"application/json", "application/json; charset=utf-8"})
#: The views served here (those exact classes, not subclasses), by the method served.
VIEWS: Final[dict[str, type]] = {"POST": ExecuteView, "GET": SchemaView}
_ACCEPT: Final = frozenset({"", "*/*", "application/json"})
#: The ``Authorization`` schemes of the first authentication classes served here.
_SCHEMES: Final = ("Bearer ", f"{TokenAuthentication.keyword} ")
_MAX_ROUTES: Final = 64
_HOOKS: Final = (
    "process_request",
    "process_view",
    "process_template_response",
    "process_response",
    "process_exception",
)

Hook = Callable[..., Any]


class _Plan:
    """The middleware hooks, in the order Django's handler calls them, worked out once (and
    again after a settings change); ``reason`` says why there is no plan."""

    def __init__(self) -> None:
        self.reason = ""
        self.request_id = False
        #: per hook name, in Django's order; in ``process_response`` None stands for
        #: RequestIdMiddleware's place
        self.hooks: dict[str, list[Any]] = {name: [] for name in _HOOKS}
        for path in settings.MIDDLEWARE:
            if path in _REQUEST_ID:
                self.request_id = True
                self.hooks["process_response"].insert(0, None)  # its place among the others
                continue
            kind = import_string(path)
            if not _hook_style(kind):
                self.reason = f"MIDDLEWARE has {path}, which is not hook-style (its own __call__)"
                return
            try:
                middleware = kind(_never_called)
            except MiddlewareNotUsed:  # as Django's handler: left out of the chain
                continue
            for name in _HOOKS:
                hook = getattr(middleware, name, None)
                if hook is None:
                    continue
                if name in {"process_request", "process_view"}:
                    self.hooks[name].append(hook)
                else:  # Django calls these from the last middleware to the first
                    self.hooks[name].insert(0, hook)
        self.max_body = settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _never_called(request: Any) -> HttpResponseBase:  # pragma: no cover - hooks only
    raise AssertionError("the hot path calls middleware hooks, never the chain")


def _hook_style(kind: type) -> bool:
    """A MiddlewareMixin subclass that keeps its ``__call__`` (and so works only through the
    hooks, which the hot path calls as Django's handler does)."""
    return (
        isinstance(kind, type)
        and issubclass(kind, MiddlewareMixin)
        and kind.__call__ is MiddlewareMixin.__call__
    )


class HotPath:
    """WSGI wrapper serving ``query/execute`` for bearer-token callers itself (see the module)."""

    def __init__(self, application: WSGIApp) -> None:
        self.application = application
        self._plan: _Plan | None = None
        self._routes: dict[str, ResolverMatch] = {}
        self._lock = threading.Lock()
        #: Requests this wrapper answered itself (the others went to ``application``).
        self.answered = 0
        setting_changed.connect(self._forget)  # weakly: a dropped wrapper is not kept alive

    def _forget(self, **_: object) -> None:
        with self._lock:
            self._plan = None
            self._routes = {}

    def plan(self) -> _Plan:
        plan = self._plan
        if plan is None:
            plan = _Plan()
            if plan.reason:
                logger.info("prismiq hot path off: %s", plan.reason)
            self._plan = plan
        return plan

    def active(self) -> str:
        """``""`` when the hot path can answer, else why it passes everything through."""
        return self.plan().reason

    def _route(self, method: str, path: str) -> ResolverMatch | None:
        """The match of ``path`` when it is one of :data:`VIEWS` for ``method``. Only those are
        remembered (a handful of paths): any other path is resolved again, as Django does, so
        paths a caller makes up cannot crowd the real ones out."""
        key = f"{method} {path}"
        found = self._routes.get(key)
        if found is not None:
            return found
        try:
            match = resolve(path)
        except Resolver404:
            return None
        if getattr(match.func, "cls", None) is not VIEWS[method]:
            return None
        with self._lock:
            if len(self._routes) < _MAX_ROUTES:
                self._routes[key] = match
        return match

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if (
            method not in VIEWS
            or environ.get("QUERY_STRING")
            or not str(environ.get("HTTP_AUTHORIZATION", "")).startswith(_SCHEMES)
            or environ.get("HTTP_ACCEPT", "") not in _ACCEPT
            or (method == "POST" and environ.get("CONTENT_TYPE", "").lower() not in _JSON)
        ):
            return self.application(environ, start_response)
        plan = self.plan()
        match = None if plan.reason else self._route(method, get_path_info(environ))
        if match is None:
            return self.application(environ, start_response)
        body = _read_body(environ, plan.max_body) if method == "POST" else _no_body(environ)
        if body is None:
            return self.application(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        response = self._answer(environ, match, plan, body)
        if response is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self.application(environ, start_response)
        status = f"{response.status_code} {response.reason_phrase}"
        headers = [
            *response.items(),
            *(("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()),
        ]
        self.answered += 1  # a statistic: racing threads may undercount it, never mis-answer
        start_response(status, headers)
        return response  # iterable; its close() ends the request (request_finished)

    def _answer(
        self, environ: dict[str, Any], match: ResolverMatch, plan: _Plan, body: bytes
    ) -> HttpResponseBase | None:
        """The response to send, or None to hand the request to Django (when a middleware's
        ``process_request`` or ``process_view`` answers or raises, or the view's first
        authentication class does not authenticate the caller: nothing has been counted or run
        by then)."""
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        set_script_prefix(get_script_name(environ))
        request = WSGIRequest(environ)
        started, token = open_request(request) if plan.request_id else (0.0, None)
        try:
            try:
                for hook in plan.hooks["process_request"]:
                    if hook(request) is not None:
                        return None
                request.resolver_match = match
                for hook in plan.hooks["process_view"]:
                    if hook(request, match.func, match.args, match.kwargs) is not None:
                        return None
            except Exception:
                return None
            response = _run_view(request, match, plan, body)
            if response is None:
                return None
            for step in plan.hooks["process_response"]:
                if step is None:
                    response = close_request(request, response, started)
                else:
                    response = step(request, response)
            return response
        finally:
            if token is not None:
                current_request_id.reset(token)


def _no_body(environ: dict[str, Any]) -> bytes | None:
    """``b""`` for a request that declares no body (a GET), None otherwise."""
    return b"" if environ.get("CONTENT_LENGTH", "") in ("", "0") else None


def _read_body(environ: dict[str, Any], limit: int | None) -> bytes | None:
    """The request body when it has a length within ``DATA_UPLOAD_MAX_MEMORY_SIZE``, read whole;
    None (nothing read) otherwise."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length <= 0 or (limit is not None and length > limit):
        return None
    body: bytes = environ["wsgi.input"].read(length)
    return body


def _served(kind: object) -> bool:
    """True for the first authentication classes the hot path runs: simplejwt's stateless one
    and DRF's ``TokenAuthentication`` (that class itself: its ``keyword`` is the scheme the
    wrapper lets through)."""
    return is_stateless_jwt(kind) or kind is TokenAuthentication


def _run_view(
    request: WSGIRequest, match: ResolverMatch, plan: _Plan, body: bytes
) -> HttpResponseBase | None:
    """DRF's dispatch of the routed view (:data:`VIEWS`) for ``request``, with the view's first
    authentication class only; None (nothing done) when that class does not authenticate the
    caller (Django then tries them all) or is not one of those served (:func:`_served`).

    Everything from the permission check on is the view's own code, errors included (DRF's
    ``handle_exception``; an exception DRF does not handle is Django's 500)."""
    view = match.func.cls(**getattr(match.func, "initkwargs", {}))  # type: ignore[attr-defined]
    view.setup(request, *match.args, **match.kwargs)  # also sets view.args and view.kwargs
    first = view.authentication_classes[0] if view.authentication_classes else None
    if first is None or not _served(first):
        return None
    # A repeated cached run is answered without the handler (prismiq_django.api.replay): the
    # answer is not a template response, so only where no middleware has that hook.
    replays = type(view) is ExecuteView and not plan.hooks["process_template_response"]
    view.get_authenticators = lambda: [memoized(first())]  # the first only (see the docstring)
    drf = view.initialize_request(request, *match.args, **match.kwargs)
    view.request = drf
    view.headers = view.default_response_headers
    try:  # APIView.initial up to authentication: nothing is counted or run yet
        view.format_kwarg = view.get_format_suffix(**match.kwargs)
        drf.accepted_renderer, drf.accepted_media_type = view.perform_content_negotiation(drf)
        drf.version, drf.versioning_scheme = view.determine_version(drf, *view.args, **view.kwargs)
        view.perform_authentication(drf)
    except Exception:
        return None  # Django answers it (the same 401 or 406)
    if drf.successful_authenticator is None:
        return None
    try:
        try:
            view.check_permissions(drf)
            response = replayed(view, drf, body) if replays else None
            if response is None:
                view.check_throttles(drf)
                response = getattr(view, request.method.lower())(drf)  # type: ignore[union-attr]
        except Exception as exc:
            response = view.handle_exception(exc)
        finalized: Any = view.finalize_response(drf, response)
    except Exception as uncaught:  # as Django's handler: the middleware's, then its 500
        for hook in plan.hooks["process_exception"]:
            answer = hook(request, uncaught)
            if answer is not None:
                return answer  # type: ignore[no-any-return]
        return response_for_exception(request, uncaught)
    if callable(getattr(finalized, "render", None)):  # as Django: template responses only
        for hook in plan.hooks["process_template_response"]:
            finalized = hook(request, finalized)
    render = getattr(finalized, "render", None)  # a DRF Response is a template response
    rendered: HttpResponseBase = render() if callable(render) else finalized
    return rendered


__all__ = ["HotPath"]
