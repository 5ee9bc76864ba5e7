"""The dashboard access rule of the models (two real users, tenants) and the listing's cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from prismiq_django.models import Dashboard, DashboardViewer, Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, User]:
    return {name: User.objects.create_user(name) for name in ("ann", "ben")}


def board(owner: User, name: str, *, tenant: str | None = None, public: bool = False) -> Dashboard:
    return Dashboard.objects.create(name=name, owner=owner, tenant=tenant, is_public=public)


def names(rows: Any) -> list[str]:
    return sorted(d.name for d in rows)


def test_visible_own_and_public_within_the_tenant_only(people: dict[str, User]) -> None:
    ann, ben = people["ann"], people["ben"]
    board(ann, "ann-private-t1", tenant="t1")
    board(ann, "ann-public-t1", tenant="t1", public=True)
    board(ben, "ben-private-t1", tenant="t1")
    board(ben, "ben-public-t2", tenant="t2", public=True)
    board(ben, "ben-public-none", public=True)
    board(ann, "ann-private-none")
    rows = Dashboard.objects
    assert names(rows.visible_to(DashboardViewer(ben.pk, ("t1",)))) == [
        "ann-public-t1",
        "ben-private-t1",
    ]
    assert names(rows.visible_to(DashboardViewer(ann.pk, ("t2",)))) == ["ben-public-t2"]
    # A caller whose callback returns None: the tenant-less dashboards only.
    assert names(rows.visible_to(DashboardViewer(ann.pk))) == [
        "ann-private-none",
        "ben-public-none",
    ]
    # Several tenant values: any of them.
    assert names(rows.visible_to(DashboardViewer(ann.pk, ("t1", "t2")))) == [
        "ann-private-t1",
        "ann-public-t1",
        "ben-public-t2",
    ]
    # A callback that gave an empty list: no tenant value, no dashboard at all.
    assert names(rows.visible_to(DashboardViewer(ann.pk, ()))) == []
    # No user key (a token user that is no user): public ones of the tenant.
    assert names(rows.visible_to(DashboardViewer(None, ("t1",)))) == ["ann-public-t1"]
    # An admin sees every dashboard of its tenant, and still none of another.
    assert names(rows.visible_to(DashboardViewer(ben.pk, ("t2",), is_admin=True))) == [
        "ben-public-t2"
    ]
    assert names(rows.visible_to(DashboardViewer(ben.pk, ("t1",), is_admin=True))) == [
        "ann-private-t1",
        "ann-public-t1",
        "ben-private-t1",
    ]


def test_editable_only_by_the_owner_or_an_admin_of_the_tenant(people: dict[str, User]) -> None:
    ann, ben = people["ann"], people["ben"]
    board(ann, "ann-public", tenant="t1", public=True)
    board(ben, "ben", tenant="t1")
    board(ann, "ann-t2", tenant="t2")
    rows = Dashboard.objects
    assert names(rows.editable_by(DashboardViewer(ann.pk, ("t1",)))) == ["ann-public"]
    assert names(rows.editable_by(DashboardViewer(ben.pk, ("t1",)))) == ["ben"]
    assert names(rows.editable_by(DashboardViewer(ann.pk))) == []
    assert names(rows.editable_by(DashboardViewer(None, ("t1",)))) == []
    assert names(rows.editable_by(DashboardViewer(ben.pk, ("t1",), is_admin=True))) == [
        "ann-public",
        "ben",
    ]
    assert names(rows.editable_by(DashboardViewer(ann.pk, ("t1",), read_only=True))) == []


def test_an_embed_restriction_narrows_to_its_dashboards(people: dict[str, User]) -> None:
    ann = people["ann"]
    one = board(ann, "one", tenant="t1")
    board(ann, "two", tenant="t1")
    other_tenant = board(ann, "three", tenant="t2")
    viewer = DashboardViewer(None, ("t1",), dashboard_ids=frozenset({one.pk, other_tenant.pk}))
    assert names(Dashboard.objects.visible_to(viewer)) == ["one"]


def test_listing_n_dashboards_with_widgets_costs_two_queries(
    people: dict[str, User], django_assert_num_queries: Any
) -> None:
    ann = people["ann"]
    for i in range(12):
        dashboard = board(ann, f"d{i}", public=True)
        for j in range(3):
            Widget.objects.create(dashboard=dashboard, type="text", order=2 - j, title=f"w{j}")
    viewer = DashboardViewer(people["ben"].pk)
    with django_assert_num_queries(2):
        listed = list(Dashboard.objects.visible_to(viewer).with_widgets())
        titles = [[w.title for w in d.widgets.all()] for d in listed]
    assert len(listed) == 12
    assert titles == [["w2", "w1", "w0"]] * 12  # in their order


def test_a_widget_cannot_hold_both_sources_or_a_zero_size(people: dict[str, User]) -> None:
    from prismiq_django.models import SavedQuery

    dashboard = board(people["ann"], "d")
    saved = SavedQuery.objects.create(name="q", query={}, owner=people["ann"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Widget.objects.create(dashboard=dashboard, type="table", query={"a": 1}, saved_query=saved)
    with pytest.raises(IntegrityError), transaction.atomic():
        Widget.objects.create(dashboard=dashboard, type="text", w=0)
    assert Widget.objects.create(dashboard=dashboard, type="text").position == {
        "x": 0,
        "y": 0,
        "w": 4,
        "h": 4,
    }
    assert dashboard.layout == {"columns": 12, "row_height": 50, "margin": [10, 10]}
