"""Dashboard writes (SPEC section 9): create, change, widgets, layout, export and import.

Every function takes the request (for the catalog, the saved queries the caller may use and
the row scopes) and a dashboard the caller was already allowed to touch
(:func:`prismiq_django.tenancy.access.dashboard_for`). Everything a request sends is checked
first (:class:`~prismiq_django.services.dashboard_documents.DocumentCheck`: one 400 with every
problem), then written in one transaction: a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.db.models import Max

from prismiq_django.models import Dashboard, DashboardViewer, SavedQuery, Widget
from prismiq_django.query import ErrorDetail, QueryValidationError
from prismiq_django.query.dashboard_shapes import check_position, is_id
from prismiq_django.services.dashboard_documents import (
    DocumentCheck,
    WidgetData,
    refuse_nul,
    widget_document,
)
from prismiq_django.tenancy.access import creation_tenant
from prismiq_django.tenancy.identity import caller_has_account, caller_pk

#: The only export format so far.
EXPORT_VERSION: Final = "1"
NO_ACCOUNT: Final = "Creating a dashboard needs an active user account; the caller has none."
_WIDGET_FIELDS: Final = ("type", "title", "query", "saved_query", "position", "config")


def _atomic() -> Any:
    return transaction.atomic(using=router.db_for_write(Dashboard))


def _refused(code: Any, message: str, path: str) -> QueryValidationError:
    return QueryValidationError([ErrorDetail(code, message, path)])


def _body(data: object, path: str = "") -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _refused("invalid_definition", "Expected an object.", path)
    refuse_nul(data, path)
    return data


def create(request: Any, viewer: DashboardViewer, data: object, *, path: str = "") -> Dashboard:
    """Create a dashboard with its widgets and filters from a request body (``path``: where that
    body sits in the request, for error pointers). The caller owns it; it records the caller's
    tenant. ``PermissionDenied`` for a caller without a user row or with several tenants."""
    body = _body(data, path)
    owner_id = caller_pk(getattr(request, "user", None))
    if owner_id is None or not caller_has_account(getattr(request, "user", None)):
        raise PermissionDenied(NO_ACCOUNT)
    tenant = creation_tenant(viewer)
    check = DocumentCheck(request)
    header = check.header(body, path, partial=False)
    layout = check.layout(body.get("layout"), f"{path}/layout")
    declared = check.filters(body.get("filters"), f"{path}/filters")
    widgets = check.widgets(body.get("widgets"), layout["columns"], f"{path}/widgets")
    check.defaults(declared, [w.query for w in widgets])
    check.raise_if_any()
    with _atomic():
        dashboard = Dashboard.objects.create(
            **header,
            layout=layout,
            filters=list(body.get("filters") or []),
            owner_id=owner_id,
            tenant=tenant,
        )
        Widget.objects.bulk_create(
            [w.apply(Widget(dashboard=dashboard, order=i)) for i, w in enumerate(widgets)]
        )
    return dashboard


def update(request: Any, dashboard: Dashboard, data: object) -> Dashboard:
    """PATCH: change the fields present. ``widgets`` replaces the list: an item with the ``id``
    of one of this dashboard's widgets updates it (keeping the id), one without creates a widget,
    the widgets left out are deleted. A new ``layout`` must still hold every widget."""
    body = _body(data)
    check = DocumentCheck(request)
    header = check.header(body, "", partial=True)
    layout = check.layout(body["layout"], "/layout") if "layout" in body else dashboard.layout
    columns = int(layout.get("columns", 12)) if isinstance(layout.get("columns"), int) else 12
    current = list(dashboard.widgets.all())
    if "filters" in body:
        declared = check.filters(body["filters"], "/filters")
    else:
        declared = check.filters(dashboard.filters, "/filters")
    if "widgets" in body:
        widgets = check.widgets(
            body["widgets"], columns, "/widgets", keep_ids={w.pk for w in current}
        )
        queries = [w.query for w in widgets]
    else:
        widgets = None
        queries = [w.query for w in current]
        if "layout" in body:
            for w in current:
                if check_position(w.position, columns, "/layout/columns"):
                    check.add(
                        "invalid_value",
                        f"Widget {w.pk} does not fit {columns} columns.",
                        "/layout/columns",
                    )
    if "filters" in body or "widgets" in body:
        check.defaults(declared, queries)
    check.raise_if_any()
    with _atomic():
        for key, value in header.items():
            setattr(dashboard, key, value)
        if "layout" in body:
            dashboard.layout = layout
        if "filters" in body:
            dashboard.filters = list(body["filters"] or [])
        dashboard.save()
        if widgets is not None:
            _replace_widgets(dashboard, current, widgets)
    return dashboard


def _replace_widgets(
    dashboard: Dashboard, current: list[Widget], widgets: list[WidgetData]
) -> None:
    by_id = {w.pk: w for w in current}
    kept = {w.id for w in widgets if w.id is not None}
    Widget.objects.filter(dashboard=dashboard).exclude(pk__in=kept).delete()
    changed, created = [], []
    for order, data in enumerate(widgets):
        if data.id is not None:
            widget = data.apply(by_id[data.id])
            widget.order = order
            changed.append(widget)
        else:
            created.append(data.apply(Widget(dashboard=dashboard, order=order)))
    if changed:
        fields = ["type", "title", "query", "saved_query", "x", "y", "w", "h", "config", "order"]
        Widget.objects.bulk_update(changed, fields)
    Widget.objects.bulk_create(created)


def delete(dashboard: Dashboard) -> None:
    """Delete the dashboard and its widgets."""
    dashboard.delete()


def widget_of(dashboard: Dashboard, widget_id: object) -> Widget | None:
    """The widget ``widget_id`` of ``dashboard``, None when it is not one of its widgets."""
    if not is_id(widget_id):
        return None
    wanted = int(str(widget_id))
    return next((w for w in dashboard.widgets.all() if w.pk == wanted), None)


def add_widget(request: Any, dashboard: Dashboard, data: object) -> Widget:
    """Create a widget at the end of the dashboard's list."""
    check = DocumentCheck(request)
    widget = check.widget(_body(data), _columns(dashboard), "")
    if widget is not None:
        check.defaults(check.filters(dashboard.filters, "/filters"), [widget.query])
    check.raise_if_any()
    assert widget is not None
    order = (dashboard.widgets.aggregate(top=Max("order"))["top"] or 0) + 1
    created = widget.apply(Widget(dashboard=dashboard, order=order))
    with _atomic():
        created.save()
        dashboard.save(update_fields=["updated_at"])
    return created


