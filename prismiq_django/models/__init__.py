"""Models of prismiq_django, re-exported with an explicit ``__all__``."""

from __future__ import annotations

from prismiq_django.models.exposure import ExposedColumn, ExposedTable

__all__ = ["ExposedColumn", "ExposedTable"]
