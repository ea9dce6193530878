"""Posting payments (kvit.payments.actions.post_payment / post_payments): allocation by the
rules of spec 3.4, idempotent replays, conflicts, suspense, validation, the cash desk.

The desk's account owes water 300.00 and heat 200.00 for January 2024 and water 150.00 for
February (other tests post their own); payments are made on 5 March 2024.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from payment_desk import FEB, JAN, MAR, PAID_AT, Desk, at, row_order

from kvit.core.periods import Period
from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches
from kvit.payments.actions import (
    Result,
    SplitPart,
    duplicated,
    post_cash_payment,
    post_payment,
    post_payments,
)
from kvit.payments.models import Payment, PaymentEvent, PaymentSplit

pytestmark = pytest.mark.django_db

PAID_ON = date(2024, 3, 5)


def billed(desk: Desk) -> None:
    desk.charge("300.00", JAN)
    desk.charge("200.00", JAN, desk.heat_service)
    desk.charge("150.00", FEB)


def money(text: str) -> Decimal:
    return Decimal(text)


# --- allocation (spec 3.4) ----------------------------------------------------------------------


def test_a_partial_payment_settles_the_oldest_period_split_by_what_was_billed(
    desk: Desk,
) -> None:
    billed(desk)
    outcome = post_payment(desk.record("400.00"), user=desk.user)
    assert outcome.result is Result.POSTED
    payment = outcome.payment
    # January owes 500.00: 400.00 is split 300 : 200 → 240.00 and 160.00; February waits.
    assert desk.entries(payment) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-160.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", money("-240.00")),
    ]
    assert balance(desk.account) == money("250.00")
    assert balance_mismatches(desk.tenant) == []
    stored = Payment.objects.get()
    assert (stored.status, stored.account, stored.net_amount) == (
        "posted",
        desk.account,
        money("400.00"),
    )
    entries = LedgerEntry.objects.filter(source_id=str(payment.pk), kind="payment")
    assert {e.posted_on for e in entries} == {PAID_ON}  # penalties go by the payment date
    assert {e.created_by for e in entries} == {desk.user}
    assert {e.explanation["allocation"] for e in entries} == {"oldest_first"}
    assert [e.kind for e in stored.events.all()] == ["posted"]
    assert stored.events.get().by == desk.user


def test_penalties_are_paid_after_all_principal(desk: Desk) -> None:
    billed(desk)
    desk.charge("20.00", JAN, kind="penalty")
    outcome = post_payment(desk.record("660.00"))
    # All principal (300 + 200 + 150 = 650.00) first, then 10.00 of the January penalty.
    assert desk.entries(outcome.payment) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-200.00")),
        ("Vodokanal", "water", JAN, None, "payment", "penalty", money("-10.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", money("-300.00")),
        ("Vodokanal", "water", FEB, None, "payment", "principal", money("-150.00")),
    ]
    # The next payment meets only the 10.00 of penalty still open, then becomes an advance.
    second = post_payment(desk.record("15.00"))
    assert desk.entries(second.payment) == [
        ("Vodokanal", None, MAR, None, "payment", "advance", money("-5.00")),
        ("Vodokanal", "water", JAN, None, "payment", "penalty", money("-10.00")),
    ]
    assert balance(desk.account) == money("-5.00")


def test_a_payment_designated_for_penalties_pays_them_first(desk: Desk) -> None:
    billed(desk)
    desk.charge("20.00", JAN, kind="penalty")
    outcome = post_payment(desk.record("50.00", penalty_designated=True))
    assert desk.entries(outcome.payment) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-12.00")),
        ("Vodokanal", "water", JAN, None, "payment", "penalty", money("-20.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", money("-18.00")),
    ]


def test_an_overpayment_is_an_advance_that_the_next_charges_use_up_first(desk: Desk) -> None:
    desk.charge("300.00", JAN)
    desk.charge("200.00", JAN, desk.heat_service)
    first = post_payment(desk.record("600.00"))
    # 100.00 left: split over the providers as they billed in the latest period, 300 : 200.
    assert desk.entries(first.payment) == [
        ("Teplo", None, MAR, None, "payment", "advance", money("-40.00")),
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-200.00")),
        ("Vodokanal", None, MAR, None, "payment", "advance", money("-60.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", money("-300.00")),
    ]
    desk.charge("150.00", FEB)
    second = post_payment(desk.record("100.00"))
    # Water's advance of 60.00 already covers 60.00 of February: the payment meets the 90.00
    # left, and its last 10.00 is water's advance (February's bill was all water).
    assert desk.entries(second.payment) == [
        ("Vodokanal", None, MAR, None, "payment", "advance", money("-10.00")),
        ("Vodokanal", "water", FEB, None, "payment", "principal", money("-90.00")),
    ]
    assert balance(desk.account, provider=desk.water) == money("-10.00")
    assert balance(desk.account, provider=desk.heat) == money("-40.00")


def test_a_named_period_is_paid_first(desk: Desk) -> None:
    billed(desk)
    outcome = post_payment(desk.record("200.00", period=Period(2024, 2)))
    # February's 150.00 first, the 50.00 left oldest first: January split 300 : 200.
    assert desk.entries(outcome.payment) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-20.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", money("-30.00")),
        ("Vodokanal", "water", FEB, None, "payment", "principal", money("-150.00")),
    ]


def test_an_explicit_split_is_applied_as_given(desk: Desk) -> None:
    billed(desk)
    split = (SplitPart(desk.heat.pk, desk.heat_service.pk, "120.00"),)
    outcome = post_payment(desk.record("150.00", split=split))
    # 120.00 to heat as given; the 30.00 the split leaves goes the usual way: January
    # split 300 : 200, so heat gets 12.00 more.
    assert desk.entries(outcome.payment) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-12.00")),
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-120.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", money("-18.00")),
    ]
    rules = {e.explanation["allocation"] for e in LedgerEntry.objects.filter(kind="payment")}
    assert rules == {"explicit_split", "oldest_first"}
    assert list(PaymentSplit.objects.values_list("provider", "service", "amount")) == [
        (desk.heat.pk, desk.heat_service.pk, money("120.00"))
    ]
    assert outcome.allocation is not None
    assert [issue.code for issue in outcome.allocation.issues] == ["allocation_split_short"]


def test_a_payment_for_one_provider_stays_with_it(desk: Desk) -> None:
    billed(desk)
    outcome = post_payment(desk.record("250.00", provider_id=desk.heat.pk))
    assert desk.entries(outcome.payment) == [
        ("Teplo", None, MAR, None, "payment", "advance", money("-50.00")),
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-200.00")),
    ]


def test_a_named_open_period_keeps_the_advance(desk: Desk) -> None:
    outcome = post_payment(desk.record("70.00", period=Period(2024, 2)))
    assert desk.entries(outcome.payment) == []  # nothing owed and no provider: suspense
    assert outcome.result is Result.SUSPENSE
    desk.charge("10.00", JAN)
    outcome = post_payment(desk.record("70.00", period=Period(2024, 2)))
    assert desk.entries(outcome.payment) == [
        ("Vodokanal", None, FEB, None, "payment", "advance", money("-60.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", money("-10.00")),
    ]


def test_a_debt_of_a_closed_period_is_settled_in_the_first_open_one(desk: Desk) -> None:
    billed(desk)
    close_period(desk.tenant, JAN, desk.user)
    outcome = post_payment(desk.record("100.00"))
    assert desk.entries(outcome.payment) == [
        ("Teplo", "heat", FEB, JAN, "payment", "principal", money("-40.00")),
        ("Vodokanal", "water", FEB, JAN, "payment", "principal", money("-60.00")),
    ]
    # The next payment still sees January's debt as it stands (the entries count for it).
    second = post_payment(desk.record("400.00"))
    assert desk.entries(second.payment) == [
        ("Teplo", "heat", FEB, JAN, "payment", "principal", money("-160.00")),
        ("Vodokanal", "water", FEB, JAN, "payment", "principal", money("-240.00")),
    ]


def test_the_real_recalculation_runs_and_leaves_hand_made_charges_alone(desk: Desk) -> None:
    billed(desk)
    post_payment(desk.record("100.00"))
    assert LedgerEntry.objects.exclude(kind="payment").count() == 3


# --- replays ------------------------------------------------------------------------------


def test_a_replay_posts_nothing_and_reports_a_duplicate(desk: Desk) -> None:
    billed(desk)
    record = desk.record("400.00", split=(SplitPart(desk.water.pk, desk.water_service.pk, "1"),))
    first = post_payment(record)
    before = (LedgerEntry.objects.count(), balance(desk.account))
    again = post_payment(record)
    assert again.result is Result.DUPLICATE
    assert again.payment == first.payment
    assert again.entries == 0 and again.differences == ()
    assert "already recorded" in again.message
    assert (LedgerEntry.objects.count(), balance(desk.account)) == before
    assert Payment.objects.count() == 1
    assert PaymentEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "differences"),
    [
        ({"amount": Decimal("401.00")}, ("amount",)),
        ({"account_number": "000999", "fee": Decimal("1.00")}, ("account_number", "fee")),
        ({"paid_at": at(date(2024, 3, 6))}, ("paid_at",)),
        ({"period": Period(2024, 1), "penalty_designated": True}, ("period", "penalty_designated")),
        ({"split": ()}, ("split",)),
    ],
)
def test_a_replay_with_other_content_is_a_conflict_and_changes_nothing(
    desk: Desk, changes: dict[str, Any], differences: tuple[str, ...]
) -> None:
    billed(desk)
    record = desk.record(
        "400.00", split=(SplitPart(desk.water.pk, desk.water_service.pk, "400.00"),)
    )
    first = post_payment(record)
    before = (LedgerEntry.objects.count(), balance(desk.account))
    outcome = post_payment(record._replace(**changes))
    assert outcome.result is Result.CONFLICT
    assert outcome.differences == differences
    assert outcome.payment == first.payment
    assert "nothing was changed" in outcome.message
    stored = Payment.objects.get()
    assert (stored.amount, stored.account_number, stored.fee) == (
        money("400.00"),
        desk.account.number,
        money("0.00"),
    )
    assert (LedgerEntry.objects.count(), balance(desk.account)) == before


def test_duplicated_names_the_payment_a_record_repeats_exactly(desk: Desk) -> None:
    billed(desk)
    split = (SplitPart(desk.water.pk, desk.water_service.pk, "400.00"),)
    record = desk.record("400.00", split=split)
    plain = desk.record("50.00")
    _first, second = post_payments([record, plain])
    fresh = desk.record("400.00")
    records = [
        record,  # a split: left to posting, which compares it
        record._replace(split=()),
        plain,
        plain._replace(external_id=f" {plain.external_id} "),
        plain._replace(amount="50.01"),
        plain._replace(amount="fifty"),
        plain._replace(source="other-bank"),
        plain._replace(period=Period(2024, 1)),
        plain._replace(account_number="other"),
        plain._replace(paid_at=plain.paid_at + timedelta(seconds=1)),
        plain._replace(penalty_designated=True),
        fresh,
    ]
    with CaptureQueriesContext(connection) as one:
        duplicated(records[2:3])
    with CaptureQueriesContext(connection) as captured:
        found = duplicated(records)
    two = second.payment.pk
    assert found == [None, None, two, two, None, None, None, None, None, None, None, None]
    assert len(captured) == len(one)  # one COPY and one query, whatever the number
    # what `duplicated` calls a duplicate, posting calls one too; the rest are not
    outcomes = post_payments(records[:5] + records[7:11])
    assert [o.result for o in outcomes] == [
        Result.DUPLICATE,
        Result.CONFLICT,
        Result.DUPLICATE,
        Result.DUPLICATE,
        Result.CONFLICT,
        Result.CONFLICT,
        Result.CONFLICT,
        Result.CONFLICT,
        Result.CONFLICT,
    ]


def test_duplicated_leaves_what_a_payment_cannot_hold_to_posting(desk: Desk) -> None:
    """Too many digits or kopecks, a key too long, a NUL: never cut, rounded or equal to
    what is recorded, and `duplicated` never fails on them; posting reports the others."""
    billed(desk)
    plain = desk.record("50.00")
    posted = post_payment(plain).payment.pk
    wrong = [
        plain._replace(amount=Decimal("5" + "0" * 20)),
        plain._replace(amount=Decimal("50.001")),
        plain._replace(account_number=plain.account_number + "0" * 300),
        plain._replace(external_id=plain.external_id + "0" * 300),
    ]
    assert duplicated([plain, *wrong]) == [posted, None, None, None, None]
    # PostgreSQL takes no NUL in a text: the batch is left to posting whole
    assert duplicated([plain, plain._replace(account_number="12\x003")]) in (
        [None, None],  # PostgreSQL
        [posted, None],  # SQLite
    )
    for record in wrong:
        with pytest.raises(ValidationError):
            post_payment(record)


def test_a_replay_in_the_hour_a_clock_goes_back_is_a_duplicate(desk: Desk) -> None:
    """02:30 on 27 October 2024 happened twice in Berlin; the second time (fold=1) is an
    instant like any other, and its replay is no conflict."""
    billed(desk)
    berlin = ZoneInfo("Europe/Berlin")
    paid_at = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=berlin)
    record = desk.record("100.00", paid_at=paid_at)
    first = post_payment(record)
    assert duplicated([record]) == [first.payment.pk]
    again = post_payment(record)
    assert (again.result, again.differences) == (Result.DUPLICATE, ())


def test_a_batch_posts_like_one_payment_after_the_other(make: Any, desk: Desk) -> None:
    billed(desk)
    records = [
        desk.record("100.00"),
        desk.record("450.00", external_id="twice"),
        desk.record("450.00", external_id="twice"),
        desk.record("999.00", external_id="twice"),
        desk.record("300.00", account_number="nobody"),
        desk.record("250.00"),
    ]
    outcomes = post_payments(records, user=desk.user)
    assert [o.result for o in outcomes] == [
        Result.POSTED,
        Result.POSTED,
        Result.DUPLICATE,
        Result.CONFLICT,
        Result.SUSPENSE,
        Result.POSTED,
    ]
    assert outcomes[2].payment.pk == outcomes[1].payment.pk
    posted = [o for o in outcomes if o.result is Result.POSTED]
    batch = sorted((e for o in posted for e in desk.entries(o.payment)), key=row_order)
    serial = Desk(**{**desk.__dict__, "account": make.account(desk.account.premise)})
    billed(serial)
    one_by_one = []
    for record in (records[0], records[1], records[5]):
        outcome = post_payment(
            record._replace(
                external_id=f"serial-{record.external_id}",
                account_number=serial.account.number,
            )
        )
        one_by_one += serial.entries(outcome.payment)
    assert batch == sorted(one_by_one, key=row_order)
    assert balance(desk.account) == balance(serial.account) == money("-150.00")


def test_a_batch_costs_the_same_queries_for_few_payments_or_many(desk: Desk) -> None:
    billed(desk)

    def queries(count: int) -> int:
        records = [desk.record("1.00") for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            post_payments(records)
        return len(captured)

    assert queries(3) == queries(12)


# --- suspense -----------------------------------------------------------------------------


def test_an_unknown_account_sends_the_payment_to_suspense(desk: Desk) -> None:
    billed(desk)
    outcome = post_payment(desk.record("100.00", account_number=" 000999 "))
    assert outcome.result is Result.SUSPENSE
    payment = Payment.objects.get()
    assert (payment.status, payment.suspense_reason, payment.account, payment.account_number) == (
        "suspense",
        "unknown_account",
        None,
        "000999",
    )
    assert "suspense" in outcome.message
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert [e.kind for e in payment.events.all()] == ["suspense"]


def test_an_account_closed_on_the_payment_date_sends_it_to_suspense(desk: Desk) -> None:
    billed(desk)
    type(desk.account).objects.filter(pk=desk.account.pk).update(closed_on=PAID_ON)
    outcome = post_payment(desk.record("100.00"))
    assert (outcome.result, outcome.payment.suspense_reason) == (Result.SUSPENSE, "closed_account")
    assert outcome.payment.account == desk.account  # kept: the operator sees which one
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    # Paid the day before it closed: posted.
    assert post_payment(desk.record("1.00", paid_at=at(date(2024, 3, 4)))).result is Result.POSTED


def test_an_account_with_nothing_owed_and_nobody_to_credit_sends_it_to_suspense(
    make: Any, desk: Desk
) -> None:
    outcome = post_payment(desk.record("100.00"))
    assert (outcome.result, outcome.payment.suspense_reason) == (Result.SUSPENSE, "no_provider")
    assert Payment.objects.get().status == "suspense"
    # With a connected service, the advance goes to its provider.
    make.account_service(desk.account, desk.heat_service, desk.heat)
    outcome = post_payment(desk.record("100.00"))
    assert desk.entries(outcome.payment) == [
        ("Teplo", None, MAR, None, "payment", "advance", money("-100.00"))
    ]


def test_an_advance_of_an_account_owing_nothing_goes_to_its_first_service_of_the_day(
    make: Any, desk: Desk
) -> None:
    """Water comes first in the service order but is connected only from 10 March, after
    an earlier connection that ended on 1 March; heating is connected throughout."""
    make.account_service(desk.account, desk.heat_service, desk.heat)
    make.account_service(
        desk.account,
        desk.water_service,
        desk.water,
        effective_from=date(2024, 1, 1),
        effective_to=date(2024, 3, 1),
    )
    make.account_service(
        desk.account, desk.water_service, desk.water, effective_from=date(2024, 3, 10)
    )
    other = make.account(desk.account.premise)  # nothing connected: suspense
    days = [date(2024, 3, 5), date(2024, 3, 12), date(2024, 3, 10), date(2024, 3, 9)]
    records = [desk.record("10.00", paid_at=at(day)) for day in days]
    records.append(desk.record("10.00", account_number=other.number))
    with CaptureQueriesContext(connection) as captured:
        outcomes = post_payments(records)
    providers = [
        LedgerEntry.objects.get(source_id=str(o.payment.pk)).provider.name for o in outcomes[:4]
    ]
    assert providers == ["Teplo", "Vodokanal", "Vodokanal", "Teplo"]
    assert outcomes[4].result is Result.SUSPENSE
    assert outcomes[4].payment.suspense_reason == "no_provider"
    # one look-up of the connections per payment day, not per payment
    looked_up = [q for q in captured if '"accounts_accountservice"' in q["sql"]]
    assert len(looked_up) == len(set(days))


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": Decimal("0.00")}, "amount", "must be positive"),
        ({"amount": Decimal("-5.00")}, "amount", "must be positive"),
        ({"amount": Decimal("1.005")}, "amount", "2 decimal places"),
        ({"fee": Decimal("-1.00")}, "fee", "cannot be negative"),
        ({"fee": Decimal("101.00")}, "fee", "more than the amount"),
        ({"external_id": "  "}, "external_id", "cannot be blank"),
        ({"source": ""}, "source", "cannot be blank"),
        ({"paid_at": datetime(2024, 3, 5, 12)}, "paid_at", "time zone"),
        ({"split": (SplitPart(1, 1, "-1.00"),)}, "split", "zero or more"),
    ],
)
def test_an_invalid_record_is_refused_with_a_clear_message(
    desk: Desk, changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        post_payment(desk.record("100.00")._replace(**changes))
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])
    assert not Payment.objects.exists()


def test_a_float_amount_is_refused(desk: Desk) -> None:
    with pytest.raises(ValidationError, match="decimal numbers"):
        post_payment(desk.record()._replace(amount=100.0))


def test_a_batch_with_an_invalid_record_is_refused_as_a_whole(desk: Desk) -> None:
    billed(desk)
    with pytest.raises(ValidationError) as error:
        post_payments([desk.record("10.00"), desk.record("0.00"), desk.record("10.00")])
    assert error.value.messages == [
        "Payment 2: amount: A payment amount must be positive, not 0.00."
    ]
    assert not Payment.objects.exists()


def test_another_organisations_provider_or_service_is_refused(make: Any, desk: Desk) -> None:
    other = make.tenant()
    stranger = make.provider(other)
    with pytest.raises(ValidationError, match="provider of another organisation"):
        post_payment(desk.record(provider_id=stranger.pk))
    service = make.service(other)
    with pytest.raises(ValidationError, match="service of another organisation"):
        post_payment(desk.record(split=(SplitPart(desk.water.pk, service.pk, "1.00"),)))
    with pytest.raises(ValidationError, match="one organisation"):
        post_payments([desk.record(), desk.record(tenant_id=other.pk)])
    assert not Payment.objects.exists()


def test_nothing_open_to_post_into_refuses_and_records_nothing(desk: Desk) -> None:
    billed(desk)
    for period in (JAN, FEB, MAR):
        close_period(desk.tenant, period, desk.user)
    with pytest.raises(ValidationError, match="No billing period is open"):
        post_payment(desk.record("10.00"))
    assert not Payment.objects.exists()
    open_period(desk.tenant, date(2024, 4, 1))
    outcome = post_payment(desk.record("10.00"))  # the same key, now: posted into April
    assert {e[2:4] for e in desk.entries(outcome.payment)} == {(date(2024, 4, 1), JAN)}


# --- the cash desk ------------------------------------------------------------------------


def test_the_cash_desk_posts_a_receipt_once(desk: Desk) -> None:
    billed(desk)
    cashier = desk.make.user(desk.tenant, "cashier")
    outcome = post_cash_payment(desk.account, "100.00", "R-0001", cashier, PAID_AT)
    payment = outcome.payment
    assert (outcome.result, payment.source, payment.external_id) == (
        Result.POSTED,
        "cash",
        "R-0001",
    )
    assert (payment.document_kind, payment.document_number, payment.created_by) == (
        "cash_receipt",
        "R-0001",
        cashier,
    )
    again = post_cash_payment(desk.account, "100.00", "R-0001", cashier, PAID_AT)
    assert again.result is Result.DUPLICATE
    other = post_cash_payment(desk.account, "90.00", "R-0001", cashier, PAID_AT)
    assert (other.result, other.differences) == (Result.CONFLICT, ("amount",))
    assert balance(desk.account) == money("550.00")
    heat = post_cash_payment(
        desk.account,
        "10.00",
        "R-0002",
        cashier,
        PAID_AT,
        provider=desk.heat,
        period=Period(2024, 1),
    )
    assert desk.entries(heat.payment) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", money("-10.00"))
    ]
