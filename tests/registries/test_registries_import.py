"""Importing registries (kvit.registries.actions.import_registry): every line credited once,
the whole file or nothing, what cannot be matched kept and visible.

The bank's accounts each owe 1,000.00 for January 2024; registries pay on 5 March 2024.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from registry_bank import MAR, Bank, Pay, sberbank

from kvit.db.bulk import WriteBehindFailed
from kvit.ledger.actions import open_period
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches
from kvit.metering.models import Reading
from kvit.payments.actions import duplicated, transfer_from_suspense
from kvit.payments.models import Payment
from kvit.registries import actions
from kvit.registries.actions import import_registry
from kvit.registries.models import Registry, RegistryFormat, RegistryLine, RegistryReading

pytestmark = pytest.mark.django_db


def outcomes(registry: Registry) -> dict[int, str]:
    lines = RegistryLine.objects.filter(registry=registry).order_by("number")
    return dict(lines.values_list("number", "outcome"))


def paid_in(registry: Registry) -> Decimal:
    """What the registry's new payments took off the accounts' debts (ledger, positive)."""
    payments = RegistryLine.objects.filter(registry=registry, outcome="posted").values("payment")
    found = LedgerEntry.objects.filter(
        source_kind="payment", source_id__in=[str(p["payment"]) for p in payments]
    ).aggregate(total=Sum("amount"))["total"]
    return -Decimal(str(found or 0)).quantize(Decimal("0.01"))


def test_a_registry_posts_each_line_to_its_account(bank: Bank) -> None:
    pays = bank.pays(7)
    imported = import_registry(bank.tenant, sberbank(pays), "reestr.txt", "sberbank", None)
    registry = imported.registry
    assert not imported.already_imported
    assert registry.status == "imported", registry.problem_texts()
    assert (registry.lines, registry.posted, registry.amount) == (7, 7, Decimal("700.00"))
    assert (registry.order_number, registry.order_date) == ("4711", date(2024, 3, 6))
    assert (registry.footer_count, registry.footer_amount, registry.footer_fee) == (
        7,
        Decimal("700.00"),
        Decimal("7.00"),
    )
    assert registry.file_name == "reestr.txt"
    assert registry.file.name.startswith(f"registries/{bank.tenant.pk}/")
    assert registry.file.read() == sberbank(pays)
    assert set(outcomes(registry).values()) == {"posted"}
    payment = Payment.objects.get(external_id="OP-000000")
    assert (payment.source, payment.amount, payment.fee, payment.net_amount) == (
        "sberbank",
        Decimal("100.00"),
        Decimal("1.00"),
        Decimal("99.00"),
    )
    assert (payment.payer_name, payment.period, payment.document_number) == (
        "Иванов Иван Иванович",
        date(2024, 2, 1),
        str(registry.pk),
    )
    assert payment.value_date == date(2024, 3, 6)  # the footer's payment order date
    assert timezone.localtime(payment.paid_at).isoformat() == "2024-03-05T12:30:00+03:00"
    assert paid_in(registry) == Decimal("700.00")  # the amount is credited, the fee included
    assert balance(bank.accounts[0]) == Decimal("800.00")  # paid twice: OP-0 and OP-5
    assert balance_mismatches(bank.tenant) == []


def test_the_same_file_again_is_already_imported_and_posts_nothing(bank: Bank) -> None:
    content = sberbank(bank.pays(5))
    first = import_registry(bank.tenant, content, "a.txt", "sberbank")
    entries = LedgerEntry.objects.count()
    with CaptureQueriesContext(connection) as captured:
        again = import_registry(bank.tenant, content, "copy-of-a.txt", "sberbank")
    assert again.already_imported
    assert again.registry.pk == first.registry.pk
    assert LedgerEntry.objects.count() == entries
    assert Registry.objects.count() == 1
    assert len(captured) < 10  # found by its hash: the lines are not even read


def test_an_overlapping_registry_posts_only_its_new_lines(bank: Bank) -> None:
    """R2: 90 old lines (3 of them with another amount) and 10 new ones."""
    old = bank.pays(90)
    first = import_registry(bank.tenant, sberbank(old), "march-1.txt", "sberbank").registry
    changed = {5, 40, 77}
    again = [
        replace(pay, amount="101.00", fee="1.00", transferred="100.00") if n in changed else pay
        for n, pay in enumerate(old)
    ]
    new = bank.pays(100)[90:]
    entries = LedgerEntry.objects.count()
    with CaptureQueriesContext(connection) as captured:
        second = import_registry(
            bank.tenant, sberbank(again + new, order="4712"), "march-2.txt", "sberbank"
        ).registry
    assert second.status == "imported", second.problem_texts()
    lines = outcomes(second)
    assert [n for n, outcome in lines.items() if outcome == "posted"] == list(range(91, 101))
    assert [n for n, outcome in lines.items() if outcome == "conflict"] == [6, 41, 78]
    assert sum(outcome == "duplicate" for outcome in lines.values()) == 87
    assert (second.posted, second.duplicates, second.conflicts) == (10, 87, 3)
    assert second.conflict_amount == Decimal("303.00")
    conflict = RegistryLine.objects.get(registry=second, number=6)
    assert conflict.details == {"fields": {"amount": ["101.00", "100.00"]}}
    assert conflict.payment == Payment.objects.get(external_id="OP-000005")
    assert conflict.reasons() == [
        "Already recorded with another amount: “101.00” in this registry, “100.00” recorded. "
        "Nothing was changed."
    ]
    assert Payment.objects.get(external_id="OP-000005").amount == Decimal("100.00")
    assert paid_in(second) == Decimal("1000.00")
    assert LedgerEntry.objects.count() == entries + 10  # one entry per new payment
    updates = [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert not [sql for sql in updates if "ledger_ledgerentry" in sql or "payments_payment" in sql]
    assert first.posted == 90
    assert balance_mismatches(bank.tenant) == []


def test_a_registry_of_old_lines_reports_duplicates_without_posting_them(bank: Bank) -> None:
    """Lines repeating recorded payments exactly are found by key and content first: they
    are not built, inserted and compared one by one (a registry sent again)."""
    old = bank.pays(30)
    first = import_registry(bank.tenant, sberbank(old), "march-1.txt", "sberbank").registry
    with CaptureQueriesContext(connection) as captured:
        again = import_registry(bank.tenant, sberbank(old, order="4713"), "m2.txt", "sberbank")
    registry = again.registry
    assert (registry.posted, registry.duplicates, registry.conflicts) == (0, 30, 0)
    assert registry.duplicate_amount == first.amount
    lines = RegistryLine.objects.filter(registry=registry).order_by("number")
    assert list(lines.values_list("payment__external_id", flat=True)) == list(
        RegistryLine.objects.filter(registry=first)
        .order_by("number")
        .values_list("payment__external_id", flat=True)
    )
    inserts = [q["sql"] for q in captured if "INSERT INTO" in q["sql"].upper()]
    assert not [sql for sql in inserts if '"payments_payment"' in sql]


def test_repeats_are_looked_up_first_while_the_batches_hold_them(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 10: after one with no key recorded before, the next is posted without
    asking `duplicated`; its repeats are still found, by posting."""
    monkeypatch.setattr(actions, "BATCH", 10)
    asked: list[int] = []
    monkeypatch.setattr(
        actions, "duplicated", lambda records: asked.append(len(records)) or duplicated(records)
    )
    old = bank.pays(60)
    import_registry(bank.tenant, sberbank(old[:20] + old[30:40]), "new.txt", "sberbank")
    assert asked == [10]  # the first batch only
    asked.clear()
    # new (asked: the first), new, old (found by posting), old (asked), new (asked), new
    mixed = old[20:30] + old[40:50] + old[:20] + old[50:60] + bank.pays(70)[60:]
    registry = import_registry(bank.tenant, sberbank(mixed), "mixed.txt", "sberbank").registry
    assert asked == [10, 10, 10]  # batches 1, 4 and 5
    assert (registry.posted, registry.duplicates, registry.conflicts) == (40, 20, 0)
    lines = outcomes(registry)
    assert {n for n, outcome in lines.items() if outcome == "duplicate"} == set(range(21, 41))
    assert Payment.objects.count() == 70
    assert balance_mismatches(bank.tenant) == []


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["registries_registryline", "payments_paymentevent"])
def test_a_write_that_fails_behind_fails_the_import_and_leaves_nothing(
    bank: Bank, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    """A line's or an event's write (sent behind, `writes_behind`) refused by the database
    stops the import with the database's reason; nothing of the file stays."""
    monkeypatch.setattr(actions, "BATCH", 4)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_behind() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused by the test'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_behind BEFORE INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_behind()"
        )
    entries = LedgerEntry.objects.count()
    with pytest.raises(WriteBehindFailed, match="refused by the test") as failed:
        import_registry(bank.tenant, sberbank(bank.pays(10)), "r.txt", "sberbank")
    assert "refused by the test" in str(failed.value.__cause__)
    assert not Registry.objects.exists() and not Payment.objects.exists()
    assert LedgerEntry.objects.count() == entries


