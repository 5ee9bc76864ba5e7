"""Django admin for the exposure models: tables with inline columns, search, and sync.

"Sync from database" is both a button on the table list (works with no row selected, e.g. on
a fresh install) and an admin action; it creates rows for every table (not exposed) and column
(secret-looking names hidden) and never touches protected tables. Protected tables are refused
by :meth:`ExposedTable.clean` (so the add/change forms show an error) and skipped by the bulk
"expose" action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from prismiq_django import services
from prismiq_django.catalog.protected import protected_table_test
from prismiq_django.catalog.sync import sync_from_database
from prismiq_django.exceptions import DatabaseUnavailable
from prismiq_django.models import Dashboard, ExposedColumn, ExposedTable, SavedQuery, Widget

if TYPE_CHECKING:
    _InlineBase = admin.TabularInline[ExposedColumn, ExposedTable]
    _AdminBase = admin.ModelAdmin[ExposedTable]
else:  # the admin classes are not subscriptable at runtime
    _InlineBase = admin.TabularInline
    _AdminBase = admin.ModelAdmin


class ExposedColumnInline(_InlineBase):
    model = ExposedColumn
    extra = 0
    fields = ("name", "display_name", "description", "is_hidden", "format_hint")


@admin.register(ExposedTable)
class ExposedTableAdmin(_AdminBase):
    """Exposed tables with their columns inline."""

    list_display = (
        "name",
        "db_schema",
        "display_name",
        "is_exposed",
        "tenant_column",
        "updated_at",
    )
    list_filter = ("is_exposed", "db_schema")
    search_fields = ("name", "display_name", "description", "columns__name")
    inlines = (ExposedColumnInline,)
    actions = ("sync_action", "expose_selected", "unexpose_selected")
    #: Actions about the whole database, not the selected rows: they run with no row selected.
    selection_free_actions = frozenset({"sync_action"})
    change_list_template = "admin/prismiq_django/exposedtable/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        sync = path(
            "sync/",
            self.admin_site.admin_view(self.sync_view),
            name="prismiq_django_exposedtable_sync",
        )
        return [sync, *super().get_urls()]

    def _sync(self, request: HttpRequest) -> None:
        try:
            report = sync_from_database()
        except DatabaseUnavailable:
            self.message_user(request, "The analytics database is unavailable.", messages.ERROR)
            return
        self.message_user(
            request,
            f"Sync from database: {report.tables_created} table(s) and "
            f"{report.columns_created} column(s) added ({report.columns_hidden} hidden as "
            "secret-looking). New tables are not exposed.",
            messages.SUCCESS,
        )

    def sync_view(self, request: HttpRequest) -> HttpResponse:
        """POST only: run the sync and go back to the list."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        self._sync(request)
        return HttpResponseRedirect(reverse("admin:prismiq_django_exposedtable_changelist"))

    @admin.action(description="Sync from database (all tables)", permissions=["add"])
    def sync_action(self, request: HttpRequest, queryset: QuerySet[ExposedTable]) -> None:
        self._sync(request)

    @admin.action(description="Expose selected tables", permissions=["change"])
    def expose_selected(self, request: HttpRequest, queryset: QuerySet[ExposedTable]) -> None:
        is_protected = protected_table_test()
        protected = [t.pk for t in queryset if is_protected(t.name)]
        updated = queryset.exclude(pk__in=protected).update(is_exposed=True)
        services.invalidate_catalog()
        self.message_user(request, f"{updated} table(s) exposed.", messages.SUCCESS)
        if protected:
            self.message_user(
                request, f"{len(protected)} protected table(s) skipped.", messages.WARNING
            )

    @admin.action(description="Stop exposing selected tables", permissions=["change"])
    def unexpose_selected(self, request: HttpRequest, queryset: QuerySet[ExposedTable]) -> None:
        updated = queryset.update(is_exposed=False)
        services.invalidate_catalog()
        self.message_user(request, f"{updated} table(s) no longer exposed.", messages.SUCCESS)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The list; a POST of a :attr:`selection_free_actions` action with no row selected runs
        it (Django's own handling refuses an action without a selection: "Items must be
        selected...", which made the sync impossible on a fresh site with no rows)."""
        action = request.POST.get("action", "") if request.method == "POST" else ""
        entry = self.get_actions(request).get(action)  # None without the action's permission
        if (
            action in self.selection_free_actions
            and entry is not None
            and not request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        ):
            entry[0](self, request, self.get_queryset(request).none())
            return HttpResponseRedirect(request.get_full_path())
        context = {**(extra_context or {}), "has_add_permission": self.has_add_permission(request)}
        return super().changelist_view(request, extra_context=context)


# --- saved queries (API engineer) -----------------------------------------------------------------

if TYPE_CHECKING:
    _SavedQueryAdminBase = admin.ModelAdmin[SavedQuery]
else:
    _SavedQueryAdminBase = admin.ModelAdmin


@admin.register(SavedQuery)
class SavedQueryAdmin(_SavedQueryAdminBase):
    """Saved queries of every user. The stored definition is revalidated whenever it runs."""

    list_display = ("name", "owner", "is_shared", "updated_at")
    list_filter = ("is_shared",)
    search_fields = ("name", "description", "owner__username")
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at")
    list_select_related = ("owner",)


# --- dashboards ---------------------------------------------------------------------------------

if TYPE_CHECKING:
    _WidgetInlineBase = admin.TabularInline[Widget, Dashboard]
    _DashboardAdminBase = admin.ModelAdmin[Dashboard]
else:
    _WidgetInlineBase = admin.TabularInline
    _DashboardAdminBase = admin.ModelAdmin


class WidgetInline(_WidgetInlineBase):
    """A dashboard's widgets, read-only: a widget's query is validated against the caller's
    exposed catalog, which only the API does (``dashboards/{id}/widgets``). Deleting is fine."""

    model = Widget
    extra = 0
    fields = ("order", "type", "title", "x", "y", "w", "h", "saved_query", "query", "config")
    readonly_fields = fields
    ordering = ("order", "id")
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dashboard)
class DashboardAdmin(_DashboardAdminBase):
    """Dashboards of every user and tenant, with their widgets inline."""

    list_display = ("name", "owner", "tenant", "is_public", "widget_count", "updated_at")
    list_filter = ("is_public",)
    search_fields = ("name", "description", "owner__username", "tenant", "widgets__title")
    raw_id_fields = ("owner",)
    readonly_fields = ("tenant", "layout", "filters", "created_at", "updated_at")
    list_select_related = ("owner",)
    inlines = (WidgetInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Dashboard]:
        return super().get_queryset(request).annotate(_widget_count=Count("widgets"))

    @admin.display(description="widgets", ordering="_widget_count")
    def widget_count(self, obj: Dashboard) -> int:
        return int(getattr(obj, "_widget_count", 0))
