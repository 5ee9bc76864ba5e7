"""``manage.py prismiq_refresh_schema``: drop the cached schema (catalog) and rebuild it.

Run it after changing the database schema (migrations) or exposure settings outside the admin;
changes made through the exposure models already invalidate the schema cache.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from prismiq_django import services


class Command(BaseCommand):
    help = "Invalidate the cached prismiq schema (catalog) and rebuild it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-warm",
            action="store_false",
            dest="warm",
            help="Only invalidate; do not rebuild the catalog now.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        services.invalidate_catalog()
        if not options["warm"]:
            self.stdout.write("Schema cache invalidated.")
            return
        catalog = services.get_catalog(None)
        self.stdout.write(f"Schema cache refreshed: {len(catalog.tables)} exposed table(s).")
