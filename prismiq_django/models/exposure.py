"""Exposure models: which tables and columns end users may analyse (SPEC section 2).

Nothing is exposed by default. An :class:`ExposedTable` row with ``is_exposed`` makes a table
queryable (unless ``PRISMIQ["EXPOSED_TABLES"]`` is set, which then wins); an :class:`ExposedColumn`
row with ``is_hidden`` removes that column from the catalog entirely. Protected tables
(:func:`prismiq_django.catalog.protected.is_protected_table`) can never be exposed:
:meth:`ExposedTable.clean` refuses them and the catalog filter drops them whatever the rows say.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from prismiq_django.catalog.protected import is_protected_table


class ExposedTable(models.Model):
    """A database table or view and whether end users may query it.

    ``tenant_column`` names the column that holds the tenant value; such a table is only queryable
    with a row scope built from ``PRISMIQ["TENANT_CALLBACK"]`` (fail closed).
    """

    name = models.CharField(
        max_length=255, help_text="Table or view name, exactly as in the database."
    )
    db_schema = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="Database schema (PostgreSQL). Empty means the default schema.",
    )
    display_name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    is_exposed = models.BooleanField(
        default=False, help_text="Queryable by end users. Nothing is exposed by default."
    )
    tenant_column = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="Column restricted to the current tenant on every query.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "exposed table"
        verbose_name_plural = "exposed tables"
        ordering = ("db_schema", "name")
        constraints = (
            models.UniqueConstraint(
                fields=("db_schema", "name"), name="prismiq_exposedtable_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.db_schema}.{self.name}" if self.db_schema else self.name

    def clean(self) -> None:
        """Refuse protected tables (see :mod:`prismiq_django.catalog.protected`)."""
        super().clean()
        if self.name and is_protected_table(self.name):
            raise ValidationError(
                {"name": f"The table {self.name!r} may never be exposed."},
                code="protected_table",
            )


class ExposedColumn(models.Model):
    """Per-column metadata of an :class:`ExposedTable`; ``is_hidden`` removes the column."""

    table = models.ForeignKey(ExposedTable, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=255, help_text="Column name, exactly as in the database.")
    display_name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    is_hidden = models.BooleanField(
        default=False, help_text="Hidden columns are invisible to end users everywhere."
    )
    format_hint = models.CharField(
        max_length=50,
        blank=True,
        default="",
        help_text="Display hint, e.g. 'currency' or 'percent'.",
    )

    class Meta:
        verbose_name = "exposed column"
        verbose_name_plural = "exposed columns"
        ordering = ("table", "name")
        constraints = (
            models.UniqueConstraint(fields=("table", "name"), name="prismiq_exposedcolumn_unique"),
        )

    def __str__(self) -> str:
        return f"{self.table.name}.{self.name}"


__all__ = ["ExposedColumn", "ExposedTable"]
