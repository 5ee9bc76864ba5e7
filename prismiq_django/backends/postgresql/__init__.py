"""PostgreSQL (psycopg 3): introspection, types, loaders, value spellings, rails, session."""
