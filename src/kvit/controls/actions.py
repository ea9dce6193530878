"""Run the reconciliation checks and keep the To Do list in step with what they find.

A finding without an open To Do opens one; an open To Do found again gets the new numbers
and time; an open To Do not found any more is closed. Running the checks twice in a row
changes nothing the second time but the times found. The nightly job is
`kvit.controls.tasks.reconcile` (Celery beat) or `kvit reconcile` (cron).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from kvit.controls.checks import Finding, find
from kvit.controls.models import ToDo
from kvit.tenants.models import Tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Summary:
    tenant: str
    found: list[Finding]
    opened: int
    closed: int


def reconcile(tenant: Tenant, *, now: datetime | None = None) -> Summary:
    """Check `tenant` and open, refresh or close its To Do entries."""
    at = now or timezone.now()
    with transaction.atomic():
        # One run at a time per organisation, from the checks to the To Dos, so a run never
        # writes what it found over what a later run found. (NO KEY: rows that refer to the
        # organisation are still written meanwhile.)
        Tenant.objects.select_for_update(no_key=True).filter(pk=tenant.pk).first()
        found = find(tenant)
        open_ = {
            (todo.kind, todo.subject): todo
            for todo in ToDo.objects.filter(tenant=tenant, closed_at__isnull=True)
        }
        opened = []
        for finding in found:
            todo = open_.pop((finding.kind, finding.subject), None)
            if todo is None:
                opened.append(_opened(tenant, finding, at))
            else:
                todo.details, todo.found_at = finding.details, at
                todo.save(update_fields=["details", "found_at"])
        ToDo.objects.bulk_create(opened)
        ToDo.objects.filter(pk__in=[todo.pk for todo in open_.values()]).update(closed_at=at)
    return Summary(tenant.code, found, len(opened), len(open_))


def reconcile_all(*, now: datetime | None = None) -> list[Summary]:
    """Every organisation; one that fails is logged and the others are still checked."""
    summaries = []
    for tenant in Tenant.objects.order_by("code"):
        try:
            summaries.append(reconcile(tenant, now=now))
        except DatabaseError:
            log.exception("the reconciliation of %s failed", tenant.code)
    return summaries


def _opened(tenant: Tenant, finding: Finding, at: datetime) -> ToDo:
    links: dict[str, Any] = {f"{name}_id": pk for name, pk in finding.links.items()}
    return ToDo(
        tenant=tenant,
        kind=finding.kind,
        subject=finding.subject,
        details=finding.details,
        opened_at=at,
        found_at=at,
        **links,
    )
