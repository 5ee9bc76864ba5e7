"""DRF's database-token lookup with its SQL compiled once per connection, not once per request.

Contract (used by :func:`prismiq_django.api.jwtmemo.memoized`, so by every prismiq view and the
hot path)::

    compiled(authenticator) -> authenticator   # the same object; changed only for DRF's class

- Only an instance of DRF's ``TokenAuthentication`` itself (exactly that type: a subclass may
  look tokens up differently) is changed: its ``authenticate_credentials`` runs the statement
  DRF's own ``model.objects.select_related("user").get(key=key)`` runs (the same SQL text, made
  by Django's compiler for that model on that connection, with the key as its one bound
  parameter) and builds the token and its user as Django's ``ModelIterable`` does (the backend's
  and the fields' converters, ``from_db``, the ``select_related`` populator). Reading the header,
  the 401s, the challenge and ``is_active`` are DRF's; the instance keeps its type.
- The database is asked on every request, as DRF does: a deleted token or a deactivated user is
  refused at once. Nothing about a token or a user is remembered, only the statement.
- One difference from DRF, on purpose: a key with a NUL character is refused ("Invalid token.",
  the 401) without a query. DRF sends it, and PostgreSQL, whose text cannot hold NUL, refuses
  the statement, so any client could make DRF's class answer 500 there; no stored key has one.
- With ``CONN_HEALTH_CHECKS``, when the lookup is the request's first query on a kept
  connection, the lookup is the health check (:mod:`prismiq_django.backends.health`): Django's
  ``SELECT 1`` is not sent before it.
- The statement is kept on the connection object it was made for (a Django connection belongs
  to one thread), built again after a settings change or when the token model is another one.
  When Django's compiler makes something this does not reproduce (annotations, composite keys,
  not exactly one bound parameter standing for the key, populators of another Django's
  signature), or the key is not a string (DRF's header parsing always gives one; the ORM would
  prepare another type), DRF's own method runs instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final

from django.db import connections, router
from django.db.models.query import MAX_GET_RESULTS, get_related_populators
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, TokenAuthentication

from prismiq_django.backends.health import sent_as_health_check

#: Where a connection object keeps its statement (see the module docstring).
_ATTRIBUTE: Final = "_prismiq_token_lookup"
#: Bumped by :func:`forget`: a statement kept under another number is built again.
_current = 0
_lock = threading.Lock()


def forget(**_: object) -> None:
    """Build every statement again on its next use (settings changed)."""
    global _current
    with _lock:
        _current += 1


class _Key(str):
    """The stand-in the statement is compiled with: found again among the params by identity."""

    __slots__ = ()


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]
    at: int  # the key's position in params
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]
    converters: dict[int, Any]
    compiler: Any  # its apply_converters; it holds this connection only


def _build(model: type, db: str) -> _Statement | None:
    """The statement of ``model.objects.select_related("user").get(key=...)`` on ``db``, laid
    out as ModelIterable reads it; None when its shape is not the one reproduced here."""
    stand_in = _Key("prismiq-token-lookup")
    # QuerySet.get: the filter, no ordering, at most MAX_GET_RESULTS rows
    queryset = model.objects.select_related("user").filter(key=stand_in).order_by()  # type: ignore[attr-defined]
    queryset.query.set_limits(high=MAX_GET_RESULTS)
    compiler = queryset.query.get_compiler(using=db)
    sql, params = compiler.as_sql()
    where = [i for i, value in enumerate(params) if value is stand_in]
    fields = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
    klass_info = compiler.klass_info
    if (
        len(where) != 1
        or compiler.annotation_col_map
        or compiler.has_composite_fields(fields)
        or not klass_info
        or klass_info["model"] is not model
        or len(klass_info.get("related_klass_infos", [])) != 1
    ):
        return None
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    populators_of: Any = get_related_populators  # its signature is Django 5.2's here
    try:
        populators = populators_of(klass_info, compiler.select, db)
    except TypeError:  # a Django whose populators take more (fetch modes): DRF's own lookup
        return None
    return _Statement(
        sql=sql,
        params=tuple(params),
        at=where[0],
        init_list=[selected[0].target.attname for selected in compiler.select[start:end]],
        start=start,
        end=end,
        populators=populators,
        converters=compiler.get_converters(fields),
        compiler=compiler,
    )


def _statement(model: type, db: str, connection: Any) -> _Statement | None:
    """The statement kept on ``connection`` (this thread's to ``db``); None, kept too: DRF's
    own lookup for this model, until the settings change."""
    kept: tuple[int, type, _Statement | None] | None = getattr(connection, _ATTRIBUTE, None)
    if kept is not None and kept[0] == _current and kept[1] is model:
        return kept[2]
    built = _build(model, db)
    setattr(connection, _ATTRIBUTE, (_current, model, built))
    return built


def _fetch(connection: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchmany(MAX_GET_RESULTS)  # type: ignore[no-any-return]


def _credentials(authenticator: TokenAuthentication, key: object) -> tuple[Any, Any]:
    """DRF's ``authenticate_credentials``, with the statement kept (see the module docstring)."""
    if not isinstance(key, str):  # not from DRF's header parsing: the ORM prepares it
        return TokenAuthentication.authenticate_credentials(authenticator, key)  # type: ignore[arg-type]
    if "\x00" in key:  # no stored key holds one; PostgreSQL would refuse the query (a 500)
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    model = authenticator.get_model()
    db = router.db_for_read(model)
    connection = connections[db]
    statement = _statement(model, db, connection)
    if statement is None:
        return TokenAuthentication.authenticate_credentials(authenticator, key)
    params = list(statement.params)
    params[statement.at] = key
    rows = sent_as_health_check(connection, lambda: _fetch(connection, statement.sql, params))
    if len(rows) != 1:  # none: DoesNotExist; more cannot happen for a primary key
        if rows:
            raise model.MultipleObjectsReturned()  # type: ignore[attr-defined]
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    if statement.converters:
        rows = list(statement.compiler.apply_converters(rows, statement.converters))
    row = rows[0]
    token: Any = model.from_db(db, statement.init_list, row[statement.start : statement.end])
    for populator in statement.populators:
        populator.populate(row, token)
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
    return (token.user, token)


def compiled(authenticator: BaseAuthentication) -> BaseAuthentication:
    """``authenticator``; when it is exactly DRF's ``TokenAuthentication``, with its
    ``authenticate_credentials`` running the kept statement (set on this instance only)."""
    if type(authenticator) is TokenAuthentication:
        instance = authenticator

        def authenticate_credentials(key: object) -> tuple[Any, Any]:
            return _credentials(instance, key)

        instance.authenticate_credentials = authenticate_credentials  # type: ignore[method-assign]
    return authenticator


__all__ = ["compiled", "forget"]
