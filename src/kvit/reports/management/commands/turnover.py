"""`kvit turnover`: the turnover statement (spec 5.4) of an organisation to CSV or XLSX.

kvit turnover --tenant demo-uk --from 2025-06-01 --to 2025-06-30 --output osv.xlsx
kvit turnover --tenant demo-uk --from 2025-01-01 --to 2025-06-30 --group-by building \\
    --format csv --output osv.csv
kvit turnover --tenant demo-energo --from 2025-06-01 --to 2025-06-30 --node feeder-12 \\
    --provider 7701234567/770101001 --language en --output osv-feeder-12.xlsx

The rows stream from the database to the file: memory stays flat however many accounts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kvit.reports.commands import (
    add_common_arguments,
    day_argument,
    output_format,
    report_options,
    write_report,
)
from kvit.reports.exports import turnover_table
from kvit.reports.turnover import GROUP_BY, METHODS, turnover


class Command(BaseCommand):
    help = "Write the turnover statement of an organisation for a date range to CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="date_from", type=day_argument, required=True, help="YYYY-MM-DD"
        )
        parser.add_argument(
            "--to", dest="date_to", type=day_argument, required=True, help="YYYY-MM-DD, included"
        )
        parser.add_argument(
            "--group-by",
            choices=GROUP_BY,
            default="account",
            help="subtotals per … (default: none)",
        )
        parser.add_argument(
            "--method",
            choices=METHODS,
            default="auto",
            help="forward: sum the entries only; backward: the cached balances minus the "
            "entries since --from; auto: whichever reads less (default)",
        )
        add_common_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        date_from, date_to = options["date_from"], options["date_to"]
        if date_from > date_to:
            raise CommandError(f"--from {date_from} is after --to {date_to}")
        tenant, node, provider = report_options(options)
        path = options["output"]
        fmt = output_format(path, options["format"])

        def build() -> Any:
            statement = turnover(
                tenant,
                date_from,
                date_to,
                group_by=options["group_by"],
                node=node,
                provider=provider,
                method=options["method"],
            )
            return turnover_table(statement)

        rows, seconds = write_report(build, path, fmt, options["language"])
        self.stdout.write(
            f"{tenant.code}: turnover statement {date_from}..{date_to}: {rows:,} rows "
            f"written to {path} ({fmt}) in {seconds:,.1f} s"
        )
