"""Attacks on the never-exposable tables through the real stack: names that the database stores
otherwise than the configuration spells them.

PostgreSQL keeps at most 63 bytes of an identifier (``NAMEDATALEN - 1``) and silently truncates
longer ones, in ``CREATE TABLE`` as in every query, at a character boundary. Django does not
shorten an explicit ``db_table``, so a model whose ``db_table`` is longer works, but its table is
named by the first 63 bytes: that is the name the catalog sees.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.db import connection
from rest_framework.test import APIClient

from prismiq_django.catalog.protected import is_protected_table, protected_table_test
from tests.api.conftest import api, configure

LONG_USER_TABLE = "accounts_member_" + "with_a_long_descriptive_name_" * 3  # 103 bytes
LONG_SITE_TABLE = "billing_card_" + "x" * 60  # 73 bytes
NON_ASCII_TABLE = "benutzer_" + "\u00e4" * 40  # 49 characters, 89 bytes


def _clipped(name: str) -> str:
    """``name`` as PostgreSQL stores it: its first 63 bytes, cut at a character boundary."""
    return name.encode()[:63].decode(errors="ignore")


def test_the_clipped_names_are_what_the_test_expects() -> None:
    assert len(_clipped(LONG_USER_TABLE)) == 63
    assert _clipped(NON_ASCII_TABLE) == "benutzer_" + "\u00e4" * 27  # 63 bytes, 36 characters


@pytest.mark.parametrize("db_table", [LONG_USER_TABLE, NON_ASCII_TABLE])
def test_a_user_table_named_beyond_63_bytes_is_protected_as_postgresql_names_it(
    monkeypatch: pytest.MonkeyPatch, db_table: str
) -> None:
    monkeypatch.setattr(get_user_model()._meta, "db_table", db_table)
    assert is_protected_table(db_table)
    assert is_protected_table(_clipped(db_table))
    assert protected_table_test()(_clipped(db_table).upper())


def test_a_site_protected_name_beyond_63_bytes_is_protected_as_postgresql_names_it(
    settings: Any,
) -> None:
    settings.PRISMIQ = {"PROTECTED_TABLES": [LONG_SITE_TABLE, NON_ASCII_TABLE + "*"]}
    assert is_protected_table(_clipped(LONG_SITE_TABLE))
    # A prefix longer than 63 bytes: every name it starts is stored as the clipped prefix.
    assert is_protected_table(_clipped(NON_ASCII_TABLE))


def _run(sql: str, params: tuple[object, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _prismiq_errors() -> list[str]:
    return [m.id for m in checks.run_checks() if m.id and m.id.endswith(("E006",))]


@pytest.mark.postgres
@pytest.mark.usefixtures("shop", "canary")
def test_postgresql_never_exposes_a_long_named_user_table_through_its_stored_name(
    monkeypatch: pytest.MonkeyPatch, settings: Any, client: APIClient, alice: Any
) -> None:
    """A user model with a ``db_table`` beyond 63 bytes: PostgreSQL stores the table under the
    first 63 bytes, and listing that name in ``EXPOSED_TABLES`` must not expose the password
    hashes (nor pass the checks)."""
    user_model = get_user_model()
    _run(f'CREATE TABLE "{LONG_USER_TABLE}" AS SELECT * FROM auth_user')  # PostgreSQL clips
    monkeypatch.setattr(user_model._meta, "db_table", LONG_USER_TABLE)
    stored = _clipped(LONG_USER_TABLE)
    configure(settings, EXPOSED_TABLES=["shop_order", stored])
    assert _prismiq_errors() == ["prismiq_django.E006"]
    assert client.get(api("tables")).json() == {"tables": ["shop_order"]}
    assert client.get(api(f"tables/{stored}")).status_code == 404
    query = {
        "tables": [{"id": "u", "name": stored}],
        "columns": [{"table_id": "u", "column": "password"}],
    }
    refused = client.post(api("query/execute"), {"query": query}, format="json")
    assert refused.status_code == 400, refused.content
    assert "rows" not in refused.json()


@pytest.mark.postgres
@pytest.mark.usefixtures("shop", "canary")
def test_postgresql_never_exposes_a_site_protected_table_named_beyond_63_bytes(
    settings: Any, client: APIClient
) -> None:
    _run(f'CREATE TABLE "{LONG_SITE_TABLE}" (id integer PRIMARY KEY, number text)')
    _run(f"INSERT INTO \"{LONG_SITE_TABLE}\" VALUES (1, '4111 1111 1111 1111')")
    stored = _clipped(LONG_SITE_TABLE)
    configure(settings, PROTECTED_TABLES=[LONG_SITE_TABLE], EXPOSED_TABLES=["shop_order", stored])
    assert _prismiq_errors() == ["prismiq_django.E006"]
    assert client.get(api("tables")).json() == {"tables": ["shop_order"]}


@pytest.mark.parametrize(
    "entry",
    [
        "public.billing_card",  # how EXPOSED_TABLES spells a schema's table
        '"public"."billing_card"',
        'public"."billing_card',  # how a db_table spells it
        "public.vault_*",
        "billing_card ",
        " billing_card",
        "billing_card\n",
    ],
)
def test_a_protected_tables_entry_that_would_protect_nothing_is_refused(
    settings: Any, entry: str
) -> None:
    """Protected names are bare table names, compared in every schema: an entry spelled with
    its schema, quotes or surrounding spaces matches no table the catalog lists, so accepting
    it would leave ``billing_card`` exposable while the site believes it protected. It is
    refused like any invalid value (E002, and no catalog is built on it)."""
    from django.core.exceptions import ImproperlyConfigured

    from prismiq_django.checks import check_settings

    settings.PRISMIQ = {"PROTECTED_TABLES": ["vault_keys", entry]}
    assert [m.id for m in check_settings()] == ["prismiq_django.E002"]
    with pytest.raises(ImproperlyConfigured, match="PROTECTED_TABLES"):
        is_protected_table("billing_card")


@pytest.mark.postgres
@pytest.mark.usefixtures("shop", "canary")
def test_postgresql_system_schemas_are_never_introspected(settings: Any, client: APIClient) -> None:
    """``DB_SCHEMA`` naming ``pg_catalog`` or ``information_schema`` (a configuration mistake:
    check E002) must not make ``pg_authid`` (role password hashes) or ``pg_stat_activity``
    (other sessions' queries) exposable, not even when ``EXPOSED_TABLES`` lists them."""
    secrets = ["pg_authid", "pg_shadow", "pg_stat_activity", "tables", "role_table_grants"]
    configure(
        settings,
        DB_SCHEMA=["public", "pg_catalog", "information_schema", "PG_TOAST"],
        EXPOSED_TABLES=["shop_order", *secrets],
    )
    assert client.get(api("tables")).json() == {"tables": ["shop_order"]}
    for name in secrets:
        assert client.get(api(f"tables/{name}")).status_code == 404
    query = {
        "tables": [{"id": "a", "name": "pg_authid"}],
        "columns": [{"table_id": "a", "column": "rolpassword"}],
    }
    response = client.post(api("query/execute"), {"query": query}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "table_not_found"
    assert "prismiq_django.E002" in [m.id for m in checks.run_checks()]


@pytest.mark.postgres
@pytest.mark.usefixtures("shop")
def test_postgresql_only_system_schemas_give_an_empty_catalog(
    settings: Any, client: APIClient
) -> None:
    """Every schema of ``DB_SCHEMA`` dropped: an empty catalog (404s), never a 500 nor
    ``public`` in their place."""
    configure(settings, DB_SCHEMA=["pg_catalog"], EXPOSED_TABLES=["pg_authid", "shop_order"])
    assert client.get(api("tables")).json() == {"tables": []}
    assert client.get(api("schema")).json()["tables"] == []
    assert client.get(api("tables/shop_order")).status_code == 404