def change_widget(request: Any, dashboard: Dashboard, widget: Widget, data: object) -> Widget:
    """PATCH a widget: the fields present replace the stored ones (setting ``query`` clears
    ``saved_query`` and the other way round), then the whole widget is checked again; a query or
    saved query is validated when the request sends it."""
    body = _body(data)
    merged = widget_document(widget)
    merged.update({k: body[k] for k in _WIDGET_FIELDS if k in body})
    if body.get("query") is not None and "saved_query" not in body:
        merged["saved_query"] = None
    if body.get("saved_query") is not None and "query" not in body:
        merged["query"] = None
    check = DocumentCheck(request)
    data_ = check.widget(
        merged,
        _columns(dashboard),
        "",
        check_query="query" in body,
        check_saved="saved_query" in body,
    )
    if data_ is not None and "query" in body:
        check.defaults(check.filters(dashboard.filters, "/filters"), [data_.query])
    check.raise_if_any()
    assert data_ is not None
    with _atomic():
        data_.apply(widget).save()
        dashboard.save(update_fields=["updated_at"])
    return widget


def delete_widget(dashboard: Dashboard, widget: Widget) -> None:
    with _atomic():
        widget.delete()
        dashboard.save(update_fields=["updated_at"])


def duplicate_widget(dashboard: Dashboard, widget: Widget) -> Widget:
    """A copy of ``widget`` placed below every other widget, at the end of the list."""
    widgets = list(dashboard.widgets.all())
    bottom = max((w.y + w.h for w in widgets), default=0)
    order = max((w.order for w in widgets), default=0) + 1
    copy = Widget(
        dashboard=dashboard,
        type=widget.type,
        title=widget.title,
        query=widget.query,
        saved_query_id=widget.saved_query_id,
        x=widget.x,
        y=bottom,
        w=widget.w,
        h=widget.h,
        config=widget.config,
        order=order,
    )
    problems = check_position(copy.position, _columns(dashboard), "/position")
    if problems:
        raise QueryValidationError(problems)
    with _atomic():
        copy.save()
        dashboard.save(update_fields=["updated_at"])
    return copy


