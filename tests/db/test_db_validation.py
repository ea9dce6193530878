"""`kvit.db.validation.clean_fields` reports exactly what `Model.clean_fields` reports, and
a NUL in a text as Django's form fields report it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kvit.db.validation import NO_NUL, clean_fields, plainly_valid
from kvit.payments.models import Payment
from kvit.users.models import User

FOREIGN = ["tenant", "account", "provider", "created_by"]

texts = st.one_of(
    st.text(max_size=70),
    st.just(""),
    st.just("a\x00b"),
    st.integers(),
    st.none(),
)
decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.decimals(min_value=-(10**13), max_value=10**13, places=2),
    st.sampled_from(
        [Decimal("1E+12"), Decimal("1E+13"), Decimal("0.001"), Decimal("1.000"), Decimal("0E-5")]
    ),
    st.floats(allow_nan=False),
    st.none(),
)
days = st.one_of(st.dates(), st.datetimes(timezones=st.just(UTC)), st.text(max_size=12), st.none())


def errors(call: Any) -> dict[str, list[str]]:
    try:
        call()
    except ValidationError as error:
        return error.message_dict
    return {}


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@settings(max_examples=300, deadline=None)
@given(
    source=texts,
    external_id=texts,
    account_number=texts,
    document_kind=st.one_of(st.sampled_from([*Payment.DocumentKind.values, "fax"]), texts),
    amount=decimals,
    fee=decimals,
    paid_at=days,
    period=days,
    penalty_designated=st.one_of(st.booleans(), st.integers(0, 2), st.none()),
)
def test_the_same_errors_as_django(**values: Any) -> None:
    ours, django = Payment(**values), Payment(**values)
    expected = errors(lambda: django.clean_fields(exclude=FOREIGN))
    for name, value in values.items():  # what Django's model fields let through
        if isinstance(value, str) and "\x00" in value and name not in expected:
            expected[name] = [str(NO_NUL.message)]
    assert errors(lambda: clean_fields(ours, FOREIGN)) == expected
    assert [repr(getattr(ours, name)) for name in values] == [
        repr(getattr(django, name)) for name in values
    ]


@pytest.mark.parametrize(
    ("name", "value", "plain"),
    [
        ("amount", Decimal("123456789012.34"), True),
        ("amount", Decimal("1234567890123.4"), False),  # 13 whole digits of 12
        ("amount", Decimal("1.000"), False),  # three places, though it equals 1.00
        ("amount", 1, False),  # another type: Django converts it
        ("source", "x" * 40, True),
        ("source", "x" * 41, False),
        ("status", "posted", True),
        ("status", "lost", False),
        ("paid_at", datetime(2025, 6, 1, tzinfo=UTC), True),
        ("period", datetime(2025, 6, 1, tzinfo=UTC), False),  # a datetime for a date
        ("period", date(2025, 6, 1), True),
        ("account_number", "", True),  # may be blank
        ("external_id", "", False),  # may not
    ],
)
def test_what_is_plainly_valid(name: str, value: Any, plain: bool) -> None:
    assert plainly_valid(Payment._meta.get_field(name), value) is plain


def test_own_validators_are_left_to_django() -> None:
    assert not plainly_valid(User._meta.get_field("username"), "anna")


def test_a_nul_is_refused_in_the_words_of_a_form_field() -> None:
    payment = Payment(
        source="bank",
        external_id="OP-1",
        account_number="0001\x0002",
        paid_at=datetime(2025, 6, 1, tzinfo=UTC),
        amount=Decimal("10.00"),
        fee=Decimal("0.00"),
        net_amount=Decimal("10.00"),
        status="posted",
    )
    assert errors(lambda: payment.clean_fields(exclude=FOREIGN)) == {}  # Django lets it by
    assert errors(lambda: clean_fields(payment, FOREIGN)) == {
        "account_number": ["Null characters are not allowed."]
    }
