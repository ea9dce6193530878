"""`kvit payments import`: import a bank registry file (spec 6.2); `kvit payments
statement`: keep a bank statement and check the registries against it.

kvit payments import reestr_0725.txt --format sberbank
kvit payments import payments.csv --format csv --tenant demo-uk --report lines.csv
kvit payments statement kl_to_1c.txt --tenant demo-uk

Prints what became of the lines — counts and sums per outcome, the readings, the first
lines not posted with their numbers and reasons — and, with --report, writes every line's
outcome to a CSV file (Excel with Russian settings: UTF-8 with a BOM, ";", decimal comma).
Exit status 1 when the file is refused or rejected; importing a file again posts nothing.
A statement prints its credits, the registries it matched or differs from, and the
documents it could not read; exit status 1 when it is refused or a registry differs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from tqdm import tqdm

from kvit.registries.actions import import_registry
from kvit.registries.models import Registry
from kvit.registries.queries import line_report, problem_lines
from kvit.registries.reconciliation import Check, import_statement
from kvit.reports.exports import Table, TableRow, write_csv
from kvit.tenants.commands import tenant_of
from kvit.tenants.models import Tenant

SHOWN = 10


class Command(BaseCommand):
    help = "Payments: import a bank registry file, or a bank statement to check them against."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        importing = commands.add_parser(
            "import",
            help="import a bank registry file",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        importing.add_argument("file", type=Path, help="the registry file")
        importing.add_argument(
            "--format", required=True, help="sberbank, csv or an organisation's format code"
        )
        importing.add_argument(
            "--tenant", help="organisation code (needed when there is more than one)"
        )
        importing.add_argument(
            "--report", type=Path, help="write every line's outcome to this CSV file"
        )
        importing.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default="en",
            help="language of the report (default en)",
        )

        checking = commands.add_parser(
            "statement", help="keep a bank statement (1C exchange format), check the registries"
        )
        checking.add_argument("file", type=Path, help="the statement file")
        checking.add_argument(
            "--tenant", help="organisation code (needed when there is more than one)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        tenant = _tenant(options["tenant"])
        if options["command"] == "statement":
            self._statement(tenant, path, content)
            return
        bar = tqdm(desc=path.name, unit="line", disable=None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        with translation.override(options["language"]):
            try:
                imported = import_registry(
                    tenant, content, path.name, options["format"], progress=progress
                )
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            finally:
                bar.close()
            registry = imported.registry
            if imported.already_imported:
                self.stdout.write(
                    f"{tenant.code}: {path.name} was already imported on "
                    f"{registry.imported_at:%Y-%m-%d %H:%M} (registry #{registry.pk}): "
                    "nothing was posted again."
                )
                return
            if registry.status == Registry.Status.REJECTED:
                for problem in registry.problem_texts():
                    self.stderr.write(f"  {problem}")
                raise CommandError(
                    f"{path.name} is rejected (registry #{registry.pk}): nothing of it is posted"
                )
            self._report(tenant, registry)
            if options["report"]:
                with options["report"].open("w", encoding="utf-8-sig", newline="") as stream:
                    rows = write_csv(_table(registry), stream)
                self.stdout.write(f"  {rows:,} lines written to {options['report']}")

    def _statement(self, tenant: Tenant, path: Path, content: bytes) -> None:
        try:
            imported = import_statement(tenant, content, path.name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        statement = imported.statement
        if imported.already_imported:
            self.stdout.write(
                f"{tenant.code}: {path.name} was already imported on "
                f"{statement.imported_at:%Y-%m-%d %H:%M} (statement #{statement.pk})"
            )
            return
        self.stdout.write(
            f"{tenant.code}: statement #{statement.pk} {statement.file_name} imported: "
            f"{statement.credits:,} credits, {statement.amount:,.2f}; "
            f"{statement.debits:,} debits skipped"
        )
        for problem in statement.problem_texts():
            self.stdout.write(f"  not read: {problem}")
        for check in (Check.MATCHED, Check.DIFFERS):
            for registry, match in imported.checked.get(check, ()):
                self.stdout.write(
                    f"  registry #{registry.pk} {registry.file_name}, payment order "
                    f"{registry.order_number} of {registry.order_date}: {match.text}"
                )
        differing = len(imported.checked.get(Check.DIFFERS, ()))
        if differing:
            raise CommandError(f"{differing} registries differ from the statement")

    def _report(self, tenant: Tenant, registry: Registry) -> None:
        out = self.stdout.write
        order = ""
        if registry.order_number or registry.order_date:
            order = f", payment order {registry.order_number} of {registry.order_date or ''}"
        out(
            f"{tenant.code}: registry #{registry.pk} {registry.file_name} imported: "
            f"{registry.lines:,} lines, {registry.amount:,.2f} in all{order}"
        )
        for label, count, amount in (
            ("posted", registry.posted, registry.posted_amount),
            ("in suspense", registry.suspense, registry.suspense_amount),
            ("duplicates", registry.duplicates, registry.duplicate_amount),
            ("conflicts", registry.conflicts, registry.conflict_amount),
            ("invalid", registry.invalid, registry.invalid_amount),
        ):
            out(f"  {label:<12} {count:>10,} {amount:>18,.2f}")
        if registry.readings_recorded or registry.readings_rejected:
            out(
                f"  readings: {registry.readings_recorded:,} recorded, "
                f"{registry.readings_rejected:,} not recorded"
            )
        shown = list(problem_lines(registry)[:SHOWN])
        if shown:
            out("  lines not posted:")
        for line in shown:
            reasons = "; ".join(line.reasons())
            out(f"    line {line.number}: {line.get_outcome_display()}: {reasons}")


def _tenant(code: str | None) -> Tenant:
    if code:
        return tenant_of(code)
    tenants = list(Tenant.objects.order_by("code")[:2])
    if len(tenants) != 1:
        raise CommandError("give the organisation with --tenant CODE")
    return tenants[0]


def _table(registry: Registry) -> Table:
    return Table(
        sheet="registry",
        title=registry.file_name,
        heading=(),
        headers=(
            _("line"),
            _("outcome"),
            _("operation number"),
            _("account number"),
            _("amount"),
            pgettext("registry line", "reason"),
            _("line as received"),
        ),
        widths=(),
        rows=_rows(registry),
    )


def _rows(registry: Registry) -> Iterator[TableRow]:
    for line in line_report(registry):
        payment = line.payment
        yield TableRow(
            (
                str(line.number),
                line.get_outcome_display(),
                payment.external_id if payment else "",
                payment.account_number if payment else "",
                payment.amount if payment else None,
                "; ".join(line.reasons()),
                line.text,
            )
        )
