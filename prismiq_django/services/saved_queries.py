"""Saved-query parameters (issue 23 item 11): the filters a saved query declares (``filters``,
the ``DashboardFilter`` objects of SPEC section 9) valued at run time by ``filter_values``.

The semantics and the code are the dashboards': :func:`~prismiq_django.query.filter_decl.\
parse_declarations`, :func:`~prismiq_django.query.filter_decl.parse_values` and
:func:`~prismiq_django.query.filter_merge.merge_filters`. A value given in the request wins, a
null one switches its filter off, else the declared ``default_value`` or ``date_preset``
applies, else the filter is off. Errors: :class:`QueryValidationError` with paths
``/filter_values/<i>/...`` (the request) or ``/filters/<i>/...`` (the declaration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from prismiq_django.query import Catalog
from prismiq_django.query.filter_decl import DeclaredFilter, parse_declarations, parse_values
from prismiq_django.query.filter_merge import merge_filters
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.memo import limits


def declared_filters(raw: object) -> tuple[DeclaredFilter, ...]:
    """The declarations of a saved query's ``filters`` (paths under ``/filters``)."""
    return parse_declarations(raw, "/filters")


def merged_definition(
    definition: object,
    declared: tuple[DeclaredFilter, ...],
    filter_values: object,
    *,
    request: object = None,
    catalog: Catalog | None = None,
) -> object:
    """``definition`` with the ``declared`` filters valued by ``filter_values`` (the request's
    ``[{filter_id, value}]``, or None) ANDed to its filters; unchanged without declarations."""
    values = parse_values(filter_values, declared)
    if not declared or not isinstance(definition, Mapping):
        return definition
    merged: dict[str, Any] = merge_filters(
        definition,
        catalog if catalog is not None else get_catalog(request),
        declared,
        values,
        tz=timezone.get_current_timezone(),
        max_list_values=limits().max_list_values,
    )
    return merged


def saved_query_definition(
    request: object,
    query: object,
    filters: object,
    values: object,
    *,
    catalog: Catalog | None = None,
) -> object:
    """What ``saved-queries/{id}/execute`` runs: the stored ``query`` with its declared
    ``filters`` valued by ``values`` (on ``catalog`` when the caller built it for ``request``)."""
    return merged_definition(
        query, declared_filters(filters), values, request=request, catalog=catalog
    )


__all__ = ["declared_filters", "merged_definition", "saved_query_definition"]