def put_layout(dashboard: Dashboard, items: object) -> Dashboard:
    """``[{id, x, y, w, h}]``: move and resize widgets of this dashboard in one transaction;
    widgets not listed keep their place."""
    check = DocumentCheck(None)
    if not isinstance(items, list):
        raise _refused("invalid_definition", "A list of {id, x, y, w, h}.", "")
    columns = _columns(dashboard)
    moves: dict[int, Mapping[str, Any]] = {}
    for i, item in enumerate(items):
        here = f"/{i}"
        if not isinstance(item, Mapping):
            check.add("invalid_definition", "Expected {id, x, y, w, h}.", here)
            continue
        widget = widget_of(dashboard, item.get("id"))
        if widget is None:
            check.add("invalid_reference", "No such widget on this dashboard.", f"{here}/id")
            continue
        if widget.pk in moves:
            check.add("invalid_definition", "This widget is listed twice.", f"{here}/id")
            continue
        problems = check_position(item, columns, here)
        check.errors.extend(problems)
        moves[widget.pk] = item
    check.raise_if_any()
    changed = []
    for widget in dashboard.widgets.all():
        if widget.pk in moves:
            move = moves[widget.pk]
            widget.x, widget.y, widget.w, widget.h = move["x"], move["y"], move["w"], move["h"]
            changed.append(widget)
    with _atomic():
        Widget.objects.bulk_update(changed, ["x", "y", "w", "h"])
        dashboard.save(update_fields=["updated_at"])
    return dashboard


def _columns(dashboard: Dashboard) -> int:
    columns = dashboard.layout.get("columns") if isinstance(dashboard.layout, dict) else None
    return columns if isinstance(columns, int) and not isinstance(columns, bool) else 12


def export(dashboard: Dashboard) -> dict[str, Any]:
    """``{version, name, description, layout, filters, widgets}`` without ids or owners; a
    widget over a saved query carries that query's definition inline (the export stands alone)."""
    widgets = list(dashboard.widgets.all())
    saved_ids = {w.saved_query_id for w in widgets if w.saved_query_id is not None}
    rows = SavedQuery.objects.in_tenant(dashboard.tenant_keys).filter(pk__in=saved_ids)
    saved = dict(rows.values_list("pk", "query"))
    return {
        "version": EXPORT_VERSION,
        "name": dashboard.name,
        "description": dashboard.description,
        "layout": dashboard.layout,
        "filters": dashboard.filters,
        "widgets": [
            {
                "type": w.type,
                "title": w.title,
                "query": w.query if w.saved_query_id is None else saved.get(w.saved_query_id),
                "position": w.position,
                "config": w.config,
            }
            for w in widgets
        ],
    }


def import_(request: Any, viewer: DashboardViewer, data: object) -> Dashboard:
    """``{export_data, name_override?}``: a new dashboard from an export, every widget query
    validated first (paths under ``/export_data``), written in one transaction."""
    body = _body(data)
    exported = body.get("export_data")
    check = DocumentCheck(request)
    if not isinstance(exported, Mapping):
        check.add("invalid_definition", "An exported dashboard object.", "/export_data")
    elif exported.get("version") != EXPORT_VERSION:
        check.add("invalid_value", f"Only version {EXPORT_VERSION!r}.", "/export_data/version")
    override = body.get("name_override")
    if override is not None and (not isinstance(override, str) or not override.strip()):
        check.add("invalid_value", "A name.", "/name_override")
    check.raise_if_any()
    assert isinstance(exported, Mapping)
    document = {k: v for k, v in exported.items() if k != "version"}
    document.pop("is_public", None)  # an import starts private
    if override is not None:
        document["name"] = override
    try:
        return create(request, viewer, document, path="/export_data")
    except QueryValidationError as exc:
        if override is None:
            raise
        # A bad overriding name is the override's fault, not the export's.
        errors = [
            e if e.path != "/export_data/name" else ErrorDetail(e.code, e.message, "/name_override")
            for e in exc.errors
        ]
        raise QueryValidationError(errors) from exc


__all__ = [
    "EXPORT_VERSION",
    "add_widget",
    "change_widget",
    "create",
    "delete",
    "delete_widget",
    "duplicate_widget",
    "export",
    "import_",
    "put_layout",
    "update",
    "widget_of",
]
