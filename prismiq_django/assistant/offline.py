"""The built-in offline backend: simple questions over the exposed catalog, no model, no network.

It understands one measure (``number of``/``how many``/``count``, ``total``/``sum``,
``average``/``avg``/``mean``, ``min``/``max`` and their synonyms; "revenue", "sales" and "amount"
mean the table's amount column), dimensions after ``by``/``per``/``for each`` (a column, a related
table by its label column, or a time bucket: ``by month``, ``per week``, ``daily``), ``top N X by
Y``, relative dates (``last 30 days``, ``this month``, ``last 3 weeks``), years (``in 2024``),
explicit filters (``where status is paid``, ``with country DE``) and, when sample values are
allowed, values named anywhere (``paid orders``, ``in Berlin``). Names are the catalog's names and
display names (plurals too). The answer is a query definition; anything it cannot place is an
:class:`AssistantError`, never a guess at a column.
"""

from __future__ import annotations

import re
from typing import Any

from prismiq_django.assistant.base import Answer, AssistantError, Question
from prismiq_django.assistant.vocabulary import Vocabulary, words
from prismiq_django.query.catalog import NUMERIC_TYPES

_AGGREGATES: list[tuple[tuple[str, ...], str]] = [
    (("number", "of", "distinct"), "count_distinct"),
    (("number", "of", "unique"), "count_distinct"),
    (("count", "of", "distinct"), "count_distinct"),
    (("count", "distinct"), "count_distinct"),
    (("number", "of"), "count"),
    (("count", "of"), "count"),
    (("how", "many"), "count"),
    (("count",), "count"),
    (("sum", "of"), "sum"),
    (("total",), "sum"),
    (("sum",), "sum"),
    (("average",), "avg"),
    (("avg",), "avg"),
    (("mean",), "avg"),
    (("minimum",), "min"),
    (("min",), "min"),
    (("lowest",), "min"),
    (("smallest",), "min"),
    (("maximum",), "max"),
    (("max",), "max"),
    (("highest",), "max"),
    (("largest",), "max"),
    (("biggest",), "max"),
]
_AMOUNT_WORDS = {"revenue", "sales", "amount", "amounts", "spend", "spending", "spent", "value"}
_UNITS = {"minute", "hour", "day", "week", "month", "quarter", "year"}
_ADVERBS = {
    "hourly": "hour",
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annually": "year",
}
_PRESETS = {
    "today": "today",
    "yesterday": "yesterday",
    "last 7 days": "last_7_days",
    "last 30 days": "last_30_days",
    "this week": "this_week",
    "last week": "last_week",
    "this month": "this_month",
    "last month": "last_month",
    "this quarter": "this_quarter",
    "last quarter": "last_quarter",
    "this year": "this_year",
    "last year": "last_year",
}
_FILLER = {
    "what", "whats", "is", "are", "was", "were", "the", "show", "me", "list", "give", "get",
    "find", "tell", "display", "of", "all", "a", "an", "please", "our", "my", "each", "every",
    "there", "do", "does", "did", "we", "have", "i", "want", "see", "to", "for", "and", "in",
    "from", "with", "on", "at",
}  # fmt: skip
_DIMENSION = re.compile(r"\b(?:grouped by|broken down by|split by|for each|by|per)\b")
_RELATIVE = re.compile(
    r"\b(?:in the |over the |during the )?(?:last|past) (\d+) (day|week|month|quarter|year)s?\b"
)
_PRESET = re.compile(r"\b(?:in |for |during )?(" + "|".join(_PRESETS) + r")\b")
_YEAR = re.compile(r"\b(?:in|during|for) ((?:19|20)\d\d)\b")
_TOP = re.compile(r"\b(top|bottom|best|worst) (\d{1,4}) (.+?) by (.+)$")
_EXPLICIT = re.compile(r"\b(?:where|with|whose) (.+?) (?:is|equals|=|of)? ?(qv\d+|[a-z0-9]+)\b")
_IN_VALUE = re.compile(r"\bin (qv\d+|[a-z][a-z0-9]*)\b")


class OfflineBackend:
    """The built-in backend (``ASSISTANT["BACKEND"] = "offline"``)."""

    def answer(self, question: Question) -> Answer:
        return _Builder(question).build()


