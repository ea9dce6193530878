"""`kvit reconcile`: the reconciliation checks (R27) of every organisation, or of one.

kvit reconcile                       # nightly, e.g. from cron; exit status 1 when anything differs
kvit reconcile --tenant demo-uk
kvit reconcile --tenant demo-uk --rebuild-balances

Prints what each check found; the To Do list (back-office, Controls) keeps it until a later
run no longer finds it. `--rebuild-balances` first recomputes the cached balances from the
ledger entries, which are the truth.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from kvit.controls.actions import reconcile
from kvit.controls.texts import describe
from kvit.ledger.actions import rebuild_balances
from kvit.tenants.commands import tenants_named


class Command(BaseCommand):
    help = (
        "Check that balances, payments, registries, bill runs and bank statements add up; "
        "keep the To Do list."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="organisation code (default: every organisation)")
        parser.add_argument(
            "--rebuild-balances",
            action="store_true",
            help="recompute the cached balances from the ledger before checking",
        )
        parser.add_argument(
            "--language",
            default="en",
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the findings",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = tenants_named(options["tenant"])
        differing = 0
        with translation.override(options["language"]):
            for tenant in tenants:
                if options["rebuild_balances"]:
                    fixed = rebuild_balances(tenant)
                    self.stdout.write(f"{tenant.code}: {len(fixed):,} cached balances rebuilt")
                start = time.perf_counter()
                summary = reconcile(tenant)
                seconds = time.perf_counter() - start
                for finding in summary.found:
                    self.stdout.write(f"{tenant.code}: {finding.kind.label}: {finding.subject}")
                    for text in describe(finding.kind, finding.details):
                        self.stdout.write(f"    {text}")
                self.stdout.write(
                    f"{tenant.code}: {len(summary.found):,} differences, "
                    f"{summary.opened:,} To Do opened, {summary.closed:,} closed, "
                    f"in {seconds:,.1f} s"
                )
                differing += len(summary.found)
        if differing:
            raise CommandError(f"{differing:,} differences found", returncode=1)
