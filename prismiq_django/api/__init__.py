"""The HTTP layer (DRF only): views, serializers, OpenAPI, errors, parsers, renderers, content
negotiation, permissions, throttling and the URLconf. Nothing outside it imports it (the
top-level ``prismiq_django.urls`` and ``prismiq_django.throttling`` re-export it for sites)."""
