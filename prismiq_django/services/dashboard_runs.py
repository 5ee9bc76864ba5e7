"""Running a dashboard's widgets in one request (SPEC section 9).

:func:`execute_dashboard` prepares every widget's query (its own or its saved query's, with the
dashboard filters merged in, on the caller's catalog: one ``TENANT_CALLBACK`` call), then runs
each *distinct* statement once — widgets whose compiled statements have the same result-cache key
(same SQL, parameters, row scopes) share one run — at most ``DASHBOARD_CONCURRENCY`` at a time.
Each run goes through :func:`~prismiq_django.services.queries.run_prepared`, i.e. the result
cache, the metrics, the query log and the read-only rails of ``query/execute``; a run in a worker
thread uses that thread's own connection, closed when it ends. On SQLite (one writer, in-process)
and with one statement the runs are sequential in the request's thread.

What fails stays in its widget's entry: an invalid query, a statement timeout, an unreachable
database are returned as the exception, for the HTTP layer to spell as ``{error: {...}}``. Only a
problem of the request itself (a bad ``filter_values`` entry, an unknown ``widget_ids`` id) raises
:class:`QueryValidationError` for the whole request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connections
from django.utils import timezone

from prismiq_django.cache.keys import result_key
from prismiq_django.catalog.store import database_alias
from prismiq_django.conf import prismiq_settings
from prismiq_django.exceptions import ObjectNotFound
from prismiq_django.execution import QueryResult
from prismiq_django.models import Dashboard, SavedQuery, Widget
from prismiq_django.query import Catalog, ErrorDetail, QueryValidationError
from prismiq_django.query.dashboard_shapes import is_id
from prismiq_django.query.filter_decl import (
    DeclaredFilter,
    FilterValue,
    parse_declarations,
    parse_values,
)
from prismiq_django.query.filter_merge import merge_filters
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.memo import limits
from prismiq_django.services.prepared import Prepared, prepare_definition, run_prepared
from prismiq_django.services.saved_queries import merged_definition

#: A widget's outcome: its result, or what went wrong.
Outcome = QueryResult | Exception

SAVED_QUERY_GONE = "The widget's saved query no longer exists."
NO_QUERY = "The widget has no query."


def _declared(dashboard: Dashboard) -> tuple[DeclaredFilter, ...]:
    return parse_declarations(dashboard.filters, "/filters")


def _definitions(dashboard: Dashboard, widgets: Sequence[Widget]) -> dict[int, object]:
    """Each widget's definition, saved queries read in one query; absent when there is none.
    Only saved queries of the dashboard's own tenant count (one of another tenant is absent)."""
    saved_ids = {w.saved_query_id for w in widgets if w.saved_query_id is not None}
    rows = SavedQuery.objects.in_tenant(dashboard.tenant_keys).filter(pk__in=saved_ids)
    saved = dict(rows.values_list("pk", "query"))
    out: dict[int, object] = {}
    for w in widgets:
        if w.query is not None:
            out[w.pk] = w.query
        elif w.saved_query_id is not None and w.saved_query_id in saved:
            out[w.pk] = saved[w.saved_query_id]
    return out


def _prepare_widget(
    request: Any,
    catalog: Catalog,
    widget: Widget,
    definition: object,
    declared: tuple[DeclaredFilter, ...],
    values: Mapping[str, FilterValue],
    request_errors: list[ErrorDetail],
) -> Prepared | Exception:
    if definition is None:
        return ObjectNotFound(SAVED_QUERY_GONE)  # deleted since (the widget's link was cleared)
    if isinstance(definition, Mapping):
        try:
            definition = merge_filters(
                definition,
                catalog,
                declared,
                values,
                tz=timezone.get_current_timezone(),
                max_list_values=limits().max_list_values,
            )
        except QueryValidationError as exc:
            mine = [e for e in exc.errors if not e.path.startswith("/filter_values/")]
            request_errors.extend(e for e in exc.errors if e.path.startswith("/filter_values/"))
            if not mine:
                return exc
            return QueryValidationError(mine)
    try:
        return prepare_definition(request, definition, catalog)
    except QueryValidationError as exc:
        return QueryValidationError(
            [ErrorDetail(e.code, e.message, "/query" + e.path) for e in exc.errors]
        )


