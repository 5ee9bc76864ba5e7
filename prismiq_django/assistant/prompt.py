"""What a language model is told: the answer format and the exposed catalog, nothing else.

The catalog part lists each exposed table and visible column with its type, display name and
description, and the relationships between them; sample values only when the caller passes them
(``ASSISTANT["SAMPLE_VALUES"]``). No row of any table is ever part of a prompt otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from prismiq_django.query.catalog import Catalog

_AGGREGATIONS = ["none", "sum", "avg", "count", "count_distinct", "min", "max"]
_UNITS = ["minute", "hour", "day", "week", "month", "quarter", "year"]

SYSTEM_PROMPT = """You turn questions about a database into JSON query definitions. Never write SQL.
Answer with one JSON object {"query": QueryDefinition, "explanation": "one sentence"}.
QueryDefinition:
  tables: [{"id": "t0", "name": <exposed table name>}]   (ids are your own handles)
  joins: [{"from_table_id", "from_column", "to_table_id", "to_column", "join_type": "INNER"|"LEFT"}]
  columns: [{"table_id", "column", "aggregation"?: none|sum|avg|count|count_distinct|min|max,
             "alias"?, "date_trunc"?: minute|hour|day|week|month|quarter|year}]
           ("column": "*" only with "aggregation": "count")
  filters: [{"table_id", "column", "operator", "value"}]  operators: eq neq gt gte lt lte in not_in
           like ilike contains starts_with ends_with between is_null is_not_null date_relative
           (date_relative value: {"preset": "last_30_days"|"this_month"|...}
            or {"last": N, "unit": "day"})
  order_by: [{"alias", "direction": "ASC"|"DESC"}]   limit?: int
  time_series?: {"table_id", "date_column", "interval": day|week|month|quarter|year}
Use only the tables, columns and relationships listed below; join through the relationships."""


def catalog_description(
    catalog: Catalog, samples: Mapping[tuple[str, str], Sequence[object]] | None = None
) -> str:
    """The exposed catalog as compact JSON for a prompt (sample values only when given)."""
    tables: list[dict[str, Any]] = []
    for table in sorted(catalog.tables.values(), key=lambda t: t.name):
        columns: list[dict[str, Any]] = []
        for column in table.columns:
            entry: dict[str, Any] = {"name": column.name, "type": column.type}
            if column.display_name:
                entry["display_name"] = column.display_name
            if column.description:
                entry["description"] = column.description
            values = (samples or {}).get((table.name, column.name))
            if values:
                entry["sample_values"] = [str(v) for v in list(values)[:20]]
            columns.append(entry)
        described: dict[str, Any] = {"name": table.name, "columns": columns}
        if table.display_name:
            described["display_name"] = table.display_name
        if table.description:
            described["description"] = table.description
        tables.append(described)
    relationships = [
        f"{r.from_table}.{r.from_column} -> {r.to_table}.{r.to_column}"
        for r in catalog.relationships
    ]
    return json.dumps({"tables": tables, "relationships": relationships}, ensure_ascii=False)


def answer_schema(catalog: Catalog) -> dict[str, Any]:
    """JSON schema of the answer, for servers that constrain output (table names enumerated)."""
    ref = {"type": "string"}
    column = {
        "type": "object",
        "properties": {
            "table_id": ref,
            "column": ref,
            "aggregation": {"type": "string", "enum": _AGGREGATIONS},
            "alias": ref,
            "date_trunc": {"type": "string", "enum": _UNITS},
        },
        "required": ["table_id", "column"],
    }
    query = {
        "type": "object",
        "properties": {
            "tables": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": ref,
                        "name": {"type": "string", "enum": sorted(catalog.tables)},
                    },
                    "required": ["id", "name"],
                },
            },
            "joins": {"type": "array", "items": {"type": "object"}},
            "columns": {"type": "array", "minItems": 1, "items": column},
            "filters": {"type": "array", "items": {"type": "object"}},
            "order_by": {"type": "array", "items": {"type": "object"}},
            "limit": {"type": "integer", "minimum": 0},
            "time_series": {"type": "object"},
        },
        "required": ["tables", "columns"],
    }
    return {
        "type": "object",
        "properties": {"query": query, "explanation": {"type": "string"}},
        "required": ["query", "explanation"],
    }


__all__ = ["SYSTEM_PROMPT", "answer_schema", "catalog_description"]
