"""Bill-run throughput on a seeded database: accounts per second, end to end.

    DATABASE_URL=postgres://… python -m kvit.benchmarks.billrun --period 2025-06 --workers 2

Opens the period where needed, bills every organisation with `kvit.billing.actions.bill`
(fetch, rate and post, chunk by chunk) and prints accounts per second, the time the chunks
spent fetching, computing and posting (summed over workers, so they can exceed the wall
time), and the peak memory of this process and of its workers. Run it on a fresh copy of
the seeded database: a second run of the same period posts nothing and measures only the
diff.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Sequence

import django

TARGET = 3_300  # accounts per second: 1,000,000 accounts in about five minutes


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvit.config.settings")
    django.setup()
    from kvit.billing.actions import bill
    from kvit.billing.models import BillRunChunk
    from kvit.core.periods import Period
    from kvit.ledger.actions import open_period
    from kvit.ledger.models import BillingPeriod
    from kvit.tenants.models import Tenant

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--period", type=Period.parse, default=Period(2025, 6))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk-size", type=int, default=2_000)
    args = parser.parse_args(argv)
    period: Period = args.period
    today = period.end
    started = time.perf_counter()
    accounts = entries = 0
    runs = []
    for tenant in Tenant.objects.order_by("code"):
        if not BillingPeriod.objects.filter(tenant=tenant, period=period.first_day).exists():
            open_period(tenant, period.first_day)
        summary = bill(
            tenant, period, chunk_size=args.chunk_size, workers=args.workers, today=today
        )
        accounts += summary.run.accounts
        entries += summary.entries
        runs.append(summary.run.pk)
    wall = time.perf_counter() - started
    seconds = {"fetch": 0.0, "compute": 0.0, "persist": 0.0}
    for spent in BillRunChunk.objects.filter(run_id__in=runs).values_list("seconds", flat=True):
        for step, value in spent.items():
            seconds[step] += value
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = accounts / wall if wall else 0.0
    print(f"accounts:        {accounts:,}")
    print(f"entries posted:  {entries:,}")
    print(f"wall time:       {wall:,.1f} s ({args.workers} workers)")
    met = "met" if rate >= TARGET else "NOT met"
    print(f"accounts/s:      {rate:,.0f} (target ≥ {TARGET:,}: {met})")
    print(
        "chunk time:      " + ", ".join(f"{step} {value:,.1f} s" for step, value in seconds.items())
    )
    print(f"peak memory:     {own:,.0f} MB (this process), {children:,.0f} MB (largest worker)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
