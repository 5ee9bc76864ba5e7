"""A tenant callback for the glue tests: the tenant is an attribute set on the request."""

from __future__ import annotations


def tenant_of(request: object) -> object:
    """Return ``request.tenant`` (None when absent)."""
    return getattr(request, "tenant", None)
