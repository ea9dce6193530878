"""`kvit payments import FILE --format NAME`: the report, the per-line CSV, the exit status;
`kvit payments statement FILE`: the credits and the registries checked."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from registry_bank import Bank, Order, Pay, make_bank, sberbank, statement

from kvit.payments.models import Payment
from kvit.registries.models import Registry

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("payments", "import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def registry_file(bank: Bank, tmp_path: Path) -> Path:
    path = tmp_path / "reestr_0324.txt"
    pays = [*bank.pays(3), Pay("OP-X", "999999"), Pay("=HYPERLINK(1)", "000001", paid_on="x")]
    path.write_bytes(sberbank(pays))
    return path


def test_an_import_reports_the_outcomes_and_the_lines_not_posted(
    bank: Bank, registry_file: Path
) -> None:
    output = run(str(registry_file), "--format", "sberbank", "--tenant", bank.tenant.code)
    registry = Registry.objects.get()
    assert f"registry #{registry.pk} reestr_0324.txt imported: 5 lines, 500.00 in all" in output
    assert "payment order 4711 of 2024-03-06" in output
    assert "  posted                3             300.00" in output
    assert "  in suspense           1             100.00" in output
    assert "  invalid               1             100.00" in output
    assert "    line 4: in suspense: account not found" in output
    assert "    line 5: invalid: “x” is not a date in the format %d-%m-%Y." in output
    assert Payment.objects.count() == 4


def test_the_same_file_again_posts_nothing(bank: Bank, registry_file: Path) -> None:
    run(str(registry_file), "--format", "sberbank", "--tenant", bank.tenant.code)
    output = run(str(registry_file), "--format", "sberbank", "--tenant", bank.tenant.code)
    assert "was already imported on" in output and "nothing was posted again" in output
    assert Registry.objects.count() == 1


def test_the_whole_report_goes_to_csv_safe_for_excel(
    bank: Bank, registry_file: Path, tmp_path: Path
) -> None:
    report = tmp_path / "lines.csv"
    output = run(
        str(registry_file), "--format", "sberbank", "--tenant", bank.tenant.code,
        "--report", str(report), "--language", "ru",
    )  # fmt: skip
    assert f"5 lines written to {report}" in output
    text = report.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(StringIO(text), delimiter=";"))
    assert rows[0] == [
        "строка",
        "результат",
        "номер операции",
        "номер лицевого счёта",
        "сумма",
        "причина",
        "строка как получена",
    ]
    assert rows[1][:5] == ["1", "проведена", "OP-000000", "000001", "100,00"]
    assert rows[4][:2] == ["4", "в невыясненных"]
    assert rows[5][1] == "ошибочна"
    assert rows[5][6].startswith("x;12-30-00")
    assert not any(cell.startswith("=") for row in rows for cell in row)  # no formulas


def test_a_rejected_file_exits_non_zero_with_the_reasons(bank: Bank, tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes(sberbank(bank.pays(2), foot=""))
    errors = StringIO()
    with pytest.raises(CommandError, match=r"cut\.txt is rejected .* nothing of it is posted"):
        call_command(
            "payments", "import", str(path), "--format", "sberbank", "--tenant",
            bank.tenant.code, stdout=StringIO(), stderr=errors,
        )  # fmt: skip
    assert "The footer line (starting with “=”) is missing" in errors.getvalue()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "vtb"], "Unknown registry format “vtb”"),
        (["--format", "sberbank", "--tenant", "nobody"], "no organisation with the code 'nobody'"),
    ],
)
def test_refusals_are_command_errors(
    bank: Bank, registry_file: Path, args: list[str], message: str
) -> None:
    if "--tenant" not in args:
        args = [*args, "--tenant", bank.tenant.code]
    with pytest.raises(CommandError, match=message):
        run(str(registry_file), *args)
    assert not Registry.objects.exists()


def test_the_organisation_is_needed_when_there_are_several(
    bank: Bank, registry_file: Path, make: Any
) -> None:
    make_bank(make)
    with pytest.raises(CommandError, match="give the organisation with --tenant CODE"):
        run(str(registry_file), "--format", "sberbank")


def test_the_only_organisation_needs_no_code(bank: Bank, registry_file: Path) -> None:
    assert "imported" in run(str(registry_file), "--format", "sberbank")


def test_a_missing_file_is_a_command_error(bank: Bank, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        run(str(tmp_path / "nothing.txt"), "--format", "sberbank")


def test_a_statement_reports_its_credits_and_the_registries_it_checks(
    bank: Bank, registry_file: Path, tmp_path: Path
) -> None:
    run(str(registry_file), "--format", "sberbank", "--tenant", bank.tenant.code)
    registry = Registry.objects.get()
    path = tmp_path / "kl_to_1c.txt"
    path.write_bytes(statement([Order(amount="495.00"), Order("9", amount="-1")]))
    out = StringIO()
    call_command("payments", "statement", str(path), stdout=out)
    output = out.getvalue()
    assert "statement #" in output and "kl_to_1c.txt imported: 1 credits, 495.00" in output
    assert "  not read: Line 23: The amount “-1” is not a positive amount." in output
    assert (
        f"registry #{registry.pk} reestr_0324.txt, payment order 4711 of 2024-03-06: "
        "Matched: the bank statement credits 495.00." in output
    )
    again = StringIO()
    call_command("payments", "statement", str(path), stdout=again)
    assert "kl_to_1c.txt was already imported" in again.getvalue()


def test_a_statement_a_registry_differs_from_exits_non_zero(
    bank: Bank, registry_file: Path, tmp_path: Path
) -> None:
    run(str(registry_file), "--format", "sberbank", "--tenant", bank.tenant.code)
    path = tmp_path / "kl_to_1c.txt"
    path.write_bytes(statement([Order(amount="400.00")]))
    with pytest.raises(CommandError, match="1 registries differ from the statement"):
        call_command("payments", "statement", str(path), stdout=StringIO())
    path.write_bytes(b"garbage\r\n")
    with pytest.raises(CommandError, match="This is not a bank statement"):
        call_command("payments", "statement", str(path), stdout=StringIO())
