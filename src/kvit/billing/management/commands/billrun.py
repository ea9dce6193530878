"""`kvit billrun`: bill a period for every organisation, one of them, or one hierarchy node.

kvit billrun --period 2025-07
kvit billrun --period 2025-07 --tenant demo-uk --workers 2 --chunk-size 2000
kvit billrun --period 2025-07 --tenant demo-energo --node feeder-12
kvit billrun --period 2025-07 --broker redis://127.0.0.1:6379/0   # Celery workers bill the chunks

Started again after an interruption it resumes the unfinished run. Ends with a summary and
the accounts skipped, with the reasons; exit status 1 when a run was refused.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from kvit.billing.actions import DEFAULT_CHUNK, BillRunRefused, Summary, bill
from kvit.billing.workers import BROKER_SCHEMES, BrokerError
from kvit.core.periods import Period
from kvit.tenants.commands import tenants_named
from kvit.tenants.models import HierarchyNode, Tenant

SKIPPED_SHOWN = 10


def period_argument(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, not {value}")
    return value


def day_argument(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not '{text}'") from None


def broker_argument(text: str) -> str:
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in BROKER_SCHEMES or not parts.hostname:
        schemes = ", ".join(f"{scheme}://" for scheme in BROKER_SCHEMES)
        raise argparse.ArgumentTypeError(
            f"expected a broker URL starting with {schemes} and naming a host, not '{text}'"
        )
    return text


class Command(BaseCommand):
    help = "Bill a period: fetch, rate and post every account of the scope, chunk by chunk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", type=period_argument, required=True, help="YYYY-MM")
        parser.add_argument("--tenant", help="organisation code (default: every organisation)")
        parser.add_argument("--node", help="hierarchy node code inside --tenant")
        parser.add_argument("--workers", type=positive, default=1, help="worker processes")
        parser.add_argument("--chunk-size", type=positive, default=DEFAULT_CHUNK)
        parser.add_argument(
            "--broker",
            type=broker_argument,
            help="send the chunks to Celery workers over this Redis or RabbitMQ URL "
            "(workers: celery -A kvit.config.celery worker)",
        )
        parser.add_argument(
            "--today", type=day_argument, help="the date the run takes as today (YYYY-MM-DD)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = tenants_named(options["tenant"])
        if options["node"] and not options["tenant"]:
            raise CommandError("--node needs --tenant")
        if options["broker"] and options["workers"] > 1:
            raise CommandError(
                "--workers counts local processes: with --broker, start more workers"
            )
        refused = []
        for tenant in tenants:
            node = None
            if options["node"]:
                node = HierarchyNode.objects.filter(tenant=tenant, code=options["node"]).first()
                if node is None:
                    raise CommandError(f"no node '{options['node']}' in {tenant.code}")
            try:
                summary = self._bill(tenant, node, options)
            except BillRunRefused as error:
                refused.append(f"{tenant.code}: {error}")
                self.stderr.write(f"{tenant.code}: refused: {error}")
                continue
            except BrokerError as error:
                raise CommandError(f"{tenant.code}: {error}") from error
            except DatabaseError as error:
                raise CommandError(
                    f"{tenant.code}: the database failed during the bill run ({error}). The "
                    "chunks billed are kept; run the same command again to finish the run."
                ) from error
            self._report(tenant, summary)
        if refused:
            raise CommandError(f"{len(refused)} run(s) refused")

    def _bill(self, tenant: Tenant, node: HierarchyNode | None, options: dict[str, Any]) -> Summary:
        bar = tqdm(desc=f"{tenant.code} {options['period']}", unit="chunk", disable=None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            return bill(
                tenant,
                options["period"],
                node=node,
                chunk_size=options["chunk_size"],
                workers=options["workers"],
                today=options["today"],
                progress=progress,
                broker=options["broker"],
            )
        finally:
            bar.close()

    def _report(self, tenant: Tenant, summary: Summary) -> None:
        run = summary.run
        out = self.stdout.write
        resumed = " (resumed)" if summary.resumed else ""
        out(
            f"{tenant.code}: bill run #{run.pk} for {summary.run.period:%Y-%m}{resumed}: "
            f"{run.accounts:,} accounts, {summary.lines:,} lines, {summary.entries:,} entries "
            f"posted, {summary.amount:,.2f} in all"
        )
        if summary.warnings:
            out(f"  {summary.warnings:,} warnings")
        if summary.skipped_count:
            codes = summary.issue_codes.most_common(5)
            common = ", ".join(f"{code} × {count:,}" for code, count in codes)
            out(f"  {summary.skipped_count:,} accounts skipped: {common}")
            for skipped in summary.skipped[:SKIPPED_SHOWN]:
                out(f"    {skipped['account']}: {skipped['issues'][0]['message']['en']}")
