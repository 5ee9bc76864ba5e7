"""The embed page's Content-Security-Policy (SPEC section 13).

Scripts, styles, fonts, images and API calls from the site's own origin only; no inline script, no
plugin, no form target, no base URL change; framable only by ``PRISMIQ["EMBED_FRAME_ANCESTORS"]``
(``["'self'"]`` by default: no other origin may frame it until the site says which).
"""

from __future__ import annotations

from prismiq_django.conf import prismiq_settings

DEFAULT_FRAME_ANCESTORS = ("'self'",)


def frame_ancestors() -> list[str]:
    """The configured CSP source expressions that may frame the embed page."""
    try:
        value = prismiq_settings.EMBED_FRAME_ANCESTORS
    except AttributeError:  # setting not known to this version's conf
        value = DEFAULT_FRAME_ANCESTORS
    return [str(source) for source in value]


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
