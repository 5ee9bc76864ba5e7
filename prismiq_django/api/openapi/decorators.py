"""``extend_schema`` for the app's own views, based on drf-spectacular's ``AutoSchema`` whatever the
site's ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` is.

drf-spectacular's ``extend_schema`` builds its inspector class when the decorator runs (at import
time) on top of the site's ``DEFAULT_SCHEMA_CLASS`` when the decorated method carries no schema of
its own. Most sites leave that setting unset, so the base is DRF's own
``rest_framework.schemas.openapi.AutoSchema``, whose ``get_operation`` takes other arguments: every
decorated operation then fails the document with a ``TypeError`` (a 500 on ``openapi``), and
drf-spectacular's later re-basing cannot remove DRF's class from the decorated class's bases.

:func:`extend_schema` seeds the method's ``kwargs["schema"]`` (where drf-spectacular looks first for
a method's own schema) with drf-spectacular's ``AutoSchema`` before decorating, so the inspector is
always drf-spectacular's. Classes are decorated as they are: a view class carries its own
``schema`` (``PrismiqAPIView.schema``), which drf-spectacular takes as the base. Every module of the
app decorates with this function, never drf-spectacular's directly (tests/api/test_openapi_sites.py
checks it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema as spectacular_extend_schema

F = TypeVar("F", bound=Callable[..., Any])


def extend_schema(**kwargs: Any) -> Callable[[F], F]:
    """drf-spectacular's ``extend_schema(**kwargs)``, always on drf-spectacular's ``AutoSchema``.

    Returns a decorator for a view method, a viewset action (also through ``extend_schema_view``)
    or a view class; the decorated object is returned, annotated as drf-spectacular does.
    """
    decorate = spectacular_extend_schema(**kwargs)

    def decorator(target: F) -> F:
        if not inspect.isclass(target) and callable(target):
            context = getattr(target, "kwargs", None)
            if context is None:
                context = {}
                target.kwargs = context  # type: ignore[attr-defined]
            context.setdefault("schema", AutoSchema)
        decorated: F = decorate(target)
        return decorated

    return decorator


__all__ = ["extend_schema"]
