"""A tariff correction on a seeded database: every account using the tariff billed at once.

    DATABASE_URL=postgres://… python -m kvit.benchmarks.corrections --since 2025-06-01

Adds a new version of an organisation's tariff (`--service`, 1 % dearer) from `--since`
through `kvit.tariffs.actions.add_tariff_version` — the version in force ends there, and
every account connected to the service is rated again for the period of `--since` and every
later one already opened, chunk by chunk, in the correction's transaction — and prints the
wall time, the accounts, periods and entries, and the queries per chunk. Writes to the
database: use a copy.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import django


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvit.config.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kvit.billing.actions import DEFAULT_CHUNK
    from kvit.db.effective import overlapping
    from kvit.tariffs.actions import add_tariff_version
    from kvit.tariffs.models import Tariff
    from kvit.tenants.models import Tenant

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tenant", default="demo-uk")
    parser.add_argument("--service", default="cold_water")
    parser.add_argument("--since", type=date.fromisoformat, default=date(2025, 6, 1))
    args = parser.parse_args(argv)
    tenant = Tenant.objects.get(code=args.tenant)
    since: date = args.since
    current = overlapping(
        Tariff.objects.filter(tenant=tenant, service__code=args.service, group=""), since, None
    ).order_by("effective_from")[0]
    new = Tariff(
        tenant=tenant,
        service=current.service,
        value=(current.value * Decimal("1.01")).quantize(Decimal("0.000001")),
        effective_from=since,
    )
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        done = add_tariff_version(new)
        seconds = time.perf_counter() - started
    print(f"correction: {args.service} from {since}, {current.value} → {new.value}")
    print(f"periods:    {', '.join(str(p) for p in done.periods)}")
    print(f"accounts:   {done.changed:,} with new entries, {len(done.skipped):,} skipped")
    print(f"entries:    {done.entries:,}, {done.amount:+,} {tenant.currency}")
    print(f"wall time:  {seconds:,.1f} s in one transaction")
    print(
        f"queries:    {len(captured.captured_queries):,} "
        f"(a fixed number per chunk of up to {DEFAULT_CHUNK:,} accounts and period)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
