"""Which optional parts of the API exist in this installation, for the pages to show or hide.

Found by reversing the API's URL names, so a page offers a download button only where the export
endpoint is mounted, and the ask box only where an assistant backend answers.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from prismiq_django.conf import prismiq_settings

#: feature -> URL names of the API (any one mounted is enough).
_ROUTES: dict[str, tuple[str, ...]] = {
    "dashboards": ("dashboard-list",),
    "query_export": ("query-export",),
    "saved_query_export": ("saved-query-export",),
    "widget_export": ("dashboard-widget-export", "widget-export"),
    "embed_tokens": ("dashboard-embed-tokens", "embed-tokens"),
    "ask": ("ask",),
}


def _mounted(names: tuple[str, ...]) -> bool:
    for name in names:
        try:
            reverse(f"prismiq_django:{name}", kwargs=_sample_kwargs(name))
        except NoReverseMatch:
            continue
        return True
    return False


def _sample_kwargs(name: str) -> dict[str, str] | None:
    if name.startswith(("dashboard-widget", "widget")):
        return {"pk": "1", "wid": "1"}
    if name.startswith(("saved-query-export", "dashboard-embed", "embed")):
        return {"pk": "1"}
    return None


def assistant_configured() -> bool:
    """True when ``PRISMIQ["ASSISTANT"]`` names a backend (the ask endpoint answers 404 without)."""
    try:
        assistant = prismiq_settings.ASSISTANT
    except AttributeError:  # a version without the assistant setting
        return False
    return bool(assistant and assistant.get("BACKEND"))


def available_features() -> dict[str, bool]:
    """``{feature: available}`` for the pages' configuration."""
    features = {name: _mounted(routes) for name, routes in _ROUTES.items()}
    features["ask"] = features["ask"] and assistant_configured()
    return features
