"""Checking dashboard documents before anything is written (SPEC section 9).

A :class:`DocumentCheck` collects every problem of one request as core :class:`ErrorDetail`
objects with JSON pointers into that request (``/widgets/2/query/columns/0/column``,
``/export_data/filters/0/default_value``) and raises them together as one
:class:`QueryValidationError` (a 400). It validates, on the caller's catalog:

- the header (``name`` 1..200 characters, ``description``, ``is_public``) and the layout;
- each widget's shape (:mod:`prismiq_django.query.dashboard_shapes`), its query (the parser,
  exactly as ``query/validate``) and its saved query (one the caller can see);
- the filters' declarations and their defaults against every widget's query (the merge with no
  request value, so a default that does not fit a column it applies to is refused when saved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from prismiq_django.models import SavedQuery, Widget
from prismiq_django.query import Catalog, ErrorDetail, QueryValidationError
from prismiq_django.query.dashboard_shapes import MAX_WIDGETS, check_layout, check_widget, is_id
from prismiq_django.query.filter_decl import DeclaredFilter, parse_declarations
from prismiq_django.query.filter_merge import merge_filters
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.memo import limits
from prismiq_django.services.prepared import prepare_definition
from prismiq_django.tenancy.access import tenant_keys

MAX_NAME = 200
MAX_DESCRIPTION = 10_000


@dataclass(slots=True)
class WidgetData:
    """One checked widget, ready to be written (``id`` set for a widget that keeps its id)."""

    type: str
    title: str
    query: dict[str, Any] | None
    saved_query_id: int | None
    x: int
    y: int
    w: int
    h: int
    config: dict[str, Any]
    id: int | None = None

    def apply(self, widget: Widget) -> Widget:
        """Copy these values onto ``widget`` (not saved)."""
        widget.type, widget.title = self.type, self.title
        widget.query, widget.saved_query_id = self.query, self.saved_query_id
        widget.x, widget.y, widget.w, widget.h = self.x, self.y, self.w, self.h
        widget.config = self.config
        return widget


def widget_document(widget: Widget) -> dict[str, Any]:
    """A stored widget as the wire shape it was sent in (for merging a PATCH into it)."""
    return {
        "type": widget.type,
        "title": widget.title,
        "query": widget.query,
        "saved_query": widget.saved_query_id,
        "position": widget.position,
        "config": widget.config,
    }


def nul_path(value: object, path: str = "") -> str | None:
    """The JSON pointer of the first key or string in ``value`` holding ``"\\x00"``, or None
    (PostgreSQL can store NUL neither in ``text`` nor in ``jsonb``)."""
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return where
        elif isinstance(node, Mapping):
            for key, item in node.items():
                here = f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}"
                if "\x00" in str(key):
                    return here
                stack.append((item, here))
        elif isinstance(node, list):
            stack.extend((item, f"{where}/{i}") for i, item in enumerate(node))
    return None


def refuse_nul(value: object, path: str = "") -> None:
    """Raise the 400 for text holding NUL anywhere in a request body (ignored keys included)."""
    found = nul_path(value, path)
    if found is not None:
        raise QueryValidationError(
            [ErrorDetail("invalid_value", "Text may not contain NUL characters.", found)]
        )


@dataclass(slots=True)
class DocumentCheck:
    """The problems of one request; ``request`` gives the catalog and the saved queries the
    caller may use."""

    request: Any
    errors: list[ErrorDetail] = field(default_factory=list)
    _catalog: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = get_catalog(self.request)
        return self._catalog

    def add(self, code: Any, message: str, path: str) -> None:
        self.errors.append(ErrorDetail(code, message, path))

    def raise_if_any(self) -> None:
        if self.errors:
            raise QueryValidationError(self.errors)

    def header(self, data: Mapping[str, Any], path: str, *, partial: bool) -> dict[str, Any]:
        """``name``, ``description``, ``is_public`` of ``data`` (those present, if ``partial``)."""
        out: dict[str, Any] = {}
        if "name" in data or not partial:
            name = data.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
                self.add("invalid_value", f"A name of 1..{MAX_NAME} characters.", f"{path}/name")
            else:
                out["name"] = name
        if "description" in data:
            description = data["description"]
            if description is None:
                description = ""
            if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
                self.add("invalid_value", "Text.", f"{path}/description")
            else:
                out["description"] = description
        if "is_public" in data:
            if not isinstance(data["is_public"], bool):
                self.add("invalid_value", "true or false.", f"{path}/is_public")
            else:
                out["is_public"] = data["is_public"]
        return out

    def layout(self, raw: object, path: str) -> dict[str, Any]:
        layout, problems = check_layout(raw, path)
        self.errors.extend(problems)
        return layout

    def filters(self, raw: object, path: str) -> tuple[DeclaredFilter, ...]:
        try:
            return parse_declarations(raw, path)
        except QueryValidationError as exc:
            self.errors.extend(exc.errors)
            return ()

    def widgets(
        self, raw: object, columns: int, path: str, *, keep_ids: set[int] | None = None
    ) -> list[WidgetData]:
        """Check a list of whole widgets. ``keep_ids``: the ids an item may carry to keep its
        widget (PATCH of a dashboard); None: ids are ignored (create, import)."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add("invalid_definition", "A list of widgets.", path)
            return []
        if len(raw) > MAX_WIDGETS:
            self.add("too_complex", f"At most {MAX_WIDGETS} widgets.", path)
            return []
        out: list[WidgetData] = []
        seen: set[int] = set()
        for i, item in enumerate(raw):
            here = f"{path}/{i}"
            widget = self.widget(item, columns, here)
            if widget is None or keep_ids is None or not isinstance(item, Mapping):
                if widget is not None:
                    out.append(widget)
                continue
            raw_id = item.get("id")
            if raw_id is not None:
                if not is_id(raw_id) or int(str(raw_id)) not in keep_ids:
                    self.add("invalid_reference", "No such widget on this dashboard.", f"{here}/id")
                    continue
                widget.id = int(str(raw_id))
                if widget.id in seen:
                    self.add("invalid_definition", "This widget is listed twice.", f"{here}/id")
                    continue
                seen.add(widget.id)
            out.append(widget)
        return out

    def widget(
        self,
        raw: object,
        columns: int,
        path: str,
        *,
        check_query: bool = True,
        check_saved: bool = True,
    ) -> WidgetData | None:
        """Check one whole widget; None (with errors recorded) when it is refused."""
        problems = check_widget(raw, columns, path)
        if problems:
            self.errors.extend(problems)
            return None
        assert isinstance(raw, Mapping)
        query = raw.get("query")
        saved = raw.get("saved_query")
        saved_id = int(str(saved)) if saved is not None else None
        before = len(self.errors)
        if query is not None and check_query:
            self.query(query, f"{path}/query")
        if saved_id is not None and check_saved:
            visible = SavedQuery.objects.visible_to(
                getattr(self.request, "user", None), tenant_keys(self.request)
            )
            if not visible.filter(pk=saved_id).exists():
                self.add("invalid_reference", "No such saved query.", f"{path}/saved_query")
        if len(self.errors) > before:
            return None
        position = raw["position"]
        return WidgetData(
            type=raw["type"],
            title=raw.get("title") or "",
            query=dict(query) if query is not None else None,
            saved_query_id=saved_id,
            x=position["x"],
            y=position["y"],
            w=position["w"],
            h=position["h"],
            config=dict(raw.get("config") or {}),
        )

    def query(self, definition: object, path: str) -> None:
        """Record the parser's problems of ``definition`` under ``path``."""
        try:
            prepare_definition(self.request, definition, self.catalog)
        except QueryValidationError as exc:
            self.errors.extend(ErrorDetail(e.code, e.message, path + e.path) for e in exc.errors)

    def defaults(
        self, declared: Sequence[DeclaredFilter], queries: Sequence[dict[str, Any] | None]
    ) -> None:
        """Record defaults that do not fit a column they apply to in one of ``queries``."""
        if not declared:
            return
        seen: set[tuple[str, str]] = set()
        for query in queries:
            if query is None:
                continue
            try:
                merge_filters(
                    query,
                    self.catalog,
                    declared,
                    {},
                    tz=timezone.get_current_timezone(),
                    max_list_values=limits().max_list_values,
                )
            except QueryValidationError as exc:
                for error in exc.errors:
                    if (error.code, error.path) not in seen:
                        seen.add((error.code, error.path))
                        self.errors.append(error)


__all__ = [
    "MAX_DESCRIPTION",
    "MAX_NAME",
    "DocumentCheck",
    "WidgetData",
    "nul_path",
    "refuse_nul",
    "widget_document",
]
