"""The embed page's Content-Security-Policy (SPEC section 13).

Scripts, styles, fonts, images and API calls from the site's own origin only; no inline script, no
plugin, no form target, no base URL change; framable only by ``PRISMIQ["EMBED_FRAME_ANCESTORS"]``
(``["'self'"]`` by default: no other origin may frame it until the site says which).
"""

from __future__ import annotations

from prismiq_django.checks import is_csp_source
from prismiq_django.conf import prismiq_settings


def frame_ancestors() -> list[str]:
    """The configured sources that may frame the embed page. An entry that is not one source
    expression (check ``prismiq_django.E002`` reports it) is left out, never copied into the
    header, so a bad setting can only narrow who frames the page."""
    return [source for source in prismiq_settings.EMBED_FRAME_ANCESTORS if is_csp_source(source)]


def embed_content_security_policy() -> str:
    """The header value for the embed page."""
    ancestors = " ".join(frame_ancestors()) or "'none'"
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        # ECharts and the page position elements through style attributes.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
        f"frame-ancestors {ancestors}",
    ]
    return "; ".join(directives)
