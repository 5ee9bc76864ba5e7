"""The synthetic wide schema of the introspection and schema benchmarks."""

from __future__ import annotations

from collections.abc import Iterator


def create_tables_sql(schema: str, tables: int, columns: int, batch: int = 100) -> Iterator[str]:
    """``CREATE TABLE`` statements for ``tables`` tables ``t0000``... of ``columns`` columns in
    ``schema`` (which must exist), ``batch`` per string joined by ``;``.

    Each table has ``id integer PRIMARY KEY``, ``parent_id`` referencing the previous table
    (a chain of foreign keys) and ``columns - 2`` columns alternating ``varchar(40)`` and
    ``integer``. Benchmark data only: ``schema`` is the benchmark's own constant.
    """
    kinds = ("varchar(40)", "integer")
    cols = ", ".join(f"c{j:02d} {kinds[j % 2]}" for j in range(columns - 2))
    statements = []
    for i in range(tables):
        ref = f"REFERENCES {schema}.t{i - 1:04d} (id)" if i else ""
        statements.append(
            f"CREATE TABLE {schema}.t{i:04d} (id integer PRIMARY KEY, "
            f"parent_id integer {ref}, {cols})"
        )
        if len(statements) == batch:
            yield ";\n".join(statements)
            statements = []
    if statements:
        yield ";\n".join(statements)
