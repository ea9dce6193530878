"""To Do entries: what the reconciliation checks found wrong (reliability R27).

A To Do is opened the first time a check finds a mismatch, stays open (one per subject) while
the checks keep finding it, and is closed by the first check that no longer does. It keeps
the numbers found, not a sentence, so each reader sees it in their own language
(`kvit.controls.texts`).
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ToDo(models.Model):
    class Kind(models.TextChoices):
        BALANCE = "balance", _("cached balance differs from the ledger")
        REGISTRY = "registry", _("registry differs from its payments")
        PAYMENTS = "payments", _("payments differ from the ledger")
        BILL_RUN = "bill_run", _("bill run differs from the ledger")
        STATEMENT = "statement", _("payment order differs from the bank statement")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    kind = models.CharField(pgettext_lazy("to do", "check"), max_length=10, choices=Kind.choices)
    subject = models.CharField(
        _("subject"), max_length=100, help_text=_("What was checked, e.g. a registry's number.")
    )
    account = models.ForeignKey(
        "accounts.Account",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("personal account"),
    )
    registry = models.ForeignKey(
        "registries.Registry",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment registry"),
    )
    bill_run = models.ForeignKey(
        "billing.BillRun",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bill run"),
    )
    details = models.JSONField(
        _("details"), default=dict, encoder=DjangoJSONEncoder, help_text=_("The numbers found.")
    )
    opened_at = models.DateTimeField(_("opened at"))
    found_at = models.DateTimeField(_("last found at"))
    closed_at = models.DateTimeField(
        pgettext_lazy("to do", "closed at"),
        null=True,
        blank=True,
        help_text=_("When a check no longer found the mismatch."),
    )

    tenant_path = "tenant"

    class Meta:
        verbose_name = _("To Do")
        verbose_name_plural = _("To Do")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "subject"],
                condition=Q(closed_at__isnull=True),
                name="controls_todo_open_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "kind"],
                condition=Q(closed_at__isnull=True),
                name="controls_todo_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
