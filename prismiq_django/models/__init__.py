"""Models of prismiq_django, re-exported with an explicit ``__all__``."""

from __future__ import annotations

from prismiq_django.models.dashboards import Dashboard, DashboardViewer, Widget
from prismiq_django.models.embed import DashboardEmbedState
from prismiq_django.models.exposure import ExposedColumn, ExposedTable
from prismiq_django.models.saved_queries import SavedQuery

__all__ = [
    "Dashboard",
    "DashboardEmbedState",
    "DashboardViewer",
    "ExposedColumn",
    "ExposedTable",
    "SavedQuery",
    "Widget",
]