@pytest.mark.postgres
def test_the_look_up_of_old_lines_is_planned_for_few_rows(bank: Bank) -> None:
    """A registry sent again posts nothing, yet its look-ups by key run with the planner
    told they are many small ones (`plan_for_few_rows`), as posting's do."""
    old = bank.pays(5)
    import_registry(bank.tenant, sberbank(old), "march-1.txt", "sberbank")
    with CaptureQueriesContext(connection) as captured:
        import_registry(bank.tenant, sberbank(old, order="4714"), "m2.txt", "sberbank")
    sqls = [q["sql"] for q in captured]
    planned = next((n for n, sql in enumerate(sqls) if "enable_seqscan" in sql), len(sqls))
    looked_up = next(n for n, sql in enumerate(sqls) if '"payments_payment"' in sql)
    assert planned < looked_up


def test_invalid_lines_are_reported_and_the_rest_is_posted(bank: Bank) -> None:
    pays = [
        Pay("OP-1", "000001"),
        Pay("OP-2", "000002", paid_on="31-02-2024"),
        Pay("OP-3", "000003", "0.00", fee="0.00"),
        Pay("OP-4", "000004", "-5.00", fee="0.00"),
        Pay("", "000005"),
        Pay("OP-6", "000001", "50.00"),
        Pay("OP-" + "7" * 70, "000002"),
    ]
    registry = import_registry(bank.tenant, sberbank(pays), "r.txt", "sberbank").registry
    assert registry.status == "imported", registry.problem_texts()
    assert outcomes(registry) == {
        1: "posted",
        2: "invalid",
        3: "invalid",
        4: "invalid",
        5: "invalid",
        6: "posted",
        7: "invalid",
    }
    assert (registry.invalid, registry.invalid_amount) == (5, Decimal("295.00"))
    assert (registry.posted, registry.posted_amount) == (2, Decimal("150.00"))
    reasons = {
        line.number: line.reasons()
        for line in RegistryLine.objects.filter(registry=registry, outcome="invalid")
    }
    assert reasons == {
        2: ["“31-02-2024” is not a date in the format %d-%m-%Y."],
        3: ["The amount must be above zero, not 0.00."],
        4: ["The amount must be above zero, not -5.00."],
        5: ["The operation number is missing."],
        7: ["The operation number is longer than 64 characters."],
    }
    bad_date = RegistryLine.objects.get(registry=registry, number=2)
    assert bad_date.text == ";".join(pays[1].cells())  # kept as received
    assert bad_date.payment is None
    assert Payment.objects.count() == 2