class _Builder:
    def __init__(self, question: Question) -> None:
        self.question = question
        self.vocab = Vocabulary.of(question.catalog)
        self.quoted: list[str] = []

        def keep(match: re.Match[str]) -> str:
            self.quoted.append(match.group(1) or match.group(2))
            return f" qv{len(self.quoted) - 1} "

        text = re.sub(r'"([^"]+)"|\'([^\']+)\'', keep, question.text[:500])
        self.text = " ".join(words(text))
        self.ids: dict[str, str] = {}
        self.joins: list[dict[str, str]] = []
        self.filters: list[dict[str, Any]] = []
        self.dates: list[tuple[str, object]] = []

    # -- entry -----------------------------------------------------------------------------
    def build(self) -> Answer:
        text = self._take_dates(self.text)
        top = _TOP.search(text)
        order_direction = "DESC"
        limit: int | None = None
        if top is not None:
            order_direction = "ASC" if top.group(1) in ("bottom", "worst") else "DESC"
            limit = int(top.group(2))
            entity, measure_text = top.group(3), top.group(4)
            head, dims_text = measure_text, entity
        else:
            parts = _DIMENSION.split(text, maxsplit=1)
            head = parts[0]
            dims_text = parts[1] if len(parts) > 1 else ""
        dims_text, rest = self._split_filters(dims_text)
        head, head_rest = self._split_filters(head)
        agg, table, column = self._measure(head, dims_text)
        self.primary = table
        self.ids[table] = "t0"
        dimensions, bucket = self._dimensions(dims_text)
        self._filters(" ".join(p for p in (head_rest, rest) if p))
        self._sample_filters()
        return self._answer(agg, table, column, dimensions, bucket, order_direction, limit)

    # -- pieces ----------------------------------------------------------------------------
    def _take_dates(self, text: str) -> str:
        match = _RELATIVE.search(text)
        if match is not None:
            count, unit = int(match.group(1)), match.group(2)
            preset = _PRESETS.get(f"last {count} {unit}s")
            self.dates.append(
                ("date_relative", {"preset": preset} if preset else {"last": count, "unit": unit})
            )
            return self._take_dates(text[: match.start()] + text[match.end() :])
        match = _PRESET.search(text)
        if match is not None:
            self.dates.append(("date_relative", {"preset": _PRESETS[match.group(1)]}))
            return self._take_dates(text[: match.start()] + text[match.end() :])
        match = _YEAR.search(text)
        if match is not None:
            year = int(match.group(1))
            self.dates.append(("year", year))
            return self._take_dates(text[: match.start()] + text[match.end() :])
        return " ".join(text.split())

    @staticmethod
    def _split_filters(text: str) -> tuple[str, str]:
        match = re.search(r"\b(?:where|with|whose|in)\b", text)
        if match is None:
            return text.strip(), ""
        return text[: match.start()].strip(), text[match.start() :].strip()

    def _measure(self, head: str, dims_text: str) -> tuple[str, str, str | None]:
        """(aggregation, table, column or None for COUNT(*)) of the question's measure."""
        tokens = words(head)
        agg: str | None = None
        keyword: tuple[str, ...] = ()
        rest = tokens
        for i in range(len(tokens)):
            for phrase, name in _AGGREGATES:
                if tokens[i : i + len(phrase)] == phrase:
                    agg, keyword, rest = name, phrase, tokens[i + len(phrase) :]
                    break
            if agg is not None:
                break
        rest = tuple(t for t in rest if t not in _FILLER and t not in _ADVERBS)
        candidates = self._candidate_tables(tokens)
        if any(t in _AMOUNT_WORDS for t in rest):
            for table in candidates:
                amount = self.vocab.amount_column(table)
                if amount is not None:
                    return agg or "sum", table, amount
        counted = self._find_table(rest)
        if counted is not None and agg in (None, "count"):
            return "count", counted, None
        found = self._find_column(rest, candidates) if rest else None
        if found is None and not rest and keyword:
            found = self._find_column(keyword, candidates)  # "by total": the column "total"
            agg = "sum" if found is not None else agg
        if found is not None:
            table, column = found
            col = self.vocab.column(table, column)
            numeric = col is not None and col.type in NUMERIC_TYPES
            if agg in ("sum", "avg") and not numeric:
                raise AssistantError(f"{column!r} is not a number: it cannot be added up.")
            return agg or ("sum" if numeric else "count_distinct"), table, column
        named = counted
        if named is None or (agg not in (None, "count") and counted is None):
            raise AssistantError("I could not tell what to measure.")
        return "count", named, None

    def _candidate_tables(self, head: tuple[str, ...]) -> list[str]:
        named = [t for t in (self._find_table(head), self._find_table(words(self.text))) if t]
        ordered: list[str] = []
        for table in named + sorted(self.vocab.catalog.tables):
            if table not in ordered:
                ordered.append(table)
        return ordered

    def _find_table(self, tokens: tuple[str, ...]) -> str | None:
        for i in range(len(tokens)):
            found = self.vocab.table_at(tokens, i)
            if found is not None:
                return found[0]
        return None

    def _find_column(self, tokens: tuple[str, ...], tables: list[str]) -> tuple[str, str] | None:
        """The first of ``tables`` (in order) with a column named anywhere in ``tokens``."""
        for table in tables:
            for i in range(len(tokens)):
                found = self.vocab.column_at(tokens, i, [table])
                if found is not None:
                    return found[0], found[1]
        return None

    def _dimensions(self, text: str) -> tuple[list[tuple[str, str]], str | None]:
        dims: list[tuple[str, str]] = []
        bucket: str | None = None
        for token in words(self.text):
            if token in _ADVERBS:
                bucket = _ADVERBS[token]
        for part in re.split(r",| and ", text):
            tokens = tuple(t for t in words(part) if t not in _FILLER)
            if not tokens:
                continue
            unit = tokens[-1].rstrip("s") if tokens[-1].rstrip("s") in _UNITS else None
            if unit is not None and len(tokens) <= 2:
                bucket = unit
                continue
            tables = [self.primary, *self.vocab.related(self.primary)]
            table = self._find_table(tokens)
            if table in tables:
                named = self._find_column(self._without_table(tokens), [table])
                if named is not None:  # "by customer country"
                    dims.append(named)
                    continue
            label = self.vocab.label_column(table) if table in tables else None
            if table is not None and label is not None:
                dims.append((table, label))  # "by customer": the related table's label
                continue
            found = self._find_column(tokens, tables)
            if found is None:
                raise AssistantError(f"I do not know what {part.strip()!r} refers to.")
            dims.append(found)
        return dims, bucket

    def _without_table(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        for i in range(len(tokens)):
            found = self.vocab.table_at(tokens, i)
            if found is not None:
                return tokens[:i] + tokens[i + found[1] :]
        return tokens

    def _filters(self, text: str) -> None:
        tables = [self.primary, *self.vocab.related(self.primary)]
        for match in _EXPLICIT.finditer(text):
            found = self._find_column(words(match.group(1)), tables)
            if found is None:
                raise AssistantError(f"I do not know the column {match.group(1)!r}.")
            self._eq(found[0], found[1], self._value(match.group(2)))
        for match in _IN_VALUE.finditer(text):
            value = self._value(match.group(1))
            place = self._sample_for(value, tables)
            if place is None:
                raise AssistantError(f"I could not tell which column {value!r} is a value of.")
            self._eq(place[0], place[1], place[2])

    def _value(self, token: str) -> str:
        """A filter value as the question wrote it (quoted, or the word in its own case)."""
        if re.fullmatch(r"qv\d+", token):
            return self.quoted[int(token[2:])]
        match = re.search(r"\b" + re.escape(token) + r"\b", self.question.text, re.IGNORECASE)
        return match.group(0) if match else token

    def _sample_for(self, value: str, tables: list[str]) -> tuple[str, str, object] | None:
        wanted = value.lower()
        for table in tables:
            for (t, column), values in self.question.samples.items():
                if t != table:
                    continue
                for v in values:
                    if isinstance(v, str) and v.lower() == wanted:
                        return table, column, v
        return None

    def _sample_filters(self) -> None:
        """Values the question names without a column (``paid orders``): samples only."""
        tokens = words(self.text)
        taken = {(f["column"], str(f["value"]).lower()) for f in self.filters}
        for table in [self.primary, *self.vocab.related(self.primary)]:
            for (t, column), values in self.question.samples.items():
                if t != table:
                    continue
                for v in values:
                    if not isinstance(v, str) or len(v) < 3 or (column, v.lower()) in taken:
                        continue
                    phrase = words(v)
                    named = any(tokens[i : i + len(phrase)] == phrase for i in range(len(tokens)))
                    if phrase and named and self.vocab.table_at(phrase, 0) is None:
                        self._eq(table, column, v)
                        taken.add((column, v.lower()))

    # -- assembly --------------------------------------------------------------------------
    def _id(self, table: str) -> str:
        if table in self.ids:
            return self.ids[table]
        rel = None
        for joined in list(self.ids):
            rel = self.vocab.relationship(joined, table)
            if rel is not None:
                break
        if rel is None:
            raise AssistantError(f"{table!r} is not related to {self.primary!r}.")
        table_id = self.ids[table] = f"t{len(self.ids)}"
        self.joins.append(
            {
                "from_table_id": self.ids[rel.from_table],
                "from_column": rel.from_column,
                "to_table_id": self.ids[rel.to_table],
                "to_column": rel.to_column,
                "join_type": "INNER",
            }
        )
        return table_id

    def _eq(self, table: str, column: str, value: object) -> None:
        self.filters.append(
            {"table_id": self._id(table), "column": column, "operator": "eq", "value": value}
        )

    def _answer(
        self,
        agg: str,
        table: str,
        column: str | None,
        dims: list[tuple[str, str]],
        bucket: str | None,
        direction: str,
        limit: int | None,
    ) -> Answer:
        columns: list[dict[str, Any]] = [{"table_id": self._id(t), "column": c} for t, c in dims]
        alias = "count" if column is None else f"{agg}_{column}"
        columns.append(
            {"table_id": "t0", "column": column or "*", "aggregation": agg, "alias": alias}
        )
        query: dict[str, Any] = {"tables": [], "columns": columns}
        date_column = self.vocab.date_column(table)
        for kind, value in self.dates:
            if date_column is None:
                raise AssistantError(f"{table!r} has no date to filter on.")
            if kind == "year":
                assert isinstance(value, int)
                bounds = [f"{value}-01-01", f"{value + 1}-01-01"]
                self.filters.append(
                    {"table_id": "t0", "column": date_column, "operator": "gte", "value": bounds[0]}
                )
                self.filters.append(
                    {"table_id": "t0", "column": date_column, "operator": "lt", "value": bounds[1]}
                )
            else:
                self.filters.append(
                    {
                        "table_id": "t0",
                        "column": date_column,
                        "operator": "date_relative",
                        "value": value,
                    }
                )
        query["tables"] = [
            {"id": i, "name": t} for t, i in sorted(self.ids.items(), key=lambda x: int(x[1][1:]))
        ]
        if self.joins:
            query["joins"] = self.joins
        if self.filters:
            query["filters"] = self.filters
        if bucket is not None:
            if date_column is None:
                raise AssistantError(f"{table!r} has no date to group by {bucket}.")
            query["time_series"] = {
                "table_id": "t0",
                "date_column": date_column,
                "interval": bucket,
            }
        elif dims or limit is not None:
            query["order_by"] = [{"alias": alias, "direction": direction}]
        if limit is not None:
            query["limit"] = limit
        return Answer(query=query, explanation=_explain(query, agg, table, column, bucket))


def _explain(
    query: dict[str, Any], agg: str, table: str, column: str | None, bucket: str | None
) -> str:
    words_ = {"count_distinct": "Number of distinct", "sum": "Sum of", "avg": "Average",
              "min": "Lowest", "max": "Highest"}  # fmt: skip
    text = f"{words_[agg]} {table}.{column}" if column else f"Number of rows of {table}"
    dims = [c["column"] for c in query["columns"] if "aggregation" not in c]
    if bucket:
        text += f" per {bucket}"
    if dims:
        text += " by " + ", ".join(dims)
    if "limit" in query:
        text += f", top {query['limit']}"
    if query.get("filters"):
        text += f", {len(query['filters'])} filter(s)"
    return text + "."


__all__ = ["OfflineBackend"]
