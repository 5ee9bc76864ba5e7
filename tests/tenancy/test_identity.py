"""``identity.caller_pk`` and ``caller_has_account``: the one rule for "which user is calling",
for user-model instances and for simplejwt's stateless ``TokenUser`` alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.tokens import AccessToken

from prismiq_django.tenancy.identity import caller_has_account, caller_pk


def token_user(user_id: Any) -> TokenUser:
    """The ``request.user`` of JWTStatelessUserAuthentication for a token with ``user_id``."""
    token = AccessToken()
    token["user_id"] = user_id
    return TokenUser(token)


@pytest.fixture
def alice(db: None) -> User:
    return User.objects.create_user("alice")


def test_nobody_has_no_pk() -> None:
    assert caller_pk(None) is None
    assert caller_pk(AnonymousUser()) is None


def test_a_model_instance_is_its_own_pk(alice: User) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert caller_pk(alice) == alice.pk
    assert len(queries) == 0


@pytest.mark.parametrize("claim", ["7", 7])
def test_a_token_user_id_is_read_as_the_user_models_pk(claim: object) -> None:
    pk = caller_pk(token_user(claim))
    assert pk == 7
    assert type(pk) is int  # "7" (simplejwt 5.5) and 7 (before) are one user


def test_the_simplejwt_token_of_a_user_names_that_user(alice: User) -> None:
    assert caller_pk(TokenUser(AccessToken.for_user(alice))) == alice.pk


@pytest.mark.parametrize(
    "claim",
    [
        "abc",
        "",
        "01",
        " 7",
        "7 ",
        "+7",
        "7.0",
        "\u0667",  # ARABIC-INDIC DIGIT SEVEN: int() reads it as 7
        "1_0",
        7.0,
        7.5,
        True,
        False,
        None,
        [7],
        {"id": 7},
        str(2**63),  # beyond BigAutoField
        2**63,
    ],
)
def test_a_claim_that_is_not_a_pk_spelled_as_django_spells_it_is_no_pk(claim: object) -> None:
    assert caller_pk(token_user(claim)) is None


def test_an_authenticated_object_without_pk_has_none() -> None:
    class Stateless:
        is_authenticated = True

    assert caller_pk(Stateless()) is None


def test_a_model_user_has_an_account_without_a_query(alice: User) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert caller_has_account(alice)
    assert len(queries) == 0


def test_a_token_user_has_an_account_when_the_row_exists_and_is_active(alice: User) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert caller_has_account(token_user(str(alice.pk)))
    assert len(queries) == 1
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert not caller_has_account(token_user(str(alice.pk)))


@pytest.mark.django_db
def test_a_token_for_a_missing_user_has_no_account() -> None:
    assert not caller_has_account(token_user("424242"))


def test_no_pk_no_account_and_no_query(db: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert not caller_has_account(token_user("abc"))
        assert not caller_has_account(AnonymousUser())
        assert not caller_has_account(None)
    assert len(queries) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("claim", [str(2**63), 2**63, 2**100, "-" + str(2**63 + 1)])
def test_a_claim_beyond_the_range_of_a_parent_linked_pk_is_no_pk(
    monkeypatch: pytest.MonkeyPatch, claim: object
) -> None:
    """A user model with a concrete parent (multi-table inheritance) has a one-to-one parent
    link as its pk, which has no range validators of its own: the range is the parent's pk's.
    Out of it, the claim names no user (on SQLite, filtering on it raised OverflowError: a 500
    for every saved-query request of such a token)."""
    from django.db import models
    from django.test.utils import isolate_apps

    from prismiq_django.models import SavedQuery
    from prismiq_django.tenancy import identity

    with isolate_apps("tests"):

        class Person(models.Model):  # noqa: DJ008 - a test model, never printed
            class Meta:
                app_label = "tests"

        class Member(Person):  # noqa: DJ008
            class Meta:
                app_label = "tests"

    monkeypatch.setattr(identity, "get_user_model", lambda: Member)
    assert caller_pk(token_user("7")) == 7
    user = token_user(claim)
    assert caller_pk(user) is None
    assert list(SavedQuery.objects.visible_to(user)) == []


def test_remembered_claims_keep_their_own_answers() -> None:
    """The per-process memo of claims is keyed by value and type: 7, "7" and 7.0 compare or hash
    alike in places, yet only the first two are user 7, in any order and any number of times."""
    for _ in range(2):
        for claim, expected in [(7, 7), (7.0, None), ("7", 7), ("7.0", None), ("07", None)]:
            pk = caller_pk(token_user(claim))
            assert pk == expected, claim
            assert expected is None or type(pk) is int


def test_a_changed_user_id_field_is_seen_at_once(settings: Any) -> None:
    assert caller_pk(token_user("7")) == 7
    settings.SIMPLE_JWT = {**getattr(settings, "SIMPLE_JWT", {}), "USER_ID_FIELD": "username"}
    assert caller_pk(token_user("7")) is None