def test_a_nul_past_the_sniffed_head_is_an_invalid_line_and_the_rest_is_posted(
    bank: Bank,
) -> None:
    pays = bank.pays(700)  # more than the 64 KB `sniff` looks at
    content = sberbank(pays)
    assert content.index(b"OP-000650") > 64 * 1024
    content = content.replace(b"OP-000650;", b"OP-000650;00\x00")  # into the account number
    registry = import_registry(bank.tenant, content, "r.txt", "sberbank").registry
    assert registry.status == "imported", registry.problem_texts()
    assert (registry.posted, registry.invalid) == (699, 1)
    line = RegistryLine.objects.get(registry=registry, outcome="invalid")
    assert line.number == 651
    assert line.reasons() == [
        "The line holds a NUL character (byte 0x00), which no field may hold."
    ]
    assert "00\ufffd" in line.text
    assert not Payment.objects.filter(external_id="OP-000650").exists()


def test_unknown_closed_and_missing_accounts_go_to_suspense_with_the_reason(bank: Bank) -> None:
    closed = bank.accounts[4]
    closed.closed_on = date(2024, 3, 1)
    closed.save()
    pays = [
        Pay("OP-1", "999999"),
        Pay("OP-2", closed.number),
        Pay("OP-3", ""),
        Pay("OP-4", "000001"),
    ]
    registry = import_registry(bank.tenant, sberbank(pays), "r.txt", "sberbank").registry
    assert outcomes(registry) == {1: "suspense", 2: "suspense", 3: "suspense", 4: "posted"}
    assert (registry.suspense, registry.suspense_amount) == (3, Decimal("300.00"))
    reasons = {
        line.number: line.reasons()
        for line in RegistryLine.objects.filter(registry=registry, outcome="suspense")
    }
    assert reasons == {1: ["account not found"], 2: ["account closed"], 3: ["account not found"]}
    assert Payment.objects.filter(status="suspense").count() == 3
    assert balance(closed) == Decimal("1000.00")


