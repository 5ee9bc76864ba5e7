"""Fixtures of the demo-data tests: a runner for ``load_demo_data`` and a dataset checksum."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.core.management import call_command

from example_project.shop.models import Customer, Order, OrderItem, Product

#: A small dataset with a fixed end date, so every run gives the same rows.
SMALL = (
    "--orders=400",
    "--customers=60",
    "--products=15",
    "--tenants=3",
    "--end-date=2025-06-30",
    "--days=120",
)


@dataclass(frozen=True, slots=True)
class Run:
    """What one ``load_demo_data`` call printed."""

    stdout: str
    stderr: str


Loader = Callable[..., Run]


@pytest.fixture
def load() -> Loader:
    """Run ``load_demo_data`` with the given command-line arguments; return its output."""

    def run(*args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        call_command("load_demo_data", *args, stdout=out, stderr=err)
        return Run(out.getvalue(), err.getvalue())

    return run


def counts() -> tuple[int, int, int, int]:
    """Rows in the four shop tables."""
    return (
        Customer.objects.count(),
        Product.objects.count(),
        Order.objects.count(),
        OrderItem.objects.count(),
    )


def checksum() -> str:
    """A digest of every shop row, ids included, in id order (backend-independent values)."""
    digest = hashlib.sha256()
    for model in (Customer, Product, Order, OrderItem):
        fields = [field.attname for field in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*fields):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    """No cached catalog leaks between tests (each test exposes tables in its own transaction)."""
    from prismiq_django import services

    services.invalidate_catalog()
    yield
    services.invalidate_catalog()