def execute_dashboard(
    request: Any,
    dashboard: Dashboard,
    *,
    filter_values: object = None,
    widget_ids: object = None,
    bypass_cache: bool = False,
) -> dict[str, Outcome]:
    """``{widget id: result or exception}`` for the dashboard's widgets (those of ``widget_ids``
    when given; ``text`` widgets have no query and no entry)."""
    widgets = [w for w in dashboard.widgets.all() if w.type != "text"]
    if widget_ids is not None:
        widgets = _selected(widgets, dashboard, widget_ids)
    declared = _declared(dashboard)
    values = _values(filter_values, declared)
    catalog = get_catalog(request)
    definitions = _definitions(dashboard, widgets)
    request_errors: list[ErrorDetail] = []
    prepared: dict[int, Prepared | Exception] = {
        w.pk: _prepare_widget(
            request, catalog, w, definitions.get(w.pk), declared, values, request_errors
        )
        for w in widgets
    }
    if request_errors:
        raise QueryValidationError(list(dict.fromkeys(request_errors)))
    alias = database_alias()
    distinct: dict[str, Prepared] = {}
    key_of: dict[int, str] = {}
    for pk, item in prepared.items():
        if isinstance(item, Prepared):
            key = result_key(alias=alias, compiled=item.compiled, scopes=item.catalog.row_scopes)
            distinct.setdefault(key, item)
            key_of[pk] = key
    ran = run_all(request, distinct, bypass_cache=bypass_cache)
    out: dict[str, Outcome] = {}
    for w in widgets:
        item = prepared[w.pk]
        out[str(w.pk)] = ran[key_of[w.pk]] if isinstance(item, Prepared) else item
    return out


def execute_widget(
    request: Any,
    dashboard: Dashboard,
    widget: Widget,
    *,
    filter_values: object = None,
    bypass_cache: bool = False,
) -> QueryResult:
    """Run one widget with the dashboard's filters; raises what ``query/execute`` raises."""
    outcome = execute_dashboard(
        request,
        dashboard,
        filter_values=filter_values,
        widget_ids=[widget.pk] if widget.type != "text" else [],
        bypass_cache=bypass_cache,
    ).get(str(widget.pk))
    if outcome is None:
        raise ObjectNotFound(NO_QUERY)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def widget_definition(
    request: Any,
    dashboard: Dashboard,
    widget: Widget,
    *,
    filter_values: object = None,
    catalog: Catalog | None = None,
) -> object:
    """The definition ``execute_widget`` would run for ``widget``: its own query or its saved
    query's, with the dashboard filters and ``filter_values`` merged in (for exports; on
    ``catalog`` when the caller built it for ``request``).

    Raises ``ObjectNotFound`` for a widget without a query (``text``, or its saved query gone)
    and ``QueryValidationError`` for a bad ``filter_values`` entry (paths
    ``/filter_values/<i>/...``); the merged definition is validated by whoever runs it.
    """
    if widget.type == "text":
        raise ObjectNotFound(NO_QUERY)
    declared = _declared(dashboard)
    definition = _definitions(dashboard, [widget]).get(widget.pk)
    if definition is None:
        raise ObjectNotFound(SAVED_QUERY_GONE)
    return merged_definition(definition, declared, filter_values, request=request, catalog=catalog)


def _selected(widgets: list[Widget], dashboard: Dashboard, raw: object) -> list[Widget]:
    if not isinstance(raw, list):
        raise QueryValidationError(
            [ErrorDetail("invalid_definition", "A list of widget ids.", "/widget_ids")]
        )
    ids = {w.pk for w in dashboard.widgets.all()}
    wanted: set[int] = set()
    errors = []
    for i, item in enumerate(raw):
        if not is_id(item) or int(str(item)) not in ids:
            errors.append(
                ErrorDetail(
                    "invalid_reference", "No such widget on this dashboard.", f"/widget_ids/{i}"
                )
            )
        else:
            wanted.add(int(str(item)))
    if errors:
        raise QueryValidationError(errors)
    return [w for w in widgets if w.pk in wanted]


def _values(raw: object, declared: tuple[DeclaredFilter, ...]) -> dict[str, FilterValue]:
    return parse_values(raw, declared, "/filter_values")


def run_all(
    request: Any, statements: Mapping[str, Prepared], *, bypass_cache: bool = False
) -> dict[str, Outcome]:
    """Run each statement once, at most ``DASHBOARD_CONCURRENCY`` at a time (each in a thread
    with its own connection, closed after), sequentially on SQLite or for a single statement."""
    limit = int(prismiq_settings.DASHBOARD_CONCURRENCY)
    vendor = connections[database_alias()].vendor
    if vendor == "sqlite" or limit <= 1 or len(statements) <= 1:
        return {key: _attempt(request, p, bypass_cache) for key, p in statements.items()}

    def in_thread(p: Prepared) -> Outcome:
        try:
            return _attempt(request, p, bypass_cache)
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=min(limit, len(statements))) as pool:
        futures = {key: pool.submit(in_thread, p) for key, p in statements.items()}
        return {key: future.result() for key, future in futures.items()}


def _attempt(request: Any, prepared: Prepared, bypass_cache: bool) -> Outcome:
    try:
        return run_prepared(request, prepared, bypass_cache=bypass_cache)
    except Exception as exc:  # reported in the widget's entry; the HTTP layer logs bugs
        return exc


__all__ = ["Outcome", "execute_dashboard", "execute_widget", "run_all", "widget_definition"]
