"""The reports as tables, written to CSV or XLSX row by row as they stream from the database
(memory stays flat for a million accounts).

CSV, for Excel with Russian regional settings (what an accountant in Russia opens it with):
UTF-8 with a byte-order mark (without it Excel reads Cyrillic as cp1251 mojibake), `;`
between cells (Excel's list separator where the decimal separator is a comma), amounts with
a decimal comma and no thousands separator ("-1234,56"), CRLF line ends; a text that starts
like a formula ("=", "+", "-", "@") gets a leading apostrophe, so a payer's name cannot run
as a formula. The first line is
the column headings; the data follow, subtotal and total rows included, so the file loads
into a spreadsheet or another system as it is. [DECISION] The same dialect whatever the
language of the headings: the numbers must open as numbers in the Excel the users have.

XLSX (xlsxwriter in constant-memory mode: each row is written out as it comes): a title,
the organisation, the range and the scope above the headings; amounts as numbers with two
decimals; subtotals and the total in bold; the headings frozen and filterable. A sheet
holds at most 1,048,576 rows: the rows go on in a new sheet with the headings repeated.

Headings are translated (gettext): build the table inside `translation.override(language)`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import xlsxwriter
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kvit.reports.ageing import BUCKETS, AgeingRow, AgeingTotal, DebtAgeing
from kvit.reports.turnover import FIGURES, Group, Row, Subtotal, Total, TurnoverStatement

Cell = str | Decimal | None

ROW, SUBTOTAL, TOTAL = 0, 1, 2
XLSX_MAX_ROWS = 1_048_576


@dataclass(frozen=True, slots=True)
class TableRow:
    cells: tuple[Cell, ...]
    level: int = ROW  # ROW, SUBTOTAL or TOTAL


@dataclass(frozen=True, slots=True)
class Table:
    """A report as a table: `heading` lines above the column `headers` (XLSX only), and the
    rows, read once. `widths` are the columns' widths in characters (XLSX)."""

    sheet: str
    title: str
    heading: tuple[str, ...]
    headers: tuple[str, ...]
    widths: tuple[int, ...]
    rows: Iterable[TableRow]


def _day(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _scope_heading(node: Any, provider: Any) -> tuple[str, ...]:
    lines = []
    if node is not None:
        lines.append(f"{capfirst(_('hierarchy node'))}: {node.name}")
    if provider is not None:
        lines.append(f"{capfirst(_('provider'))}: {provider.name}")
    return tuple(lines)


ACCOUNT_WIDTHS = (14, 45, 32)
MONEY_WIDTH = 15


# --- the turnover statement -------------------------------------------------------------------


def turnover_headers() -> tuple[str, ...]:
    """The money columns' headings, in `Figures` order (spec 5.4)."""
    return (
        _("Opening balance, debit"),
        _("Opening balance, credit"),
        _("Charged"),
        _("Recalculations"),
        _("Benefits"),
        _("Penalties charged"),
        _("Paid (principal)"),
        _("Paid (penalties)"),
        _("Write-offs / transfers"),
        _("Closing balance, debit"),
        _("Closing balance, credit"),
    )


def _group_heading(group_by: str) -> str:
    names = {
        "building": _("building"),
        "provider": _("provider"),
        "service": _("service"),
        "node": _("hierarchy node"),
    }
    return capfirst(names[group_by])


def _group_label(group: Group, group_by: str) -> str:
    if group.key is not None:
        return group.label
    missing = {
        "building": _("no building"),
        "service": _("no service"),
        "node": _("no hierarchy node"),
    }
    return missing.get(group_by, "")


def turnover_table(statement: TurnoverStatement) -> Table:
    grouped = statement.group_by != "account"
    headers = (
        *((_group_heading(statement.group_by),) if grouped else ()),
        capfirst(_("personal account")),
        capfirst(_("address")),
        capfirst(_("payer")),
        *turnover_headers(),
    )
    widths = (*((32,) if grouped else ()), *ACCOUNT_WIDTHS, *[MONEY_WIDTH] * len(FIGURES))
    heading = (
        statement.tenant.name,
        _("Period: %(first)s – %(last)s")
        % {"first": _day(statement.date_from), "last": _day(statement.date_to)},
        *_scope_heading(statement.node, statement.provider),
    )
    return Table(
        sheet=_("Turnover"),
        title=_("Turnover statement"),
        heading=heading,
        headers=headers,
        widths=widths,
        rows=_turnover_rows(statement, grouped),
    )


def _turnover_rows(statement: TurnoverStatement, grouped: bool) -> Iterator[TableRow]:
    group_by = statement.group_by
    subtotal, total = _("Subtotal"), _("Total")
    for line in statement:
        if isinstance(line, Row):
            group = (_group_label(line.group, group_by),) if line.group is not None else ()
            cells: tuple[Cell, ...] = (*group, line.account, line.address, line.payer)
            yield TableRow((*cells, *line.figures.values()))
        elif isinstance(line, Subtotal):
            label = _group_label(line.group, group_by)
            yield TableRow((label, subtotal, None, None, *line.figures.values()), SUBTOTAL)
        else:
            assert isinstance(line, Total)
            lead: tuple[Cell, ...] = (total, None, None, None) if grouped else (total, None, None)
            yield TableRow((*lead, *line.figures.values()), TOTAL)


# --- the debt ageing --------------------------------------------------------------------------


def ageing_headers() -> tuple[str, ...]:
    ranges = [_("Debt, %(range)s months") % {"range": name} for name in BUCKETS[:-1]]
    return (*ranges, _("Debt, over 36 months"), _("Debt"), _("Advance"), _("Balance"))


def ageing_table(report: DebtAgeing) -> Table:
    headers = (
        capfirst(_("personal account")),
        capfirst(_("address")),
        capfirst(_("payer")),
        *ageing_headers(),
    )
    heading = (
        report.tenant.name,
        _("As of %(date)s") % {"date": _day(report.as_of)},
        *_scope_heading(report.node, report.provider),
    )
    return Table(
        sheet=_("Ageing"),
        title=_("Debt ageing"),
        heading=heading,
        headers=headers,
        widths=(*ACCOUNT_WIDTHS, *[MONEY_WIDTH] * (len(BUCKETS) + 3)),
        rows=_ageing_rows(report),
    )


def _ageing_rows(report: DebtAgeing) -> Iterator[TableRow]:
    for line in report:
        money = (*line.buckets, line.debt, line.advance, line.balance)
        if isinstance(line, AgeingRow):
            yield TableRow((line.account, line.address, line.payer, *money))
        else:
            assert isinstance(line, AgeingTotal)
            yield TableRow((_("Total"), None, None, *money), TOTAL)


# --- writers ----------------------------------------------------------------------------------


def csv_amount(value: Decimal) -> str:
    """An amount as Excel with Russian settings reads a number: "-1234,56"."""
    return f"{value:.2f}".replace(".", ",")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str | None) -> str:
    """A text cell that Excel will not take for a formula (CSV injection, OWASP): one that
    starts like a formula gets a leading apostrophe. (XLSX cells are typed: no need.)"""
    if not value:
        return ""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def write_csv(table: Table, stream: TextIO) -> int:
    """Write `table` to `stream` (opened with encoding "utf-8-sig" and newline=""); the
    number of rows written after the headings."""
    writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headers)
    count = 0
    for row in table.rows:
        writer.writerow(
            [
                csv_amount(cell) if isinstance(cell, Decimal) else csv_text(cell)
                for cell in row.cells
            ]
        )
        count += 1
    return count