def test_a_line_twice_in_one_file_posts_once(bank: Bank) -> None:
    pay = Pay("OP-1", "000001")
    registry = import_registry(bank.tenant, sberbank([pay, pay]), "r.txt", "sberbank").registry
    assert outcomes(registry) == {1: "posted", 2: "duplicate"}
    assert balance(bank.accounts[0]) == Decimal("900.00")


# --- rejected whole --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("foot", "problem"),
    [
        ("=3;200.00;198.00;2.00;1;06-03-2024", "The file has 2 payment lines, the footer says 3."),
        (
            "=2;200.01;198.00;2.00;1;06-03-2024",
            "The lines' amount adds up to 200.00, the footer says 200.01.",
        ),
        ("", "The footer line (starting with “=”) is missing: the file may be cut short."),
    ],
    ids=["count", "sum", "no-footer"],
)
def test_a_file_that_fails_its_footer_check_is_rejected_and_nothing_is_posted(
    bank: Bank, foot: str, problem: str
) -> None:
    content = sberbank(bank.pays(2), foot=foot)
    registry = import_registry(bank.tenant, content, "r.txt", "sberbank").registry
    assert registry.status == "rejected"
    assert registry.problem_texts() == [problem]
    assert not Payment.objects.exists()
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert not RegistryLine.objects.exists()
    assert registry.file.read() == content  # kept, to be looked at
    # Corrected and sent again, it is imported (a rejection does not block the file).
    fixed = import_registry(bank.tenant, sberbank(bank.pays(2)), "r.txt", "sberbank").registry
    assert fixed.status == "imported"
    assert Payment.objects.count() == 2


def test_an_unreadable_amount_in_a_footer_file_rejects_it_naming_the_line(bank: Bank) -> None:
    pays = [*bank.pays(2), Pay("OP-X", "000001", "1x0", fee="0.00", transferred="100.00")]
    foot = "=3;300.00;298.00;2.00;1;06-03-2024"
    registry = import_registry(bank.tenant, sberbank(pays, foot=foot), "r.txt", "sberbank").registry
    assert registry.status == "rejected"
    assert registry.problem_texts() == [
        "Line 3: The money of 1 lines cannot be read, so the totals cannot be checked against "
        "the footer.",
        "Line 3: “1x0” is not an amount: digits with “.” before at most two decimals.",
    ]
    assert not Payment.objects.exists()


