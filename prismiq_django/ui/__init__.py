"""Optional browser pages (SPEC section 13).

Mounted with ``path("analytics/", include("prismiq_django.ui.urls"))``.

Server-rendered shells (Django templates) whose plain ES modules call the same REST API as any
other client, with the site's session and CSRF token. Nothing here reads or runs queries itself.
"""
