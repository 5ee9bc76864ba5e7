"""Views of the HTTP API (SPEC section 5), one module per endpoint group; :mod:`.base` holds the
policy every view shares."""

from __future__ import annotations

from prismiq_django.api.views.base import NotFoundView, PrismiqAPIView
from prismiq_django.api.views.dashboard_widgets import (
    DashboardExecuteView,
    WidgetDetailView,
    WidgetDuplicateView,
    WidgetExecuteView,
    WidgetExportView,
    WidgetListView,
)
from prismiq_django.api.views.dashboards import (
    DashboardDetailView,
    DashboardExportView,
    DashboardImportView,
    DashboardLayoutView,
    DashboardListView,
)
from prismiq_django.api.views.docs import DocsView, OpenApiView, forget_openapi_documents
from prismiq_django.api.views.embed import EmbedRevokeView, EmbedTokenView
from prismiq_django.api.views.exports import ExportView
from prismiq_django.api.views.queries import (
    ExecuteView,
    ExplainView,
    PreviewView,
    SqlView,
    ValidateView,
    exact_param,
)
from prismiq_django.api.views.saved_queries import SavedQueryViewSet
from prismiq_django.api.views.schema import (
    ColumnValuesView,
    SchemaView,
    TableDetailView,
    TableListView,
)
from prismiq_django.api.views.sql import AskView, SqlExecuteView, SqlValidateView

__all__ = [
    "AskView",
    "ColumnValuesView",
    "DashboardDetailView",
    "DashboardExecuteView",
    "DashboardExportView",
    "DashboardImportView",
    "DashboardLayoutView",
    "DashboardListView",
    "DocsView",
    "EmbedRevokeView",
    "EmbedTokenView",
    "ExecuteView",
    "ExplainView",
    "ExportView",
    "NotFoundView",
    "OpenApiView",
    "PreviewView",
    "PrismiqAPIView",
    "SavedQueryViewSet",
    "SchemaView",
    "SqlExecuteView",
    "SqlValidateView",
    "SqlView",
    "TableDetailView",
    "TableListView",
    "ValidateView",
    "WidgetDetailView",
    "WidgetDuplicateView",
    "WidgetExecuteView",
    "WidgetExportView",
    "WidgetListView",
    "exact_param",
    "forget_openapi_documents",
]
