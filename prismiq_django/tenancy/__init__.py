"""Who is calling (``identity``) and which rows they may read (``scopes``, ``TENANT_CALLBACK``)."""
