"""Revocation of a dashboard's embed tokens (SPEC section 10).

An embed token carries the revocation ``version`` its dashboard had when it was issued;
``POST dashboards/{id}/embed-tokens/revoke`` increments it, and a token whose version is not the
current one is refused. A dashboard that was never revoked has no row (version 0). Verifying a
token reads this table once, by primary key.
"""

from __future__ import annotations

from django.db import models

from prismiq_django.models.dashboards import Dashboard


class DashboardEmbedState(models.Model):
    """The embed-token version of one dashboard."""

    dashboard = models.OneToOneField(
        Dashboard, on_delete=models.CASCADE, primary_key=True, related_name="embed_state"
    )
    version = models.PositiveIntegerField(
        default=0, help_text="Tokens issued with another version are refused."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "dashboard embed state"
        verbose_name_plural = "dashboard embed states"

    def __str__(self) -> str:
        return f"embed tokens of dashboard {self.dashboard_id}: version {self.version}"


__all__ = ["DashboardEmbedState"]
