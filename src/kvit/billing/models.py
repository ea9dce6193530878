"""Bill runs and their chunks: what a run covers and how far it got.

A run bills one tenant (or one hierarchy node of it) for one period. Its accounts are cut
into chunks when it starts; each chunk is fetched, rated and posted in one transaction that
also marks the chunk done, so a run killed at any moment and started again redoes only the
chunks that did not commit — and recompute-and-diff makes even a redone chunk post nothing
twice (architecture §1, reliability R9–R11).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kvit.core.periods import Period


class BillRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    node = models.ForeignKey(
        "tenants.HierarchyNode",
        models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("hierarchy node"),
        help_text=_("Empty: every account of the organisation."),
    )
    period = models.DateField(_("period"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    chunk_size = models.PositiveIntegerField(_("accounts per chunk"))
    accounts = models.PositiveIntegerField(_("accounts"), default=0)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(
        "users.User",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    error = models.TextField(_("error"), blank=True)

    tenant_path = "tenant"

    class Meta:
        verbose_name = _("bill run")
        verbose_name_plural = _("bill runs")
        ordering = ["-started_at"]
        constraints = [
            # One run at a time per organisation: a second one would race the first for
            # the same accounts (the check in `start_run` gives the readable message).
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status="running"),
                name="billing_run_one_running",
                violation_error_message=_("A bill run of this organisation is in progress."),
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="billing_run_period_first"),
        ]

    def __str__(self) -> str:
        return f"{Period.of(self.period)} #{self.pk}" if self.period else f"#{self.pk}"


class BillRunChunk(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")

    run = models.ForeignKey(
        BillRun, models.CASCADE, related_name="chunks", verbose_name=_("bill run")
    )
    index = models.PositiveIntegerField(_("number"))
    account_ids = models.JSONField(_("accounts"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    lines = models.PositiveIntegerField(_("lines"), default=0)
    entries = models.PositiveIntegerField(_("entries posted"), default=0)
    amount = models.DecimalField(_("amount posted"), max_digits=16, decimal_places=2, default=0)
    skipped = models.JSONField(
        _("accounts skipped"),
        default=list,
        blank=True,
        help_text=_("Accounts not posted because of errors, with the issues found."),
    )
    warnings = models.PositiveIntegerField(_("warnings"), default=0)
    seconds = models.JSONField(
        _("seconds"),
        default=dict,
        blank=True,
        help_text=_("Time spent fetching, computing and posting."),
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    tenant_path = "run__tenant"

    class Meta:
        verbose_name = _("bill run chunk")
        verbose_name_plural = _("bill run chunks")
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="billing_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run} / {self.index}"
