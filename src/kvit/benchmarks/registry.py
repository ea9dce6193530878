"""Bank registry import throughput on a seeded database: lines per second, end to end.

    DATABASE_URL=postgres://… python -m kvit.benchmarks.registry --lines 1000000

Writes a Sberbank-style registry (spec 6.2, windows-1251, with its footer) of `--lines`
payments to the open accounts of `--tenant`, in turn, paid in `--period` (opened if need
be), and imports it three times with `kvit.registries.actions.import_registry` — parsing,
the footer checks, idempotency, allocation, posting and the per-line report, in one
transaction: the first import posts every line; the same file again is "already imported";
the same lines in another file (another payment order) are all duplicates and post nothing.
Prints the time and lines per second of each. Writes to the database: use a copy.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import django

TARGET_FIRST = 60.0  # seconds for 1,000,000 lines
TARGET_AGAIN = 30.0
CENT = Decimal("0.01")


def lines(
    numbers: Sequence[str], count: int, stamp: str, paid_on: str, period: str
) -> Iterator[str]:
    """`count` payment lines to `numbers` in turn: 100.00–108.99, a 1 % fee."""
    for n in range(count):
        amount = Decimal(10_000 + n % 900) * CENT
        fee = (amount / 100).quantize(CENT)
        yield (
            f"{paid_on};{n // 3600 % 24:02d}-{n // 60 % 60:02d}-{n % 60:02d};9038;1234;77;"
            f"{stamp}-{n:07d};{numbers[n % len(numbers)]};Иванов Иван Иванович;"
            f"г. Москва, ул. Ленина, д. {n % 200 + 1};{period};{amount};{amount - fee};{fee}"
        )


def write_registry(path: Path, rows: Iterator[str], order: str, order_date: str) -> int:
    count, total, fee = 0, Decimal("0.00"), Decimal("0.00")
    with path.open("w", encoding="windows-1251", newline="\r\n") as stream:
        for row in rows:
            stream.write(row + "\n")
            *_rest, amount, _transferred, line_fee = row.rsplit(";", 3)
            total += Decimal(amount)
            fee += Decimal(line_fee)
            count += 1
        stream.write(f"={count};{total};{total - fee};{fee};{order};{order_date}\n")
    return count


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvit.config.settings")
    django.setup()
    from django.conf import settings
    from tqdm import tqdm

    from kvit.accounts.models import Account
    from kvit.core.periods import Period
    from kvit.ledger.actions import open_period
    from kvit.ledger.models import BillingPeriod
    from kvit.registries.actions import import_registry
    from kvit.tenants.models import Tenant

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--tenant", default="demo-uk")
    parser.add_argument("--period", type=Period.parse, default=Period(2025, 6))
    parser.add_argument(
        "--output", type=Path, help="where to write the file (default: var/registry-LINES.txt)"
    )
    args = parser.parse_args(argv)
    period: Period = args.period
    tenant = Tenant.objects.get(code=args.tenant)
    if not BillingPeriod.objects.filter(tenant=tenant, period=period.first_day).exists():
        open_period(tenant, period.first_day)
    numbers = list(
        Account.objects.filter(tenant=tenant, closed_on__isnull=True)
        .order_by("pk")
        .values_list("number", flat=True)[: args.lines]
    )
    paid_on = period.first_day.replace(day=10)
    stamp = f"B{int(time.time())}"
    path = (
        args.output or Path(settings.BASE_DIR).parent.parent / "var" / f"registry-{args.lines}.txt"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = lines(numbers, args.lines, stamp, f"{paid_on:%d-%m-%Y}", f"{period.first_day:%m%y}")
    count = write_registry(path, rows, "1", f"{paid_on:%d-%m-%Y}")
    print(
        f"file:     {path} ({path.stat().st_size / 1024**2:,.1f} MB, {count:,} lines to "
        f"{len(numbers):,} accounts of {tenant.code}) written in "
        f"{time.perf_counter() - started:,.1f} s"
    )

    def timed(label: str, content: bytes) -> float:
        bar = tqdm(desc=label, unit="line", disable=None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        started = time.perf_counter()
        imported = import_registry(tenant, content, path.name, "sberbank", progress=progress)
        seconds = time.perf_counter() - started
        bar.close()
        registry = imported.registry
        outcome = (
            "already imported"
            if imported.already_imported
            else f"{registry.status}: {registry.posted:,} posted, {registry.duplicates:,} "
            f"duplicates, {registry.suspense:,} suspense, {registry.conflicts:,} conflicts, "
            f"{registry.invalid:,} invalid"
        )
        print(f"{label:<9} {seconds:,.1f} s, {count / seconds:,.0f} lines/s ({outcome})")
        return seconds

    content = path.read_bytes()
    first = timed("import:", content)
    timed("again:", content)
    footer_at = content.rindex(b"\n=") + 1  # the same lines, another payment order
    overlap = timed("overlap:", content[:footer_at] + content[footer_at:].replace(b";1;", b";2;"))
    scale = count / 1_000_000
    print(
        f"targets:  1,000,000 lines ≤ {TARGET_FIRST:.0f} s (here {first / scale:,.0f} s per "
        f"million), again ≤ {TARGET_AGAIN:.0f} s (here {overlap / scale:,.0f} s per million)"
    )
    print(f"memory:   peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
