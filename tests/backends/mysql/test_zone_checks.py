"""Checks E009 and W005 against the real MariaDB server (whose zone tables are loaded by
``.ci/run``): a zone the server cannot convert is what empty tables give for every zone."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from prismiq_django.backends.mysql import zones
from prismiq_django.backends.mysql.zones import check_zone_tables

pytestmark = [pytest.mark.mysql, pytest.mark.django_db]


def _ids(**kwargs: Any) -> list[str]:
    return [m.id or "" for m in check_zone_tables(databases=["default"], **kwargs)]


def test_a_named_site_zone_the_server_converts_is_fine(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Paris"
    assert _ids() == []


def test_a_site_zone_the_server_cannot_convert_is_e009(settings: Any) -> None:
    settings.TIME_ZONE = "America/Nowhere_Land"  # unknown to the server, as every zone is
    assert _ids() == ["prismiq_django.E009"]  # when its tables are empty
    with pytest.raises(SystemCheckError, match="E009"):
        call_command("check", "--database", "default")


def test_a_utc_site_without_zone_tables_is_w005(settings: Any, monkeypatch: Any) -> None:
    settings.TIME_ZONE = "UTC"
    assert _ids() == []  # the tables are loaded
    monkeypatch.setattr(zones, "PROBE_ZONE", "America/Nowhere_Land")  # as with none loaded
    assert _ids() == ["prismiq_django.W005"]


def test_only_the_database_checks_run_it(settings: Any) -> None:
    settings.TIME_ZONE = "America/Nowhere_Land"
    assert check_zone_tables(databases=None) == []
    assert check_zone_tables(databases=["other"]) == []