def test_a_line_whose_parts_do_not_add_up_rejects_the_file(bank: Bank) -> None:
    pays = [Pay("OP-1", "000001", "100.00", fee="1.00", transferred="98.00")]
    registry = import_registry(bank.tenant, sberbank(pays), "r.txt", "sberbank").registry
    assert registry.status == "rejected"
    assert registry.problem_texts() == [
        "Line 1: The amount 100.00 is not the amount transferred plus the fee (98.00 + 1.00)."
    ]


def test_a_rejection_found_late_undoes_the_batches_already_posted(
    bank: Bank, monkeypatch: Any
) -> None:
    monkeypatch.setattr(actions, "BATCH", 3)
    content = sberbank(bank.pays(10), foot="=10;999.00;990.00;10.00;1;06-03-2024")
    registry = import_registry(bank.tenant, content, "r.txt", "sberbank").registry
    assert registry.status == "rejected"
    assert not Payment.objects.exists()
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert Registry.objects.count() == 1
    assert (registry.lines, registry.amount, registry.posted) == (10, Decimal("1000.00"), 0)


def test_nothing_open_to_post_into_rejects_the_file_with_the_reason(make: Any, db: Any) -> None:
    tenant = make.tenant()
    make.account(make.premise(make.building(tenant)), number="000001")
    content = sberbank([Pay("OP-1", "000001")])
    registry = import_registry(tenant, content, "r.txt", "sberbank").registry
    assert registry.status == "rejected"
    assert registry.problem_texts() == [
        "The payments could not be posted: No billing period is open: open one before posting "
        "payments."
    ]
    open_period(tenant, MAR)
    assert import_registry(tenant, content, "r.txt", "sberbank").registry.status == "imported"


