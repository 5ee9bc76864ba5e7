"""SQLite: introspection, declared types and the rails (``query_only`` and a progress deadline)."""
