"""Public path of the caller's identity rule (``prismiq_django.identity.caller_pk``).

Re-exports :mod:`prismiq_django.tenancy.identity`.
"""

from __future__ import annotations

from prismiq_django.tenancy.identity import caller_has_account, caller_pk

__all__ = ["caller_has_account", "caller_pk"]