def test_many_problems_keep_the_first_hundred(bank: Bank) -> None:
    pays = [Pay(f"OP-{n}", "000001", paid_on="x") for n in range(150)]
    registry = import_registry(bank.tenant, sberbank(pays, foot="=1;0;0;0"), "r.txt", "sberbank")
    texts = registry.registry.problem_texts()
    assert len(texts) == 101
    assert texts[:2] == [
        "The file has 150 payment lines, the footer says 1.",
        "The lines' amount adds up to 15000.00, the footer says 0.",
    ]
    assert texts[-1] == "… and 54 more problems."  # 150 lines and 4 footer checks


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04 zip", "This is not a text file"),
        (b"<svg onload=alert(1)>", "This is not a registry"),
    ],
)
def test_what_is_not_a_registry_is_refused_and_nothing_recorded(
    bank: Bank, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        import_registry(bank.tenant, content, "x", "sberbank")
    assert not Registry.objects.exists()


def test_an_unknown_format_is_refused_naming_the_formats(bank: Bank) -> None:
    with pytest.raises(ValidationError, match="Unknown registry format “vtb”; the formats are"):
        import_registry(bank.tenant, sberbank(bank.pays(1)), "x", "vtb")
    assert not Registry.objects.exists()


def test_the_stored_name_never_comes_from_the_senders_name(bank: Bank) -> None:
    content = sberbank(bank.pays(1))
    registry = import_registry(bank.tenant, content, "../../etc/passwd", "sberbank").registry
    assert registry.file_name == "passwd"
    assert ".." not in registry.file.name and "passwd" not in registry.file.name
    registry = import_registry(bank.tenant, content + b"\r\n", "C:\\x\\r.txt", "sberbank").registry
    assert registry.file_name == "r.txt"


# --- formats ---------------------------------------------------------------------------------


def test_an_organisations_format_with_its_own_layout_source_and_provider(bank: Bank) -> None:
    RegistryFormat.objects.create(
        tenant=bank.tenant,
        code="vtb",
        name="VTB",
        source="vtb",
        provider=bank.water,
        encoding="koi8-r",
        separator="|",
        decimal_mark=",",
        date_format="%d.%m.%Y",
        header_lines=1,
        columns={"external_id": 1, "paid_on": 2, "account_number": 3, "amount": 4, "payer_name": 5},
    ).full_clean()
    text = "Реестр ВТБ\nV-1|05.03.2024|000001|250,00|Сидоров\n"
    registry = import_registry(bank.tenant, text.encode("koi8-r"), "vtb.txt", "vtb").registry
    assert registry.status == "imported", registry.problem_texts()
    payment = Payment.objects.get()
    assert (payment.source, payment.external_id, payment.amount) == ("vtb", "V-1", Decimal("250"))
    assert (payment.provider, payment.payer_name) == (bank.water, "Сидоров")
    assert registry.footer_count is None


def test_the_csv_preset(bank: Bank) -> None:
    text = (
        "external_id,paid_on,account_number,amount,fee,payer_name\r\n"
        'C-1,2024-03-05,000001,100.00,1.00,"Иванов, И."\r\n'
        "C-2,2024-03-05,000002,50,,\r\n"
    )
    registry = import_registry(bank.tenant, text.encode("utf-8-sig"), "p.csv", "csv").registry
    assert registry.status == "imported", registry.problem_texts()
    assert (registry.posted, registry.posted_amount) == (2, Decimal("150.00"))
    assert Payment.objects.get(external_id="C-1").payer_name == "Иванов, И."
    assert Payment.objects.get(external_id="C-1").source == "csv"


def test_a_format_is_checked_when_saved(bank: Bank, clean_errors: Any) -> None:
    wrong = RegistryFormat(
        tenant=bank.tenant,
        code="sberbank",
        name="Mine",
        source="mine",
        separator=",",
        decimal_mark=",",
        date_format="%d",
        columns={"paid_on": 1, "amount": 2},
    )
    errors = clean_errors(wrong)
    assert errors["code"] == ["“sberbank” is a built-in format: choose another code."]
    assert errors["separator"] == ["The separator cannot be the decimal mark."]
    assert errors["date_format"] == [
        "“%d” does not write and read back a date (see the strftime codes)."
    ]
    assert errors["columns"] == [
        "The field “operation number” needs a column.",
        "The field “account number” needs a column.",
    ]
    wrong.columns = ["paid_on"]
    assert clean_errors(wrong)["columns"] == [
        "The field mapping is an object: field name → column number."
    ]


# --- readings in the lines --------------------------------------------------------------------


def test_readings_of_new_payments_are_recorded_and_the_others_kept_with_the_reason(
    bank: Bank,
) -> None:
    one, two = bank.accounts[0], bank.accounts[1]
    meter = bank.make.meter(one.premise, serial_number="SN-1")
    night = bank.make.meter(
        two.premise, serial_number="E-7", resource="electricity", zones=2, integer_digits=6
    )
    bank.make.meter(
        two.premise, serial_number="SN-OLD", removed_on=date(2024, 2, 1), status="removed"
    )
    pays = [
        Pay("OP-1", one.number, readings=("SN-1", "123.456")),
        Pay("OP-2", two.number, readings=("E-7", "1500.5", "E-7", "700", "E-7", "1")),
        Pay("OP-3", two.number, readings=("SN-1", "5", "SN-OLD", "7", "E-7", "x")),
        Pay("OP-4", "999999", readings=("SN-1", "124")),
        Pay("OP-1", one.number, readings=("SN-1", "123.456")),
        Pay("OP-5", one.number, readings=("SN-1", "100000")),
    ]
    registry = import_registry(bank.tenant, sberbank(pays), "r.txt", "sberbank").registry
    assert registry.status == "imported", registry.problem_texts()
    readings = list(
        RegistryReading.objects.filter(registry=registry)
        .order_by("line", "id")
        .values_list("line", "meter", "outcome")
    )
    assert readings == [
        (1, "SN-1", "recorded"),
        (2, "E-7", "recorded"),
        (2, "E-7", "recorded"),
        (2, "E-7", "rejected"),
        (3, "SN-1", "rejected"),
        (3, "SN-OLD", "rejected"),
        (3, "E-7", "rejected"),
        (4, "SN-1", "skipped"),
        (5, "SN-1", "skipped"),
        (6, "SN-1", "rejected"),
    ]
    reasons = dict(
        RegistryReading.objects.filter(registry=registry)
        .exclude(outcome="recorded")
        .values_list("id", "reason")
    ).values()
    assert list(reasons) == [
        "Meter E-7 has 2 zone(s): too many values.",
        "Meter SN-1 is not a meter of account 000002.",
        "Meter SN-OLD is not a meter of account 000002.",
        "Line 3: “x” is not a reading of meter E-7.",
        "The payment is in suspense: the reading is recorded when the payment is "
        "transferred to an account.",
        "The payment was received before: its readings were taken then.",
        "100000 does not fit the meter's 5 integer digits (must be below 100000).",
    ]
    assert (registry.readings_recorded, registry.readings_rejected) == (3, 5)
    recorded = Reading.objects.filter(source="bank_registry").order_by("meter_id", "zone")
    assert list(recorded.values_list("meter__serial_number", "zone", "value", "taken_on")) == [
        ("SN-1", "total", Decimal("123.456000"), date(2024, 3, 5)),
        ("E-7", "day", Decimal("1500.500000"), date(2024, 3, 5)),
        ("E-7", "night", Decimal("700.000000"), date(2024, 3, 5)),
    ]
    assert meter.readings.count() == 1
    assert night.readings.count() == 2


def test_readings_held_in_suspense_are_recorded_when_the_payment_is_transferred(
    bank: Bank,
) -> None:
    one, two = bank.accounts[0], bank.accounts[1]
    meter = bank.make.meter(one.premise, serial_number="SN-1")
    bank.make.meter(two.premise, serial_number="SN-2")
    pays = [
        Pay("OP-1", "999999", readings=("SN-1", "123.456", "SN-1", "5", "SN-9", "7", "SN-1", "x")),
        Pay("OP-2", "999998", readings=("SN-2", "42")),
    ]
    registry = import_registry(bank.tenant, sberbank(pays), "r.txt", "sberbank").registry
    assert outcomes(registry) == {1: "suspense", 2: "suspense"}
    assert (registry.readings_recorded, registry.readings_rejected) == (0, 0)
    held = Payment.objects.get(external_id="OP-1")
    outcome = transfer_from_suspense(held, one, None)
    assert outcome.result == "posted"
    rows = list(
        RegistryReading.objects.filter(registry=registry, line=1)
        .order_by("id")
        .values_list("meter", "text", "outcome", "reason")
    )
    skipped = (
        "The payment is in suspense: the reading is recorded when the payment is "
        "transferred to an account."
    )
    assert rows == [
        ("SN-1", "123.456", "skipped", skipped),
        ("SN-1", "5", "skipped", skipped),
        ("SN-9", "7", "skipped", skipped),
        ("SN-1", "x", "skipped", skipped),
        (
            "SN-1",
            "123.456",
            "recorded",
            f"Recorded when the payment was transferred to account {one.number}.",
        ),
        ("SN-1", "5", "rejected", "Meter SN-1 has 1 zone(s): too many values."),
        ("SN-9", "7", "rejected", f"Meter SN-9 is not a meter of account {one.number}."),
        ("SN-1", "x", "rejected", "Line 1: “x” is not a reading of meter SN-1."),
    ]
    reading = meter.readings.get()
    assert (reading.value, reading.taken_on, reading.source) == (
        Decimal("123.456000"),
        date(2024, 3, 5),
        "bank_registry",
    )
    registry.refresh_from_db()
    assert (registry.readings_recorded, registry.readings_rejected) == (1, 3)
    # the other line's readings wait for their own payment's transfer
    assert RegistryReading.objects.filter(registry=registry, line=2).count() == 1
