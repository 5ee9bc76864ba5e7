"""Who the caller is: the one rule that turns ``request.user`` into a user primary key.

``request.user`` is whatever the site's DRF authentication classes set:

- a user-model instance (session, HTTP Basic, DRF's ``TokenAuthentication``: the row was read);
- a *stateless* user built from a signed token without reading the database, e.g.
  djangorestframework-simplejwt's ``TokenUser`` (``JWTStatelessUserAuthentication``), whose ``pk``
  is the token's ``user_id`` claim as the token carries it (a string, ``"1"``, in simplejwt 5.5;
  an integer before);
- an anonymous user.

Everything in prismiq_django that needs the caller's identity (saved-query visibility, ownership
and creation, the rate-limit key, the request log) goes through :func:`caller_pk`, so that a
token's ``"1"`` and a session's ``1`` are the same user everywhere, and no query filters on, or
assigns, a user object that is not a model instance. Nothing here reads the database except
:func:`caller_has_account`, which the one write that needs a user row (creating a saved query)
calls.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models


def caller_pk(user: object) -> Any | None:
    """Return the primary key of the authenticated ``user``, as the user model's pk field holds
    it (an ``int`` for the default ``BigAutoField``), or None when there is none.

    - ``None`` or an anonymous user (``is_authenticated`` false): None.
    - A user-model instance: its ``pk``, unchanged.
    - An instance of another model (a site authenticating service accounts, API clients): None;
      its pk is a key of another table.
    - Any other authenticated object (a stateless token user): its ``pk`` read with the user
      model's pk field (``to_python``, then the field's validators, e.g. the integer range; a
      multi-table-inheritance parent link is read by the parent's pk, which has them). None
      when it does not read as a primary key (``"abc"`` for an integer pk, a value out of range,
      a missing ``pk``), and None unless it is the spelling of that key that ``str(pk)`` writes
      (what simplejwt puts in its tokens): ``"01"``, ``" 1"``, Arabic-Indic digits, ``1.5`` or
      ``true`` are not user 1, so one user has one spelling.
    - simplejwt's ``TokenUser`` when ``SIMPLE_JWT["USER_ID_FIELD"]`` is not the primary key
      (``"username"``, a public ``uuid`` field): None. Its ``pk`` is then that field's value,
      not a primary key, and a username ``"1"`` must not be user 1.

    Reads no database. An authenticated caller with no primary key can own nothing: it sees
    shared saved queries only and cannot create one.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    model = get_user_model()
    if isinstance(user, models.Model):
        return user.pk if isinstance(user, model) else None
    raw = getattr(user, "pk", None)
    if raw is None or isinstance(raw, bool) or not _claims_a_pk(user, model):
        return None
    try:
        return _claimed_pk(raw, model)
    except TypeError:  # an unhashable claim (a list): read without the memo
        return _read_pk(raw, model)


@functools.lru_cache(maxsize=4096, typed=True)
def _claimed_pk(raw: Any, model: type[models.Model]) -> Any | None:
    """:func:`_read_pk`, remembered per claim value and its type (``"1"``, ``1`` and ``1.0``
    apart) and user model: a pure function of the two."""
    return _read_pk(raw, model)


def forget_claimed_pks() -> None:
    """Empty the memo of :func:`_claimed_pk` (settings changed: ``AUTH_USER_MODEL``...)."""
    _claimed_pk.cache_clear()
    _pk_names_of.cache_clear()


def _read_pk(raw: Any, model: type[models.Model]) -> Any | None:
    """The primary key of ``model`` that ``raw`` spells (see :func:`caller_pk`), or None."""
    field: Any = model._meta.pk
    while field.remote_field is not None and field.remote_field.parent_link:
        field = field.target_field  # the parent's pk holds the value and its range validators
    try:
        value = field.to_python(raw)
        field.run_validators(value)
    except (ValidationError, TypeError, ValueError, OverflowError):
        return None
    if value is None or str(value) != str(raw):
        return None
    return value


@functools.lru_cache(maxsize=8)
def _pk_names_of(model: type[models.Model]) -> frozenset[str]:
    """The names under which a user's primary key can be read from it: ``pk``, the pk field's
    name and attname, and, along a multi-table-inheritance parent link, the parent's."""
    names = {"pk"}
    field: Any = model._meta.pk
    while field is not None:
        names.update((field.name, field.attname))
        remote = field.remote_field
        field = field.target_field if remote is not None and remote.parent_link else None
    return frozenset(names)


def _claims_a_pk(user: object, model: type[models.Model]) -> bool:
    """False for simplejwt's ``TokenUser`` when its ``user_id`` claim holds another field than
    the primary key (``SIMPLE_JWT["USER_ID_FIELD"]``); True for any other stateless user."""
    try:
        from rest_framework_simplejwt import settings as jwt_settings
        from rest_framework_simplejwt.models import TokenUser
    except ImportError:  # simplejwt not installed: no TokenUser
        return True
    if not isinstance(user, TokenUser):
        return True
    # The module attribute, read now: simplejwt rebinds it when SIMPLE_JWT changes.
    return str(jwt_settings.api_settings.USER_ID_FIELD) in _pk_names_of(model)


def caller_has_account(user: object) -> bool:
    """Whether ``user`` has a row in the user table that may own data: an active one when the
    user model has an ``is_active`` field.

    A user-model instance answers from itself (no query); an instance of another model has none.
    A stateless user costs one query, by primary key (:func:`caller_pk`); False when it has none,
    when the row does not exist (a token for a deleted user, or minted for an id this site never
    had) or when it is inactive. Called before a saved query is created: the owner is a foreign
    key to that row.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if isinstance(user, models.Model):
        return isinstance(user, get_user_model()) and bool(getattr(user, "is_active", True))
    pk = caller_pk(user)
    if pk is None:
        return False
    user_model = get_user_model()
    rows = user_model._default_manager.filter(pk=pk)
    if any(f.name == "is_active" for f in user_model._meta.concrete_fields):
        rows = rows.filter(is_active=True)
    return rows.exists()


__all__ = ["caller_has_account", "caller_pk"]
