"""Exports of the reports: CSV for Excel with Russian settings, XLSX written row by row, the
translated headings, and the `kvit turnover` / `kvit debt_ageing` commands."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from reports_world import World

from kvit.ledger.actions import post_entries
from kvit.ledger.models import LedgerEntry
from kvit.reports.ageing import debt_ageing
from kvit.reports.exports import (
    Table,
    TableRow,
    ageing_table,
    csv_amount,
    csv_text,
    turnover_table,
    write_csv,
    write_xlsx,
)
from kvit.reports.turnover import turnover

pytestmark = pytest.mark.django_db

MARCH = (date(2024, 3, 1), date(2024, 3, 31))


def post(world: World, account: int, amount: str, **fields: Any) -> None:
    fields = {
        "tenant": world.tenant,
        "account": world.accounts[account],
        "provider": world.providers[0],
        "service": world.services[0],
        "period": date(2024, 3, 1),
        "posted_on": date(2024, 3, 10),
        "kind": "charge",
        "amount": Decimal(amount),
        **fields,
    }
    post_entries([LedgerEntry(**fields)])


@pytest.fixture
def posted(world: World) -> World:
    post(world, 0, "1234.56")
    post(world, 1, "-20.00", kind="payment", posted_on=date(2024, 2, 1), period=date(2024, 2, 1))
    post(world, 2, "10.50", service=world.services[1])
    return world


def read_csv(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    return raw, list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


# --- XLSX read back with the standard library ---------------------------------------------

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def xml(package: zipfile.ZipFile, name: str) -> ElementTree.Element:
    return ElementTree.fromstring(package.read(name))  # noqa: S314 -- the file the test wrote


def read_xlsx(path: Path) -> dict[str, list[list[str]]]:
    """Sheet name → rows of cell texts (numbers as written; a row not written is []), from
    the package's XML."""
    with zipfile.ZipFile(path) as package:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in package.namelist():
            root = xml(package, "xl/sharedStrings.xml")
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root]
        workbook = xml(package, "xl/workbook.xml")
        names = [sheet.get("name") or "" for sheet in workbook.iter(f"{{{NS['m']}}}sheet")]
        sheets = {}
        for number, name in enumerate(names, start=1):
            root = xml(package, f"xl/worksheets/sheet{number}.xml")
            rows: list[list[str]] = []
            for row in root.iter(f"{{{NS['m']}}}row"):
                rows += [[]] * (int(row.get("r") or 0) - 1 - len(rows))
                cells: dict[int, str] = {}
                for cell in row.iter(f"{{{NS['m']}}}c"):
                    column = re.match(r"[A-Z]+", cell.get("r") or "")
                    assert column
                    index = 0
                    for letter in column.group():
                        index = index * 26 + ord(letter) - 64
                    kind = cell.get("t")
                    if kind == "inlineStr":
                        text = "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t"))
                    elif kind == "s":
                        value = cell.find("m:v", NS)
                        text = shared[int(value.text or 0)] if value is not None else ""
                    else:
                        value = cell.find("m:v", NS)
                        text = value.text or "" if value is not None else ""
                    cells[index - 1] = text
                rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
            sheets[name] = rows
    return sheets


# --- CSV ----------------------------------------------------------------------------------


def test_csv_is_for_excel_with_russian_settings(posted: World, tmp_path: Path) -> None:
    path = tmp_path / "osv.csv"
    with translation.override("ru"):
        table = turnover_table(turnover(posted.tenant, *MARCH, group_by="building"))
        with open(path, "w", encoding="utf-8-sig", newline="") as stream:
            assert write_csv(table, stream) == 6  # 3 rows, 2 subtotals, the total
    raw, rows = read_csv(path)
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark
    assert b"\r\n" in raw
    assert rows[0][:4] == ["Дом", "Лицевой счёт", "Адрес", "Плательщик"]
    assert rows[0][4:] == [
        "Сальдо на начало, дебет",
        "Сальдо на начало, кредит",
        "Начислено",
        "Перерасчёты",
        "Льготы",
        "Начислено пеней",
        "Оплачено (основной долг)",
        "Оплачено (пени)",
        "Списания / переносы",
        "Сальдо на конец, дебет",
        "Сальдо на конец, кредит",
    ]
    first = rows[1]
    assert first[:2] == ["Lenina st. 1", posted.accounts[0].number]
    assert first[4:7] == ["0,00", "0,00", "1234,56"]
    assert first[13:] == ["1234,56", "0,00"]
    advance = rows[2]
    assert advance[1] == posted.accounts[1].number
    assert (advance[5], advance[14]) == ("20,00", "20,00")  # opening and closing credit
    assert rows[3][:2] == ["Lenina st. 1", "Итого"]
    assert (rows[3][4], rows[3][5], rows[3][6]) == ("0,00", "20,00", "1234,56")
    assert rows[-1][0] == "Всего"
    assert rows[-1][6] == "1245,06"


