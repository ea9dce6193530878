"""kvit.core.qr: the GOST R 56042 payload of spec 5.2 (example 23), its rules and reading it
back."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kvit.core.periods import Period
from kvit.core.qr import (
    KEYS,
    OPTIONAL,
    REQUIRED,
    Payee,
    decode,
    encode,
    kopecks,
    parse_period,
    payment_requisites,
)

PAYEE = Payee(
    name="ТСЖ «Березка»",
    settlement_account="40703810938000012345",
    bank_name="ПАО СБЕРБАНК",
    bic="044525225",
    corr_account="30101810400000000225",
    inn="7701234567",
    kpp="770101001",
)
EXAMPLE_23 = (
    "ST00012|Name=ТСЖ «Березка»|PersonalAcc=40703810938000012345|BankName=ПАО СБЕРБАНК|"
    "BIC=044525225|CorrespAcc=30101810400000000225|Sum=535037|"
    "Purpose=Оплата ЖКУ за 04.2025, л/с 1002003|PayeeINN=7701234567|KPP=770101001|"
    "PersAcc=1002003|PaymPeriod=042025|TechCode=02"
)


def example_23(**changes: object) -> dict[str, str]:
    given: dict[str, object] = {
        "amount": Decimal("5350.37"),
        "purpose": "Оплата ЖКУ за 04.2025, л/с 1002003",
        "payer_account": "1002003",
        "period": Period(2025, 4),
    }
    given.update(changes)
    return payment_requisites(PAYEE, **given)  # type: ignore[arg-type]


def test_example_23_payload_and_lengths() -> None:
    payload = encode(example_23())
    assert payload == EXAMPLE_23
    assert len(payload) == 261
    assert len(payload.encode("utf-8")) == 297


def test_keys_are_the_spec_lists_in_order() -> None:
    assert REQUIRED == ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")
    assert KEYS[:5] == REQUIRED
    assert OPTIONAL[:3] == ("Sum", "Purpose", "PayeeINN")
    assert OPTIONAL[-1] == "TechCode"
    assert len(set(KEYS)) == len(KEYS)


def test_required_keys_first_then_optional_in_the_listed_order_whatever_the_input_order() -> None:
    given = dict(reversed(list(example_23().items())))
    assert encode(given) == EXAMPLE_23


def test_empty_optional_keys_are_left_out() -> None:
    payee = Payee("УК", "40702810900000000001", "БАНК", "044525225")
    payload = encode(payment_requisites(payee, tech_code=""))
    assert payload == (
        "ST00012|Name=УК|PersonalAcc=40702810900000000001|BankName=БАНК|BIC=044525225|CorrespAcc=0"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"settlement_account": "4070381093800001234"}, "PersonalAcc must be 20 digits"),
        ({"settlement_account": "4070381093800001234X"}, "PersonalAcc must be 20 digits"),
        ({"bic": "04452522"}, "BIC must be 9 digits"),
        ({"corr_account": "301018104000000002251"}, "CorrespAcc must be 1 to 20 digits"),
        ({"name": "Я" * 161}, "Name is 161 characters long, more than 160"),
        ({"bank_name": "Б" * 46}, "BankName is 46 characters long, more than 45"),
        ({"inn": "77012345670000"}, "PayeeINN must be 1 to 12 digits"),
        ({"kpp": "7701010010"}, "KPP is 10 characters long, more than 9"),
        ({"name": ""}, "Name is required"),
    ],
)
def test_payee_requisites_that_break_the_rules_are_refused(
    changes: dict[str, str], message: str
) -> None:
    fields = {
        "name": PAYEE.name,
        "settlement_account": PAYEE.settlement_account,
        "bank_name": PAYEE.bank_name,
        "bic": PAYEE.bic,
        "corr_account": PAYEE.corr_account,
        "inn": PAYEE.inn,
        "kpp": PAYEE.kpp,
    }
    fields.update(changes)
    payee = Payee(**fields)
    with pytest.raises(ValueError, match=message):
        encode(payment_requisites(payee, amount=Decimal("1.00")))


def test_a_value_with_the_separator_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("Purpose contains the separator '|'")):
        encode(example_23(purpose="ЖКУ | 04.2025"))


@pytest.mark.parametrize(
    ("requisites", "message"),
    [
        ({"Purpose": "П" * 211}, "Purpose is 211 characters long, more than 210"),
        ({"Sum": "12.50"}, "Sum must be 1 to 18 digits"),
        ({"AddAmount": "1" * 19}, "AddAmount must be 1 to 18 digits"),
        ({"TechCode": "2"}, "TechCode must be 2 digits"),
        ({"PaymPeriod": "13.2025"}, "PaymPeriod: '13.2025' is not a payment period"),
        ({"Unknown": "x", "Other": "y"}, "unknown QR keys: Other, Unknown"),
    ],
)
def test_optional_values_are_checked(requisites: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode({**example_23(), **requisites})


def test_keys_without_a_rule_are_emitted_as_given() -> None:
    payload = encode({**example_23(), "Phone": "+79990000000", "Flat": "12"})
    assert "|PersAcc=1002003|Flat=12|Phone=+79990000000|PaymPeriod=042025|" in payload


def test_other_encodings_set_the_flag_and_must_carry_every_value() -> None:
    assert encode(example_23(), "windows-1251").startswith("ST00011|Name=")
    with pytest.raises(ValueError, match="Name cannot be written in KOI8-R"):
        encode(example_23(), "KOI8-R")  # KOI8-R has no «»
    plain = {**example_23(), "Name": 'ТСЖ "Березка"'}
    assert encode(plain, "KOI8-R").startswith('ST00013|Name=ТСЖ "Березка"|')
    with pytest.raises(ValueError, match="unknown QR encoding 'latin-1'"):
        encode(example_23(), "latin-1")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(Decimal("5350.37"), "535037"), (Decimal("0"), "0"), (Decimal("12.5"), "1250")],
)
def test_sums_are_whole_kopecks(amount: Decimal, expected: str) -> None:
    assert kopecks(amount) == expected


@pytest.mark.parametrize("amount", [Decimal("-1.00"), Decimal("1.005")])
def test_negative_or_fractional_kopecks_are_refused(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="zero or more in whole kopecks"):
        kopecks(amount)


def test_a_float_sum_is_refused() -> None:
    with pytest.raises(TypeError):
        kopecks(5350.37)  # type: ignore[arg-type]


def test_decode_reads_back_what_encode_wrote() -> None:
    assert decode(EXAMPLE_23) == example_23()


def test_decode_matches_keys_case_insensitively_and_keeps_unknown_ones() -> None:
    found = decode("ST00012#name=УК#persAcc=77#paymPeriod=04.2025#Custom=1#Sum=")
    assert found == {
        "Name": "УК",
        "PersAcc": "77",
        "PaymPeriod": "04.2025",
        "Custom": "1",
        "Sum": "",
    }
    assert parse_period(found["PaymPeriod"]) == Period(2025, 4)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("ST0002|Name=x", "must start with ST0001"),
        ("ST0001", "must start with ST0001"),
        ("ST00019|Name=x", "unknown encoding flag '9'"),
        ("ST00012|Name=x|garbage", "QR part 'garbage' is not Key=Value"),
    ],
)
def test_decode_refuses_what_is_not_a_payload(payload: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode(payload)


@pytest.mark.parametrize(
    ("text", "period"),
    [("042025", Period(2025, 4)), ("04.2025", Period(2025, 4)), ("0425", Period(2025, 4))],
)
def test_payment_periods_in_every_accepted_form(text: str, period: Period) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["132025", "4.2025", "2025-04", "", "1325"])
def test_payment_periods_that_cannot_be_read(text: str) -> None:
    with pytest.raises(ValueError, match="is not a payment period"):
        parse_period(text)
