"""Errors raised by the glue layer (execution, services).

The query core raises :class:`prismiq_django.query.errors.QueryError` subclasses; the glue adds
runtime failures. The HTTP layer translates all of them in one place. None of these carries
database error text or SQL in its message: the message is safe to show to a caller.
"""

from __future__ import annotations


class PrismiqError(Exception):
    """Base class of the glue-layer errors. ``message`` is safe to show to callers."""

    default_message = "Analytics error."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class QueryTimeout(PrismiqError):
    """The database-side statement timeout fired (HTTP 504, code ``query_timeout``)."""

    default_message = "The query took too long and was stopped."


class DatabaseUnavailable(PrismiqError):
    """The analytics database could not be reached (HTTP 503)."""

    default_message = "The analytics database is unavailable."


class ObjectNotFound(PrismiqError):
    """An unknown, unexposed or hidden table/column was asked for by name (HTTP 404)."""

    default_message = "Not found."


class ValueOutOfRange(PrismiqError):
    """A value of the data is outside what the database can compute this query with:
    PostgreSQL's SQLSTATE 22008 (``datetime_field_overflow``). The services turn it into a
    :class:`~prismiq_django.query.QueryValidationError` (HTTP 400, ``invalid_value`` at the paths
    of the definition's time buckets: :func:`prismiq_django.services.queries.out_of_range`).

    The one source in compiled statements: a time bucket of a ``timestamptz`` value within a day
    of PostgreSQL's limits, whose wall-clock time in the site's time zone is outside them
    (:meth:`prismiq_django.query.dialects.PostgreSQLDialect.date_trunc`); on SQLite, a bucket of
    a value near years 1 or 9999 that Django's ``django_datetime_trunc`` cannot compute in Python
    (:func:`prismiq_django.backends.base.value_out_of_range`). The request is valid; the data
    cannot be answered that way.
    """

    default_message = (
        "A timestamp in the data is too close to the limits of the database's range to be put"
        " in a time bucket in the site's time zone."
    )


class QueryExecutionError(PrismiqError):
    """The database refused a statement for a reason other than timeout or outage (HTTP 500).

    The original database exception is chained (``raise ... from``) and logged, never shown.
    """

    default_message = "The query could not be executed."


__all__ = [
    "DatabaseUnavailable",
    "ObjectNotFound",
    "PrismiqError",
    "QueryExecutionError",
    "QueryTimeout",
    "ValueOutOfRange",
]
