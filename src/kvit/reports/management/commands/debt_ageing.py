"""`kvit debt_ageing`: the debt ageing (spec 5.4's companion report) to CSV or XLSX.

kvit debt_ageing --tenant demo-uk --as-of 2025-06-30 --output ageing.xlsx
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kvit.reports.ageing import debt_ageing
from kvit.reports.commands import (
    add_common_arguments,
    day_argument,
    output_format,
    report_options,
    write_report,
)
from kvit.reports.exports import ageing_table


class Command(BaseCommand):
    help = "Write the debt ageing of an organisation as of a date to CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            type=day_argument,
            required=True,
            help="YYYY-MM-DD, entries of that day included",
        )
        add_common_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant, node, provider = report_options(options)
        path = options["output"]
        fmt = output_format(path, options["format"])
        as_of = options["as_of"]

        def build() -> Any:
            return ageing_table(debt_ageing(tenant, as_of, node=node, provider=provider))

        rows, seconds = write_report(build, path, fmt, options["language"])
        self.stdout.write(
            f"{tenant.code}: debt ageing as of {as_of}: {rows:,} rows written to {path} "
            f"({fmt}) in {seconds:,.1f} s"
        )
