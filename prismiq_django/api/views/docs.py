"""The OpenAPI document of this API (``openapi``) and its Swagger UI (``docs``), generated once per
process and kept until a setting changes.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

from django.utils import translation
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django import __version__
from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.views.base import PrismiqAPIView

_OPENAPI_SUFFIX = re.compile(r"openapi/?$")
_DOCS_SUFFIX = re.compile(r"docs/?$")


#: Generated OpenAPI documents of this process (without the mount prefix), by
#: :meth:`OpenApiView._document_key`. Generating one costs tens of milliseconds.
_documents: dict[tuple[object, ...], dict[str, Any]] = {}
_documents_lock = threading.Lock()


def forget_openapi_documents(**kwargs: Any) -> None:
    """Drop the generated OpenAPI documents (connected to ``setting_changed`` in
    ``AppConfig.ready()``: any setting may change the document, e.g. ``REST_FRAMEWORK``,
    ``SPECTACULAR_SETTINGS``, ``ROOT_URLCONF``)."""
    with _documents_lock:
        _documents.clear()


class OpenApiView(PrismiqAPIView, SpectacularAPIView):
    """The OpenAPI 3 document of this API (and only this API), with paths under the mount point.

    The document is generated once per process and kept (:data:`_documents`) under the URLconf's
    pattern list, the API version and the active language; ``setting_changed`` empties the store.
    Each answer prefixes the stored paths with its own mount point (a site may mount the API more
    than once) without changing the stored document. Permissions are checked before, as on every
    view: a refused caller gets the JSON 401/403, never a stored document.
    """

    urlconf = "prismiq_django.urls"
    renderer_classes = SpectacularAPIView.renderer_classes  # YAML (default) and JSON
    custom_settings = {
        "TITLE": "Prismiq analytics API",
        "DESCRIPTION": (
            "Embedded analytics: JSON query definitions over the exposed tables, compiled to "
            "parameterized read-only SQL, answered with typed rows."
        ),
        "VERSION": __version__,
        "SCHEMA_PATH_PREFIX": "/",
        "COMPONENT_SPLIT_REQUEST": False,
    }

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        mount = _OPENAPI_SUFFIX.sub("", request.path).rstrip("/")
        document = response.data  # possibly the stored one: copied, never changed
        response.data = {
            **document,
            "paths": {mount + path: item for path, item in document["paths"].items()},
        }
        return response

    def _document_key(self, version: str | None) -> tuple[object, ...]:
        module = sys.modules.get(str(self.urlconf))
        patterns = getattr(module, "urlpatterns", None)
        return (str(self.urlconf), id(patterns), version, translation.get_language())

    def _get_schema_response(self, request: Request) -> Response:
        """drf-spectacular's hook (called inside its settings patch), with the stored document."""
        if not self.serve_public:  # a per-user document: never stored
            response: Response = super()._get_schema_response(request)  # type: ignore[no-untyped-call]
            return response
        version = self.api_version or request.version or self._get_version_parameter(request)  # type: ignore[no-untyped-call]
        key = self._document_key(version)
        document = _documents.get(key)
        if document is None:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            document = generator.get_schema(request=request, public=True)  # type: ignore[no-untyped-call]
            with _documents_lock:
                _documents[key] = document
        filename = self._get_filename(request, version)  # type: ignore[no-untyped-call]
        return Response(
            data=document, headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )


class DocsView(PrismiqAPIView, SpectacularSwaggerView):
    """Swagger UI over :class:`OpenApiView` (mounted next to it)."""

    title = "Prismiq analytics API"
    renderer_classes = SpectacularSwaggerView.renderer_classes  # the HTML page

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.url = _DOCS_SUFFIX.sub("openapi", request.path)
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        return response


__all__ = ["DocsView", "OpenApiView", "forget_openapi_documents"]
