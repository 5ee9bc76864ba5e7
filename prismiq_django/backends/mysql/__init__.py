"""MySQL and MariaDB: introspection, types, result values and the rails (read-only transaction,
statement gate, ``max_statement_time``)."""