def test_csv_text_that_looks_like_a_formula_stays_text(posted: World) -> None:
    payer = posted.accounts[0].payer
    payer.last_name = '=HYPERLINK("http://evil.example","x")'
    payer.save()
    stream = io.StringIO()
    write_csv(turnover_table(turnover(posted.tenant, *MARCH)), stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue()), delimiter=";"))
    assert rows[1][2] == '\'=HYPERLINK("http://evil.example","x") Ivan'
    assert [csv_text(text) for text in ("-5", "+7", "@a", "a=b", "", None)] == [
        "'-5",
        "'+7",
        "'@a",
        "a=b",
        "",
        "",
    ]


def test_csv_amounts_keep_two_decimals_and_a_comma() -> None:
    assert [csv_amount(Decimal(text)) for text in ("0", "-1234.5", "1000000.01")] == [
        "0,00",
        "-1234,50",
        "1000000,01",
    ]


def test_headings_are_english_in_english(posted: World, tmp_path: Path) -> None:
    with translation.override("en"):
        table = turnover_table(turnover(posted.tenant, *MARCH))
        assert table.headers[:4] == (
            "Personal account",
            "Address",
            "Payer",
            "Opening balance, debit",
        )
        assert table.title == "Turnover statement"
        assert table.heading[1] == "Period: 03/01/2024 – 03/31/2024"
        stream = io.StringIO()
        write_csv(table, stream)
    assert stream.getvalue().splitlines()[-1].startswith("Total;;;")


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_has_a_title_the_headings_and_numbers(posted: World, tmp_path: Path) -> None:
    path = tmp_path / "osv.xlsx"
    with translation.override("ru"):
        statement = turnover(posted.tenant, *MARCH, group_by="service", node=posted.region)
        assert write_xlsx(turnover_table(statement), path) == 6
    (sheet,) = read_xlsx(path).values()
    assert sheet[0] == ["Оборотно-сальдовая ведомость"]
    assert sheet[1] == [posted.tenant.name]
    assert sheet[2] == ["Период: 01.03.2024 – 31.03.2024"]
    assert sheet[3] == ["Узел иерархии: Region"]
    headers = sheet[5]
    assert headers[:4] == ["Услуга", "Лицевой счёт", "Адрес", "Плательщик"]
    assert sheet[6][:2] == ["Cold water", posted.accounts[0].number]
    assert float(sheet[6][6]) == 1234.56
    assert sheet[7][:2] == ["Cold water", posted.accounts[1].number]
    assert sheet[8][:2] == ["Cold water", "Итого"]
    assert sheet[9][:2] == ["Heating", posted.accounts[2].number]
    assert sheet[-1][0] == "Всего"
    assert float(sheet[-1][6]) == 1245.06


def test_xlsx_goes_on_in_a_new_sheet_when_one_is_full(tmp_path: Path) -> None:
    rows = [TableRow((str(n), Decimal(n))) for n in range(10)]
    table = Table(
        sheet="Sheet",
        title="Title",
        heading=("line",),
        headers=("name", "amount"),
        widths=(10, 10),
        rows=iter(rows),
    )
    path = tmp_path / "long.xlsx"
    assert write_xlsx(table, path, max_rows=8) == 10  # title, line, blank, headings, 4 rows
    sheets = read_xlsx(path)
    assert list(sheets) == ["Sheet", "Sheet (2)", "Sheet (3)"]
    data = []
    for sheet in sheets.values():
        assert sheet[3] == ["name", "amount"]
        data += [row[0] for row in sheet[4:]]
    assert data == [str(n) for n in range(10)]


