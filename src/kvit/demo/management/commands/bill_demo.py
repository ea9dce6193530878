"""`kvit bill_demo`: bill the demo's months in order, as an organisation would have.

kvit bill_demo            # what `make demo` runs after the seed: safe to repeat

For every organisation, each month the seed filled with readings (from the second: the
first holds the start readings) is opened, billed and closed; the last one is left open,
the current period, which follows new readings at once. Months already closed are
skipped, so a second call bills only the open month again, which posts nothing new. Then the
reconciliation checks run (docs/controls.md), as they would that night.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kvit.billing.actions import bill
from kvit.controls.actions import reconcile
from kvit.core.periods import Period
from kvit.demo.generator import DEFAULT_REFERENCE
from kvit.demo.window import Window
from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import BillingPeriod
from kvit.tenants.models import Tenant


class Command(BaseCommand):
    help = "Bill the demo's months in order: open, bill, close; the last month stays open."

    def handle(self, *args: Any, **options: Any) -> None:
        # The window's first month holds the start readings: billing begins a month later.
        months = [Period.of(p.first) for p in Window(DEFAULT_REFERENCE).periods][1:]
        for tenant in Tenant.objects.order_by("code"):
            closed = set(
                BillingPeriod.objects.filter(
                    tenant=tenant, status=BillingPeriod.Status.CLOSED
                ).values_list("period", flat=True)
            )
            runs = []
            for index, period in enumerate(months):
                if period.first_day in closed:
                    continue
                open_period(tenant, period.first_day)
                runs.append(bill(tenant, period, today=period.end))
                if index < len(months) - 1:
                    close_period(tenant, period.first_day, None)
            if not runs:
                self.stdout.write(f"{tenant.code}: the demo months are billed already")
                continue
            # one line per organisation, so the logins printed by the seed stay in view
            self.stdout.write(
                f"{tenant.code}: billed {runs[0].run.period:%Y-%m}…{runs[-1].run.period:%Y-%m}: "
                f"{sum(r.entries for r in runs):,} entries, "
                f"{sum(r.skipped_count for r in runs):,} account-months skipped; "
                f"reconciled: {len(reconcile(tenant).found):,} differences"
            )
