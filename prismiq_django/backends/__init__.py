"""Per-vendor database code, like Django's ``db/backends``: one package per vendor.

Each vendor package holds its introspection SQL (``introspection``), type map (``types``), session
rails (``rails``) and, for PostgreSQL, psycopg loaders and session settings. What every vendor
shares: :mod:`~prismiq_django.backends.base` (deadline, driver errors) and
:mod:`~prismiq_django.backends.introspection`. Backends import only the query core, ``conf``,
``exceptions`` and ``ops``.
"""