def test_ageing_exports(posted: World, tmp_path: Path) -> None:
    with translation.override("ru"):
        table = ageing_table(debt_ageing(posted.tenant, date(2024, 3, 31)))
        stream = io.StringIO()
        write_csv(table, stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue()), delimiter=";"))
    assert rows[0][3:] == [
        "Долг, 0–1 мес.",
        "Долг, 1–3 мес.",
        "Долг, 3–6 мес.",
        "Долг, 6–12 мес.",
        "Долг, 12–36 мес.",
        "Долг, более 36 мес.",
        "Долг, всего",
        "Аванс",
        "Сальдо",
    ]
    assert rows[1][0] == posted.accounts[0].number
    assert rows[1][3] == "1234,56"
    assert rows[2][-2:] == ["20,00", "-20,00"]
    assert rows[-1][0] == "Всего"
    assert rows[-1][-1] == "1225,06"


# --- the commands -------------------------------------------------------------------------


def test_the_turnover_command_writes_the_statement(posted: World, tmp_path: Path) -> None:
    out = io.StringIO()
    path = tmp_path / "osv.xlsx"
    call_command(
        "turnover",
        "--tenant",
        posted.tenant.code,
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--group-by",
        "node",
        "--output",
        str(path),
        "--language",
        "ru",
        stdout=out,
    )
    assert "6 rows written" in out.getvalue()  # 3 accounts in 2 nodes and none
    sheet = read_xlsx(path)["ОСВ"]
    assert sheet[0] == ["Оборотно-сальдовая ведомость"]
    assert [row[0] for row in sheet[5:]] == ["North", "North", "North", "South", "South", "Всего"]
    csv_path = tmp_path / "osv.txt"
    call_command(
        "turnover",
        *("--tenant", posted.tenant.code, "--from", "2024-03-01", "--to", "2024-03-31"),
        *("--format", "csv", "--language", "en", "--output", str(csv_path)),
        *("--provider", posted.providers[0].inn, "--node", posted.region.code),
        stdout=out,
    )
    _raw, rows = read_csv(csv_path)
    assert rows[0][0] == "Personal account"
    assert [row[0] for row in rows[1:]] == [
        *(account.number for account in posted.accounts[:3]),  # the legal one has no node
        "Total",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["osv.txt", "osv.xlsx"]


def test_the_debt_ageing_command_writes_the_report(posted: World, tmp_path: Path) -> None:
    path = tmp_path / "ageing.csv"
    out = io.StringIO()
    call_command(
        "debt_ageing",
        *("--tenant", posted.tenant.code, "--as-of", "2024-03-31", "--output", str(path)),
        stdout=out,
    )
    assert "4 rows written" in out.getvalue()
    _raw, rows = read_csv(path)
    assert rows[-1][0] == "Total"  # the settings' language (English in the tests)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tenant", "nobody"], "no organisation with the code 'nobody'"),
        (["--from", "2024-13-01"], "expected a date as YYYY-MM-DD, not '2024-13-01'"),
        (["--from", "2024-04-01"], "--from 2024-04-01 is after --to 2024-03-31"),
        (["--node", "nowhere"], "no hierarchy node 'nowhere'"),
        (["--provider", "7700000000"], "no provider with INN 7700000000"),
        (["--group-by", "street"], "invalid choice: 'street'"),
        (["--output", "osv.pdf"], "cannot tell the format from 'osv.pdf'"),
        (["--output", "missing/osv.csv"], "does not exist"),
    ],
)
def test_the_turnover_command_explains_bad_input(
    posted: World, tmp_path: Path, monkeypatch: Any, arguments: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    options = {
        "--tenant": posted.tenant.code,
        "--from": "2024-03-01",
        "--to": "2024-03-31",
        "--output": "osv.csv",
    }
    options.update(zip(arguments[::2], arguments[1::2], strict=True))
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("turnover", *[part for pair in options.items() for part in pair])
    assert list(tmp_path.iterdir()) == []


def test_a_provider_inn_shared_by_two_needs_the_kpp(posted: World, make: Any) -> None:
    first = posted.providers[0]
    make.provider(posted.tenant, inn=first.inn, kpp="770201001")
    with pytest.raises(CommandError, match="give INN/KPP"):
        call_command(
            "turnover",
            *("--tenant", posted.tenant.code, "--from", "2024-03-01", "--to", "2024-03-31"),
            *("--provider", first.inn, "--output", "unused.csv"),
        )


def test_a_failed_export_leaves_no_file(posted: World, tmp_path: Path, monkeypatch: Any) -> None:
    def broken(*args: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr("kvit.reports.commands.write_csv", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        call_command(
            "turnover",
            *("--tenant", posted.tenant.code, "--from", "2024-03-01", "--to", "2024-03-31"),
            *("--output", str(tmp_path / "osv.csv")),
        )
    assert list(tmp_path.iterdir()) == []