def write_xlsx(table: Table, path: Path, max_rows: int = XLSX_MAX_ROWS) -> int:
    """Write `table` to a new workbook at `path`; the number of rows written after the
    headings. `max_rows` is a sheet's limit (smaller in tests)."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    bold = {"bold": True}
    money = "#,##0.00"
    formats = {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "header": workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "border": 1, "bg_color": "#EEEEEE"}
        ),
        ROW: (workbook.add_format(), workbook.add_format({"num_format": money})),
        SUBTOTAL: (workbook.add_format(bold), workbook.add_format({**bold, "num_format": money})),
        TOTAL: (
            workbook.add_format({**bold, "top": 1}),
            workbook.add_format({**bold, "top": 1, "num_format": money}),
        ),
    }
    columns = len(table.headers)
    sheets = 0

    def new_sheet() -> tuple[Any, int]:
        nonlocal sheets
        sheets += 1
        name = table.sheet if sheets == 1 else f"{table.sheet} ({sheets})"
        sheet = workbook.add_worksheet(name[:31])
        for column, width in enumerate(table.widths):
            sheet.set_column(column, column, width)
        sheet.write_string(0, 0, table.title, formats["title"])
        for number, line in enumerate(table.heading, start=1):
            sheet.write_string(number, 0, line)
        header_row = len(table.heading) + 2
        for column, header in enumerate(table.headers):
            sheet.write_string(header_row, column, header, formats["header"])
        sheet.freeze_panes(header_row + 1, 0)
        return sheet, header_row

    sheet, header_row = new_sheet()
    at = header_row
    count = 0
    for row in table.rows:
        if at + 1 >= max_rows:
            sheet.autofilter(header_row, 0, at, columns - 1)
            sheet, header_row = new_sheet()
            at = header_row
        at += 1
        text, number = formats[row.level]
        for column, cell in enumerate(row.cells):
            if isinstance(cell, Decimal):
                # A spreadsheet number is a double: amounts to the kopeck stay exact below
                # 10^13 as printed. (Output only; nothing is computed from it.)
                sheet.write_number(at, column, float(cell), number)
            elif cell:
                sheet.write_string(at, column, cell, text)
            elif row.level != ROW:
                sheet.write_blank(at, column, None, text)
        count += 1
    sheet.autofilter(header_row, 0, at, columns - 1)
    workbook.close()
    return count
