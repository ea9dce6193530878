"""Bank statements (1C client-bank exchange format): reading them
(`kvit.registries.statements`), keeping them and checking registries against their credits
(`kvit.registries.reconciliation`, spec 6.2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from registry_bank import OUR_ACCOUNT, SBERBANK_INN, Bank, Order, Pay, sberbank, statement

from kvit.payments.models import Payment
from kvit.registries.actions import import_registry
from kvit.registries.models import BankStatement, Registry, RegistryFormat, StatementCredit
from kvit.registries.parsing import FIELDS
from kvit.registries.problems import describe
from kvit.registries.reconciliation import (
    Check,
    import_statement,
    matches,
    registries_checked_as,
)
from kvit.registries.statements import read_statement

THEIRS = "40702810000000000999"


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["windows-1251", "cp866", "utf-8"])
def test_a_statement_gives_its_credits_and_skips_its_debits(encoding: str) -> None:
    read = read_statement(statement([Order(), Order("12", to=THEIRS)], encoding=encoding))
    assert read.problems == []
    assert (read.starts_on, read.ends_on, read.accounts) == (
        date(2024, 3, 1),
        date(2024, 3, 31),
        [OUR_ACCOUNT],
    )
    (credit,) = read.credits
    assert (credit.number, credit.dated, credit.amount, credit.received_on) == (
        "4711",
        date(2024, 3, 6),
        Decimal("99.00"),
        date(2024, 3, 6),
    )
    assert (credit.payer_name, credit.payer_inn, credit.line) == ("ПАО СБЕРБАНК", "7707083893", 11)
    assert read.debits == 1


def test_without_accounts_a_document_with_a_credit_date_is_a_credit() -> None:
    read = read_statement(statement([Order("1"), Order("2", received="")], accounts=()))
    assert [credit.number for credit in read.credits] == ["1"]
    assert read.debits == 1


def test_an_unreadable_document_is_reported_and_the_others_kept() -> None:
    orders = [Order("1", amount="1 000,00"), Order("2", dated="2024-03-06"), Order(""), Order("4")]
    read = read_statement(statement(orders))
    assert not read.rejected
    assert [credit.number for credit in read.credits] == ["4"]
    assert [describe(problem) for problem in read.problems] == [
        "Line 11: The amount “1 000,00” is not a positive amount.",
        "Line 23: The payment order date “2024-03-06” is not a date (DD.MM.YYYY).",
        "Line 35: The payment order number is missing.",
    ]


def test_what_dos_era_exporters_and_indirect_settlement_write_is_read() -> None:
    content = statement(
        [Order("1", to="30101810400000000225"), Order("2", amount="123456789012345.00")]
    )
    content = content.replace(
        "ПолучательСчет=30101810400000000225".encode("cp1251"),
        f"ПолучательСчет=30101810400000000225\r\nПолучательРасчСчет={OUR_ACCOUNT}".encode("cp1251"),
    )
    content = content.replace("населения".encode("cp1251"), b"\x98") + b"\x1a\x00"
    read = read_statement(content)
    assert not read.rejected
    (credit,) = read.credits
    assert (credit.number, credit.kind, credit.purpose) == (
        "1",
        "Платежное поручение",
        "Перечисление платежей \ufffd по реестру",
    )
    assert [(p.code, p.value) for p in read.problems] == [
        ("statement_amount", "123456789012345.00")  # more than a money column holds
    ]


def test_the_dates_of_an_account_section_are_not_the_statement_s() -> None:
    content = statement([Order()]).replace(
        "КонецРасчСчет".encode("cp1251"), "ДатаНачала=15.03.2024\r\nКонецРасчСчет".encode("cp1251")
    )
    assert read_statement(content).starts_on == date(2024, 3, 1)


def test_an_amount_in_other_digits_than_ascii_is_not_read() -> None:
    # Decimal() reads Arabic-Indic or full-width digits; no bank writes them.
    orders = [Order("1", amount="١٠٠.٠٠"), Order("2", amount="１００.００"), Order("3")]
    read = read_statement(statement(orders, encoding="utf-8"))
    assert [credit.number for credit in read.credits] == ["3"]
    assert [problem.code for problem in read.problems] == ["statement_amount"] * 2


def test_a_comma_amount_reads_and_a_zero_one_does_not() -> None:
    read = read_statement(statement([Order("1", amount="5,50"), Order("2", amount="0.00")]))
    assert [credit.amount for credit in read.credits] == [Decimal("5.50")]
    assert [problem.code for problem in read.problems] == ["statement_amount"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"1;2;3\r\n", "statement_magic"),
        (statement([Order()], end=False), "statement_end"),
        (statement([Order()]).replace("КонецДокумента".encode("cp1251"), b""), "statement_section"),
        (statement([Order()]) + "Номер=1\r\n".encode("cp1251"), "statement_after_end"),
        (b"1CClientBankExchange\r\n\xff\xfe\r\n", "statement_encoding"),
    ],
)
def test_a_file_that_is_not_a_whole_statement_is_rejected(content: bytes, code: str) -> None:
    read = read_statement(content)
    assert read.rejected
    assert code in [problem.code for problem in read.problems]


# --- keeping and checking --------------------------------------------------------------------


def registry_of(bank: Bank, count: int = 3, order: str = "4711") -> Registry:
    """`count` new payments of 100.00 with a 1 % fee: 297.00 transferred for 3."""
    pays = bank.pays(count, prefix=f"OP{order}")
    imported = import_registry(bank.tenant, sberbank(pays, order=order), "r.txt", "sberbank")
    return imported.registry


@pytest.mark.django_db
def test_a_statement_is_kept_once_with_its_credits(bank: Bank) -> None:
    content = statement([Order(amount="297.00"), Order("12", to=THEIRS), Order("5", amount="x")])
    imported = import_statement(bank.tenant, content, "C:\\bank\\kl_to_1c.txt")
    kept = imported.statement
    assert not imported.already_imported
    assert (kept.file_name, kept.credits, kept.amount, kept.debits) == (
        "kl_to_1c.txt",
        1,
        Decimal("297.00"),
        1,
    )
    assert kept.problem_texts() == ["Line 35: The amount “x” is not a positive amount."]
    assert list(StatementCredit.objects.values_list("number", "amount")) == [
        ("4711", Decimal("297.00"))
    ]
    again = import_statement(bank.tenant, content, "again.txt")
    assert again.already_imported and again.statement.pk == kept.pk
    assert StatementCredit.objects.count() == 1


@pytest.mark.django_db
def test_a_file_that_is_not_a_statement_is_refused_and_nothing_kept(bank: Bank) -> None:
    with pytest.raises(ValidationError) as raised:
        import_statement(bank.tenant, statement([Order()], end=False), "cut.txt")
    assert raised.value.messages == [
        "The statement does not end with КонецФайла: it may be cut short."
    ]
    assert not BankStatement.objects.exists()


@pytest.mark.django_db
def test_registries_are_checked_against_the_statements_that_come_later(bank: Bank) -> None:
    matched, differs, awaited = (
        registry_of(bank),
        registry_of(bank, 2, "15"),
        registry_of(bank, 1, "16"),
    )
    assert {r.status for r in (matched, differs, awaited)} == {"imported"}
    checks = matches([matched, differs, awaited])
    assert {pk: m.check for pk, m in checks.items()} == {
        matched.pk: Check.AWAITED,
        differs.pk: Check.AWAITED,
        awaited.pk: Check.AWAITED,
    }
    imported = import_statement(
        bank.tenant, statement([Order(amount="297.00"), Order("15", amount="197.00")]), "s.txt"
    )
    checked = {check: [r for r, _match in found] for check, found in imported.checked.items()}
    assert checked == {Check.MATCHED: [matched], Check.DIFFERS: [differs]}
    checks = matches([matched, differs, awaited])
    assert checks[matched.pk].text == "Matched: the bank statement credits 297.00."
    assert checks[differs.pk].text == (
        "Differs: the bank statement credits 197.00 for the payment order; its registries say "
        "198.00 was transferred."
    )
    assert checks[awaited.pk].check is Check.AWAITED
    for check, registry in (
        (Check.MATCHED, matched),
        (Check.DIFFERS, differs),
        (Check.AWAITED, awaited),
    ):
        assert list(registries_checked_as(check, Registry.objects.all())) == [registry]


def sberbank_format(bank: Bank, inn: str = SBERBANK_INN) -> str:
    """A format of Sberbank-style registries whose payment orders `inn` pays."""
    RegistryFormat.objects.create(
        tenant=bank.tenant,
        code=f"bank-{inn}",
        name="Bank",
        source="sber",
        bank_inn=inn,
        columns={name: number for number, name in enumerate(FIELDS, start=1)},
        footer="sberbank",
    ).full_clean()
    return f"bank-{inn}"


@pytest.mark.django_db
def test_a_registry_its_bank_paid_less_for_is_rejected_whole(bank: Bank) -> None:
    code = sberbank_format(bank)
    import_statement(bank.tenant, statement([Order(amount="296.00")]), "s.txt")
    registry = import_registry(bank.tenant, sberbank(bank.pays(3)), "r.txt", code).registry
    assert registry.status == "rejected"
    assert registry.problem_texts() == [
        "The bank statement credits 296.00 for this payment order: less than its registries "
        "with this one say was transferred (this one: 297.00)."
    ]
    assert not Payment.objects.exists()
    import_statement(bank.tenant, statement([Order(amount="297.00")]), "s2.txt")
    again = import_registry(bank.tenant, sberbank(bank.pays(3)), "r.txt", code).registry
    assert again.status == "imported"  # one credit of the order is the amount
    assert matches([again])[again.pk].check is Check.MATCHED


@pytest.mark.django_db
def test_without_the_bank_s_inn_a_registry_that_differs_is_imported_and_shown(
    bank: Bank,
) -> None:
    import_statement(bank.tenant, statement([Order(amount="296.00")]), "s.txt")
    registry = registry_of(bank)  # the preset names no bank: the credit may be another's
    assert registry.status == "imported"
    assert matches([registry])[registry.pk].check is Check.DIFFERS


@pytest.mark.django_db
def test_one_payment_order_may_pay_several_registries(bank: Bank) -> None:
    code = sberbank_format(bank)
    import_statement(bank.tenant, statement([Order(amount="495.00")]), "s.txt")
    first = import_registry(bank.tenant, sberbank(bank.pays(3)), "a.txt", code).registry
    assert first.status == "imported"  # 297.00 of 495.00: another registry may come
    assert matches([first])[first.pk].check is Check.DIFFERS
    second = import_registry(bank.tenant, sberbank(bank.pays(2, "B")), "b.txt", code).registry
    assert second.status == "imported"
    found = matches([first, second])
    assert {match.check for match in found.values()} == {Check.MATCHED}
    third = import_registry(bank.tenant, sberbank(bank.pays(1, "C")), "c.txt", code).registry
    assert third.status == "rejected"  # 594.00 would be more than the bank paid


@pytest.mark.django_db
def test_a_registry_sent_again_as_other_bytes_adds_nothing_to_its_order(bank: Bank) -> None:
    code = sberbank_format(bank)
    content = sberbank(bank.pays(3))
    first = import_registry(bank.tenant, content, "r.txt", code).registry
    import_statement(bank.tenant, statement([Order(amount="297.00")]), "s.txt")
    again = import_registry(bank.tenant, content.replace(b"\r\n", b"\n"), "r2.txt", code)
    copy = again.registry
    assert not again.already_imported
    assert (copy.status, copy.duplicates, copy.duplicate_transferred) == (
        "imported",
        3,
        Decimal("297.00"),
    )
    assert {match.check for match in matches([first, copy]).values()} == {Check.MATCHED}


@pytest.mark.django_db
def test_a_credit_kept_by_two_statements_counts_once(bank: Bank) -> None:
    registry = registry_of(bank)
    import_statement(bank.tenant, statement([Order(amount="290.00")]), "daily.txt")
    import_statement(bank.tenant, statement([Order(amount="290.00"), Order("2")]), "month.txt")
    assert matches([registry])[registry.pk].text == (
        "Differs: the bank statement credits 290.00 for the payment order; its registries say "
        "297.00 was transferred."
    )


@pytest.mark.django_db
def test_a_format_with_its_bank_s_inn_is_checked_against_that_bank_s_credits_only(
    bank: Bank,
) -> None:
    code = sberbank_format(bank, "7702070139")
    import_statement(bank.tenant, statement([Order(amount="1.00")]), "s.txt")  # Sberbank's
    imported = import_registry(bank.tenant, sberbank(bank.pays(3)), "r.txt", code).registry
    assert imported.status == "imported"
    assert matches([imported])[imported.pk].check is Check.AWAITED
    import_statement(
        bank.tenant, statement([Order(amount="297.00", payer_inn="7702070139")]), "vtb.txt"
    )
    assert matches([imported])[imported.pk].check is Check.MATCHED


@pytest.mark.django_db
def test_a_registry_without_a_payment_order_is_not_checked(bank: Bank) -> None:
    pays = [Pay("OP-1", "000001")]
    foot = "=1;100.00;99.00;1.00"
    registry = import_registry(bank.tenant, sberbank(pays, foot=foot), "r.txt", "sberbank").registry
    assert registry.status == "imported", registry.problem_texts()
    assert matches([registry])[registry.pk].text == (
        "Not checked: the registry names no payment order."
    )
    assert not registries_checked_as(Check.AWAITED, Registry.objects.all()).exists()
