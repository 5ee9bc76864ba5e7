"""The core is pure: importing it loads no Django, and compiling does no I/O."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import builtins, io, os, socket, sys

    import prismiq_django.query as q
    from prismiq_django.query import catalog, compiler, dates, dialects, errors, parse
    assert "django" not in sys.modules, sorted(m for m in sys.modules if m.startswith("django"))

    def refuse(*args, **kwargs):
        raise AssertionError("I/O attempted")

    builtins.open = io.open = os.open = refuse
    socket.socket = socket.create_connection = refuse
    os.listdir = os.stat = os.scandir = refuse

    from tests.query.catalogs import SHOP
    data = {
        "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
        "joins": [{"from_table_id": "o", "from_column": "customer_id",
                   "to_table_id": "c", "to_column": "id", "join_type": "LEFT"}],
        "columns": [{"table_id": "o", "column": "ordered_at", "date_trunc": "week"},
                    {"table_id": "o", "column": "total", "aggregation": "sum"}],
        "filters": [{"table_id": "o", "column": "ordered_at", "operator": "date_relative",
                     "value": {"preset": "last_month"}}],
    }
    for vendor in ("postgresql", "sqlite"):
        compiled = q.build(data, SHOP, vendor)
        assert compiled.sql.startswith("SELECT ")
    try:
        q.build({"tables": "x"}, SHOP, "sqlite")
    except q.QueryValidationError:
        pass
    assert "django" not in sys.modules
    print("pure")
    """
)


def test_importing_and_using_the_core_loads_no_django_and_does_no_io() -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"


def test_core_modules_do_not_import_django_textually() -> None:
    for path in (ROOT / "prismiq_django" / "query").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import django" not in source, path.name
        assert "from django" not in source, path.name
