"""`kvit seed`: fill the database with deterministic, realistic demo data.

kvit seed                        # 2,000 accounts; refuses if the database has data
kvit seed --if-empty             # what `make demo` runs: safe to repeat
kvit seed --reset --accounts 100000 --seed 7 --reference-date 2025-07-01
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from tqdm import tqdm

from kvit.demo import reset
from kvit.demo.bulk import Writer, first_ids, prefetched
from kvit.demo.check import sample_errors
from kvit.demo.generator import DEFAULT_CHUNK, DEFAULT_REFERENCE, DEFAULT_SEED, Demo, Plan
from kvit.demo.rows import Ids
from kvit.demo.users import (
    ADMIN_PASSWORD,
    CONSUMER_PASSWORD,
    STAFF_PASSWORD,
    Hashes,
    Login,
    login_lines,
)

MIN_ACCOUNTS, MAX_ACCOUNTS, DEFAULT_ACCOUNTS = 500, 1_000_000, 2_000
EARLIEST_REFERENCE, LATEST_REFERENCE = date(2024, 1, 1), date(2099, 12, 1)
DETACH_FROM = 50_000  # accounts from which indexes are rebuilt after the load (PostgreSQL)
CONSUMERS_SHOWN = 2  # per tenant; the rest follow the same pattern


def _whole(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, not '{text}'") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{what} must be from {low:,} to {high:,}, not {value:,}")
    return value


def account_count(text: str) -> int:
    return _whole(text, "the number of accounts", MIN_ACCOUNTS, MAX_ACCOUNTS)


def chunk_size(text: str) -> int:
    return _whole(text, "the chunk size", 100, 100_000)


def seed_number(text: str) -> int:
    return _whole(text, "the seed", 0, 2**31 - 1)


def reference_date(text: str) -> date:
    try:
        value = date.fromisoformat(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the reference date must be a date as YYYY-MM-DD, not '{text}'"
        ) from None
    if not EARLIEST_REFERENCE <= value <= LATEST_REFERENCE:
        raise argparse.ArgumentTypeError(
            f"the reference date must be from {EARLIEST_REFERENCE} to {LATEST_REFERENCE}"
        )
    return value


class Command(BaseCommand):
    help = (
        "Fill the database with demo data: a management company with apartment buildings and "
        "an energy sales company with a grid tree, households and legal consumers, 12 months "
        "of readings and demo logins. Deterministic: the same options give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts", type=account_count, default=DEFAULT_ACCOUNTS,
            help=f"personal accounts, {MIN_ACCOUNTS:,}–{MAX_ACCOUNTS:,}, split 60/40 between "
            f"the two organisations (default {DEFAULT_ACCOUNTS:,})",
        )  # fmt: skip
        parser.add_argument(
            "--seed", type=seed_number, default=DEFAULT_SEED,
            help=f"random seed (default {DEFAULT_SEED})",
        )  # fmt: skip
        parser.add_argument(
            "--reference-date", type=reference_date, default=DEFAULT_REFERENCE,
            help="readings cover the 12 months before this date's month "
            f"(default {DEFAULT_REFERENCE})",
        )  # fmt: skip
        parser.add_argument(
            "--chunk", type=chunk_size, default=DEFAULT_CHUNK,
            help=f"accounts generated and written at a time (default {DEFAULT_CHUNK:,})",
        )  # fmt: skip
        when = parser.add_mutually_exclusive_group()
        when.add_argument(
            "--if-empty", action="store_true",
            help="do nothing (successfully) if the database already has organisations",
        )  # fmt: skip
        when.add_argument(
            "--reset", action="store_true",
            help="delete the demo organisations (and their users) first, then seed",
        )  # fmt: skip
        parser.add_argument(
            "--check", action="store_true",
            help="afterwards, validate a random sample of rows with full_clean()",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:  # call_command() passes options without argparse's conversion
            plan = Plan(
                accounts=account_count(options["accounts"]),
                seed=seed_number(options["seed"]),
                reference=reference_date(options["reference_date"]),
                chunk=chunk_size(options["chunk"]),
            )
        except argparse.ArgumentTypeError as error:
            raise CommandError(str(error)) from None
        verbosity = self.verbosity = int(options["verbosity"])
        started = time.monotonic()
        with transaction.atomic():
            writer = Writer(connection, detach=plan.accounts >= DETACH_FROM)
            writer.prepare()
            if not self._may_seed(reset_first=options["reset"], if_empty=options["if_empty"]):
                return
            first = first_ids(connection)
            demo = Demo(plan, Ids(first), self._hashes(plan.seed))
            self._write(demo, writer, plan, verbosity)
            writer.finish(first)
        if verbosity:
            self._report(demo, writer, time.monotonic() - started)
        if options["check"]:
            self._check()

    def _may_seed(self, *, reset_first: bool, if_empty: bool) -> bool:
        if reset_first:
            if reset.demo_tenants():
                deleted = reset.delete_demo()
                self.stdout.write(f"Deleted the demo data ({sum(deleted.values()):,} rows).")
        elif reset.has_data():
            if if_empty:
                self.stdout.write("The database already has data: nothing seeded.")
                self._print_logins(reset.stored_logins())
                return False
            if reset.demo_tenants():
                raise CommandError(
                    "The database already has the demo data. Use --reset to delete it and seed "
                    "again, or --if-empty to leave it as it is."
                )
            raise CommandError(
                "The database already has organisations. kvit seed fills an empty database; "
                "with --reset it seeds beside them (deleting only earlier demo data)."
            )
        clashes = reset.clashing_usernames()
        if clashes:
            raise CommandError(
                f"Users {', '.join(clashes)} exist but are not demo users; rename them first."
            )
        return True

    def _hashes(self, seed: int) -> Hashes:
        """Hashed once each, with a fixed salt so the same seed gives the same rows."""
        salt = f"kvitdemo{seed}"
        return Hashes(
            make_password(ADMIN_PASSWORD, salt),
            make_password(STAFF_PASSWORD, salt),
            make_password(CONSUMER_PASSWORD, salt),
        )

    def _write(self, demo: Demo, writer: Writer, plan: Plan, verbosity: int) -> None:
        progress = tqdm(
            total=plan.accounts, unit=" accounts", file=sys.stderr, disable=verbosity == 0,
            desc="Seeding", dynamic_ncols=True,
        )  # fmt: skip
        with progress:
            for batch in prefetched(demo.batches()):
                writer.write(batch)
                progress.update(batch.accounts)

    def _report(self, demo: Demo, writer: Writer, seconds: float) -> None:
        total = sum(writer.rows.values())
        self.stdout.write(f"Seeded {total:,} rows in {seconds:,.1f} s:")
        for table, count in writer.rows.items():
            if count:
                spent = f" {writer.seconds[table]:8.1f} s" if self.verbosity > 1 else ""
                self.stdout.write(f"  {table.name:32} {count:>12,}{spent}")
        if writer.index_seconds:
            self.stdout.write(f"  indexes re-created in {writer.index_seconds:,.1f} s")
        if writer.reference_seconds:
            self.stdout.write(
                f"  foreign keys checked in bulk in {writer.reference_seconds:,.1f} s"
            )
        self._print_logins(demo.logins())

    def _print_logins(self, logins: list[Login]) -> None:
        if not logins:
            return
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS("Demo logins (username / password: what they may do):")
        )
        for line in login_lines(logins, consumers_shown=CONSUMERS_SHOWN):
            self.stdout.write(f"  {line}")

    def _check(self) -> None:
        errors = sample_errors()
        if errors:
            raise CommandError("The sample check failed:\n" + "\n".join(errors[:50]))
        self.stdout.write(self.style.SUCCESS("Sample check: the sampled rows pass full_clean()."))
