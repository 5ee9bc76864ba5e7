"""Which optional parts of the API exist in this installation, for the pages to show or hide.

Read from the URL names the site's URLconf holds in the API's ``prismiq_django`` namespace, so a
page offers a download button only where the export endpoint is mounted, and the ask box only
where the ask endpoint is mounted and an assistant backend is configured.
"""

from __future__ import annotations

from django.urls import get_resolver

from prismiq_django.conf import prismiq_settings

#: feature -> URL names of the API (any one mounted is enough).
_ROUTES: dict[str, tuple[str, ...]] = {
    "dashboards": ("dashboard-list",),
    "query_export": ("query-export",),
    "saved_query_export": ("saved-query-export",),
    "widget_export": ("dashboard-widget-export",),
    "embed_tokens": ("dashboard-embed-tokens",),
    "ask": ("ask",),
}


def api_url_names() -> set[str]:
    """The URL names mounted in the ``prismiq_django`` namespace (empty when it is not)."""
    namespaces = get_resolver().namespace_dict
    if "prismiq_django" not in namespaces:
        return set()
    _prefix, resolver = namespaces["prismiq_django"]
    return {key for key in resolver.reverse_dict if isinstance(key, str)}


def assistant_configured() -> bool:
    """True when ``PRISMIQ["ASSISTANT"]`` names a backend (the ask endpoint answers 404 without)."""
    try:
        assistant = prismiq_settings.ASSISTANT
    except AttributeError:  # a version without the assistant setting
        return False
    return bool(assistant and assistant.get("BACKEND"))


def available_features() -> dict[str, bool]:
    """``{feature: available}`` for the pages' configuration."""
    names = api_url_names()
    features = {feature: bool(names.intersection(routes)) for feature, routes in _ROUTES.items()}
    features["ask"] = features["ask"] and assistant_configured()
    return features
