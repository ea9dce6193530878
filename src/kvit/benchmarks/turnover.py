"""Turnover statement speed on a seeded, billed database: the query, then each export.

    DATABASE_URL=postgres://… python -m kvit.benchmarks.turnover --tenant demo-uk

Builds the statement (`kvit.reports.turnover`) for an organisation and a date range (by
default the month of its latest posting), reads every line, then writes it to CSV and to
XLSX, and prints the seconds of each step, the rows, the peak memory of the process after
each step, and a linear extrapolation to 1,000,000 accounts. Read-only: it runs in a
read-only transaction (PostgreSQL), and the files go to a temporary folder.

The target is the issue's: the statement of 1,000,000 accounts in at most 30 seconds. The
query's cost grows with the entries it reads (see the module's "How it is summed"), so
the extrapolation holds for a ledger of the same shape (entries per account and months of
history) as the one measured.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import django

from kvit.benchmarks.common import peak_mb, tenant_to_measure

TARGET_SECONDS = 30.0
TARGET_ACCOUNTS = 1_000_000


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvit.config.settings")
    django.setup()
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import translation

    from kvit.core.periods import Period
    from kvit.ledger.models import LedgerEntry
    from kvit.reports.exports import turnover_table, write_csv, write_xlsx
    from kvit.reports.turnover import GROUP_BY, METHODS, Row, TurnoverStatement, turnover

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tenant", help="organisation code (default: the one with most accounts)")
    parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
    parser.add_argument("--to", dest="date_to", type=date.fromisoformat)
    parser.add_argument("--group-by", choices=GROUP_BY, default="account")
    parser.add_argument("--method", choices=METHODS, default="auto")
    parser.add_argument("--language", default="ru")
    parser.add_argument("--skip-xlsx", action="store_true", help="only the query and CSV")
    args = parser.parse_args(argv)

    tenant = tenant_to_measure(parser, args.tenant)
    last = LedgerEntry.objects.filter(tenant=tenant).aggregate(last=Max("posted_on"))["last"]
    month = Period.of(last or date.today())
    date_from = args.date_from or month.first_day
    date_to = args.date_to or month.last_day

    def statement() -> TurnoverStatement:
        return turnover(tenant, date_from, date_to, group_by=args.group_by, method=args.method)

    accounts = rows = 0
    seconds: dict[str, float] = {}
    sizes: dict[str, int] = {}
    memory: dict[str, float] = {}
    with (
        translation.override(args.language),
        tempfile.TemporaryDirectory() as folder,
        transaction.atomic(),  # one snapshot; PostgreSQL streams through a server-side cursor
    ):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        started = time.perf_counter()
        built = statement()
        for line in built:
            rows += 1
            accounts += isinstance(line, Row)
        seconds["query"] = time.perf_counter() - started
        memory["query"] = peak_mb()

        started = time.perf_counter()
        csv_path = Path(folder) / "statement.csv"
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as stream:
            write_csv(turnover_table(statement()), stream)
        seconds["csv"] = time.perf_counter() - started
        sizes["csv"] = csv_path.stat().st_size
        memory["csv"] = peak_mb()

        if not args.skip_xlsx:
            started = time.perf_counter()
            xlsx_path = Path(folder) / "statement.xlsx"
            write_xlsx(turnover_table(statement()), xlsx_path)
            seconds["xlsx"] = time.perf_counter() - started
            sizes["xlsx"] = xlsx_path.stat().st_size
            memory["xlsx"] = peak_mb()

    entries = LedgerEntry.objects.filter(tenant=tenant).count()
    print(f"database:        {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"organisation:    {tenant.code} ({entries:,} entries in its ledger)")
    print(f"range:           {date_from}..{date_to}, group by {args.group_by}, {built.method}")
    print(f"rows:            {rows:,} ({accounts:,} account rows, the rest subtotals and total)")
    for step, spent in seconds.items():
        what = "every line read" if step == "query" else f"the query again + {step} export"
        size = f", {sizes[step] / 1e6:,.1f} MB" if step in sizes else ""
        print(f"{step + ':':<16} {spent:,.2f} s ({what}{size}); peak memory {memory[step]:,.0f} MB")
    if not accounts:
        return 0
    for step, spent in seconds.items():
        projected = spent * TARGET_ACCOUNTS / accounts
        verdict = ""
        if step == "query":
            met = "met" if projected <= TARGET_SECONDS else "NOT met"
            verdict = f" (target ≤ {TARGET_SECONDS:.0f} s: {met})"
        print(f"at 1M accounts:  {step} ≈ {projected:,.0f} s{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
