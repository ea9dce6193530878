"""What the API keeps for itself: the first response to each `Idempotency-Key` (R8)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotentRequest(models.Model):
    """A write request made with an `Idempotency-Key` and the response it got, replayed
    for the same key (`kvit.api.idempotency`). Keys are scoped per organisation and per
    principal (the caller: an aggregator contract)."""

    tenant = models.ForeignKey(
        "tenants.Tenant",
        models.CASCADE,
        db_index=False,  # the key's unique index starts with it
        verbose_name=_("organisation"),
    )
    principal = models.CharField(_("principal"), max_length=60)
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(
        _("request fingerprint"),
        max_length=64,
        help_text=_("SHA-256 of the method, the path and the body."),
    )
    # Empty only inside the transaction that claimed the key and is running the request:
    # the response is stored before it commits.
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    content = models.TextField(_("response body"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    tenant_path = "tenant"

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "principal", "key"], name="api_idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.key
