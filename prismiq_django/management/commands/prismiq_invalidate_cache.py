"""``manage.py prismiq_invalidate_cache TABLE [TABLE ...] | --all``.

Makes cached query results unreachable: those that read any of the given tables, or every one
with ``--all``. Exits with an error when the cache cannot be reached (nothing was invalidated).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from prismiq_django import cache


class Command(BaseCommand):
    help = "Invalidate cached prismiq query results for the given tables, or all with --all."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("tables", nargs="*", help="Table names whose cached results to drop.")
        parser.add_argument(
            "--all", action="store_true", dest="all", help="Drop every cached query result."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tables: list[str] = options["tables"]
        if options["all"] == bool(tables):
            raise CommandError("Give one or more table names, or --all (not both).")
        if options["all"]:
            if not cache.invalidate_all():
                raise CommandError("The cache is unreachable; nothing was invalidated.")
            self.stdout.write("Invalidated all cached query results.")
            return
        for table in tables:
            if not cache.invalidate(table):
                raise CommandError("The cache is unreachable; nothing was invalidated.")
            self.stdout.write(f"Invalidated cached results for table {table}.")
