"""Reconciliation check speed (docs/controls.md) on a seeded database: each check timed.

    DATABASE_URL=postgres://… python -m kvit.benchmarks.reconcile [--tenant demo-uk]

Runs each check (`kvit.controls.checks.CHECKS`) of one organisation
(by default the one with most accounts) in a read-only transaction on PostgreSQL, and prints
for each the seconds and what it found, what the organisation has (entries, registry lines,
bill runs) and the peak memory. It opens no To Do. There is no target in the issues; the
checks run nightly, so what matters is that they stay within minutes for a million accounts.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

import django

from kvit.benchmarks.common import peak_mb, tenant_to_measure


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvit.config.settings")
    django.setup()
    from django.db import connection, transaction

    from kvit.billing.models import BillRun
    from kvit.controls import checks
    from kvit.db.bulk import plan_for_whole_tables
    from kvit.ledger.models import LedgerEntry
    from kvit.registries.models import RegistryLine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tenant", help="organisation code (default: the one with most accounts)")
    args = parser.parse_args(argv)
    tenant = tenant_to_measure(parser, args.tenant)
    code = tenant.code
    with transaction.atomic():
        if connection.vendor == "postgresql":
            connection.cursor().execute("SET TRANSACTION READ ONLY")
        plan_for_whole_tables(connection)  # as `checks.find` does
        entries = LedgerEntry.objects.filter(tenant=tenant).count()
        lines = RegistryLine.objects.filter(registry__tenant=tenant).count()
        runs = BillRun.objects.filter(tenant=tenant).count()
        print(f"{code}: {entries:,} ledger entries, {lines:,} registry lines, {runs:,} bill runs")
        total = 0.0
        for check in checks.CHECKS:
            name = check.__name__
            start = time.perf_counter()
            found = check(tenant)
            seconds = time.perf_counter() - start
            total += seconds
            print(f"{name:>10}: {seconds:8.1f} s, {len(found):,} found, peak {peak_mb():,.0f} MB")
        print(f"{'all':>10}: {total:8.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
