"""The catalog: what the analytics database holds and what end users may see of it.

``introspect`` (the raw catalog, through the vendor's backend), ``exposure`` (the exposure
configuration applied), ``protected`` (the tables never exposed), ``codec`` (the catalog as bytes
for the schema cache), ``store`` (this process's memo, the cache entry, its version token and its
invalidation) and ``sync`` (exposure rows from the database, the admin's "Sync from database").
"""
