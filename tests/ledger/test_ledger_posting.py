"""Posting entries, opening and closing billing periods, and reversals (kvit.ledger.actions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from ledger_books import FEB, JAN, MAR, Books

from kvit.ledger import actions
from kvit.ledger.actions import close_period, open_period, post_entries, reverse_entry
from kvit.ledger.models import AccountBalance, BillingPeriod, LedgerEntry
from kvit.ledger.queries import balance, cached_balance

pytestmark = pytest.mark.django_db


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> tuple[list[str], list[str]]:
    """The codes and messages of a raised ValidationError."""
    errors = error.value.error_list
    return [e.code or "" for e in errors], error.value.messages


# --- posting ----------------------------------------------------------------------------------


def test_posting_inserts_the_entries_and_adds_them_to_the_cached_balance(books: Books) -> None:
    posted = post_entries(
        [
            books.entry(amount=Decimal("100.00")),
            books.entry(amount=Decimal("20.50"), quantity=Decimal("1.5"), unit="m3"),
            books.entry(provider=books.heat, service=books.heat_service, amount=Decimal("7.00")),
            books.entry(kind="payment", service=None, amount=Decimal("-50.00")),
        ]
    )
    assert [e.pk is not None for e in posted] == [True] * 4
    assert LedgerEntry.objects.count() == 4
    rows = {
        (b.provider_id, b.service_id): b.amount
        for b in AccountBalance.objects.filter(account=books.account)
    }
    assert rows == {
        (books.water.pk, books.water_service.pk): Decimal("120.50"),
        (books.heat.pk, books.heat_service.pk): Decimal("7.00"),
        (books.water.pk, None): Decimal("-50.00"),
    }
    assert balance(books.account) == cached_balance(books.account) == Decimal("77.50")


def test_posting_nothing_does_nothing(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert post_entries([]) == []


def test_a_posting_costs_the_same_queries_for_one_entry_or_many(
    books: Books, django_assert_num_queries: Any
) -> None:
    # savepoint, the references (account, provider, service; corrects: none here), the
    # period lock, the insert, the balance rows (PostgreSQL: one upsert; SQLite:
    # insert-ignore, lock, update), release
    queries = 8 if connection.vendor == "postgresql" else 10
    with django_assert_num_queries(queries):
        post_entries([books.entry()])
    with django_assert_num_queries(queries):
        post_entries([books.entry(amount=Decimal(n)) for n in range(1, 31)])


def test_a_posting_is_all_or_nothing(books: Books) -> None:
    with pytest.raises(ValidationError) as error:
        post_entries([books.entry(), books.entry(amount=Decimal("1.005"))])
    assert refusal(error)[1] == [
        "Entry 2: amount: Ensure that there are no more than 2 decimal places."
    ]
    assert not LedgerEntry.objects.exists()
    assert not AccountBalance.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"period": date(2024, 1, 15)}, "period: A period is given by the first day of its month."),
        ({"kind": "gift"}, "kind: Value 'gift' is not a valid choice."),
        ({"kind": "reversal"}, "corrects: A reversal names the entry it reverses."),
        (
            {"span_from": date(2024, 1, 10), "span_to": date(2024, 1, 10)},
            "covers to: “Covers to” must be later than “covers from”.",
        ),
        (
            {"corrects_period": JAN},
            "corrects period: A correction posted in 2024-01 corrects an earlier period.",
        ),
    ],
)
def test_a_row_that_breaks_a_rule_is_refused_with_its_number(
    books: Books, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        post_entries([books.entry(), books.entry(**fields)])
    assert refusal(error)[1] == [f"Entry 2: {message}"]


def test_a_posted_entry_is_not_posted_again(books: Books) -> None:
    entry = books.post()
    with pytest.raises(ValidationError) as error:
        post_entries([entry])
    assert refusal(error)[1] == ["Entry 1: it is already posted."]


def test_entries_of_two_tenants_are_not_posted_together(make: Any, books: Books) -> None:
    other = make.account(make.premise(make.building(make.tenant())))
    entries = [books.entry(), books.entry(tenant=other.tenant, account=other)]
    with pytest.raises(ValidationError) as error:
        post_entries(entries)
    assert refusal(error)[0] == ["one_tenant"]


@pytest.mark.parametrize("field", ["account", "provider", "service"])
def test_a_reference_to_another_tenants_row_is_refused(make: Any, books: Books, field: str) -> None:
    other = make.tenant()
    foreign = {
        "account": lambda: make.account(make.premise(make.building(other))),
        "provider": lambda: make.provider(other),
        "service": lambda: make.service(other),
    }[field]()
    with pytest.raises(ValidationError) as error:
        post_entries([books.entry(**{field: foreign})])
    assert refusal(error)[0] == ["other_tenant"]
    assert not LedgerEntry.objects.exists()


def test_a_correction_of_another_tenants_entry_is_refused(make: Any, books: Books) -> None:
    stranger = make.entry(make.account(make.premise(make.building(make.tenant()))))
    with pytest.raises(ValidationError) as error:
        post_entries([books.entry(kind="reversal", corrects=stranger, amount=Decimal(-100))])
    assert refusal(error)[0] == ["other_tenant"]


def test_the_clean_method_names_a_foreign_reference(make: Any, books: Books) -> None:
    entry = books.entry(provider=make.provider(make.tenant()))
    with pytest.raises(ValidationError) as error:
        entry.clean()
    assert error.value.message_dict == {
        "provider": ["The provider belongs to another organisation."]
    }


def test_nothing_is_posted_into_a_period_that_was_never_opened(books: Books) -> None:
    with pytest.raises(ValidationError) as error:
        post_entries([books.entry(), books.entry(period=FEB)])
    assert refusal(error) == (
        ["period_not_open"],
        ["The period 2024-02 is not open: open it before posting into it."],
    )
    assert not LedgerEntry.objects.exists()


def test_nothing_is_posted_into_a_closed_period(books: Books) -> None:
    books.post()
    close_period(books.tenant, JAN, books.user)
    with pytest.raises(ValidationError) as error:
        books.post()
    assert refusal(error) == (
        ["period_closed"],
        ["The period 2024-01 is closed: post a correction into an open period instead."],
    )
    open_period(books.tenant, FEB)
    correction = books.post(period=FEB, kind="recalculation", corrects_period=JAN, amount=-5)
    assert correction.obligation_period == JAN
    assert balance(books.account) == Decimal("95.00")


def test_the_database_refuses_a_period_that_is_not_a_first_day(books: Books) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create([books.entry(period=date(2024, 1, 2))])
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingPeriod.objects.create(tenant=books.tenant, period=date(2024, 5, 9))


def test_the_database_refuses_a_reversal_without_the_reversed_entry(books: Books) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create([books.entry(kind="reversal")])


# --- billing periods --------------------------------------------------------------------------


def test_opening_an_open_period_again_returns_it(books: Books) -> None:
    first = BillingPeriod.objects.get(tenant=books.tenant, period=JAN)
    assert open_period(books.tenant, JAN) == first
    assert BillingPeriod.objects.filter(tenant=books.tenant).count() == 1


def test_a_period_is_the_first_day_of_a_month(books: Books, clean_errors: Any) -> None:
    with pytest.raises(ValidationError) as error:
        open_period(books.tenant, date(2024, 2, 2))
    assert refusal(error)[0] == ["not_first_day"]
    with pytest.raises(ValidationError) as error:
        close_period(books.tenant, date(2024, 1, 31), books.user)
    assert refusal(error)[0] == ["not_first_day"]
    wrong = BillingPeriod(tenant=books.tenant, period=date(2024, 2, 2))
    assert clean_errors(wrong) == {"__all__": ["A period is given by the first day of its month."]}


def test_closing_records_who_and_when(books: Books) -> None:
    at = datetime(2024, 2, 3, 12, tzinfo=UTC)
    closed = close_period(books.tenant, JAN, books.user, at=at)
    assert (closed.status, closed.closed_by, closed.closed_at) == ("closed", books.user, at)
    assert str(closed) == "2024-01"
    assert closed.history.first().history_type == "~"


def test_a_closed_period_is_not_closed_again_nor_reopened(books: Books) -> None:
    close_period(books.tenant, JAN, books.user)
    with pytest.raises(ValidationError) as error:
        close_period(books.tenant, JAN, books.user)
    assert refusal(error) == (["already_closed"], ["The period 2024-01 is already closed."])
    with pytest.raises(ValidationError) as error:
        open_period(books.tenant, JAN)
    assert refusal(error)[0] == ["period_closed"]


def test_periods_close_in_order(books: Books) -> None:
    open_period(books.tenant, FEB)
    with pytest.raises(ValidationError) as error:
        close_period(books.tenant, FEB, books.user)
    assert refusal(error) == (
        ["earlier_open"],
        ["Close the earlier period 2024-01 first: periods are closed in order."],
    )
    close_period(books.tenant, JAN, books.user)
    close_period(books.tenant, FEB, books.user)


def test_a_period_before_a_closed_one_cannot_be_opened(books: Books) -> None:
    close_period(books.tenant, JAN, books.user)
    with pytest.raises(ValidationError) as error:
        open_period(books.tenant, date(2023, 11, 1))
    assert refusal(error) == (
        ["before_closed"],
        ["The period 2023-11 cannot be opened: the later period 2024-01 is closed."],
    )
    assert open_period(books.tenant, MAR).is_open  # a gap after the closed ones is fine


def test_closing_a_period_that_does_not_exist(books: Books) -> None:
    with pytest.raises(ValidationError) as error:
        close_period(books.tenant, MAR, books.user)
    assert refusal(error)[0] == ["no_period"]


def test_periods_are_per_tenant(make: Any, books: Books) -> None:
    other = make.tenant()
    close_period(books.tenant, JAN, books.user)
    assert open_period(other, date(2023, 12, 1)).is_open


# --- reversals --------------------------------------------------------------------------------


def test_a_reversal_negates_the_entry_in_its_own_open_period(books: Books) -> None:
    charge = books.post(
        quantity=Decimal("3.5"),
        unit="m3",
        tariff=Decimal("28.571429"),
        rule="metered",
        zone="total",
        span_from=JAN,
        span_to=FEB,
        source_kind="bill_run",
        source_id="7",
    )
    reversal = reverse_entry(charge, books.user, "wrong meter", posted_on=date(2024, 1, 31))
    assert reversal.kind == "reversal"
    assert (reversal.amount, reversal.quantity) == (Decimal("-100.00"), Decimal("-3.5"))
    assert (reversal.period, reversal.corrects_period, reversal.corrects) == (JAN, None, charge)
    key = ("provider_id", "service_id", "rule", "zone", "tier", "span_from", "span_to")
    assert [getattr(reversal, f) for f in key] == [getattr(charge, f) for f in key]
    assert (reversal.reason, reversal.created_by) == ("wrong meter", books.user)
    assert balance(books.account) == cached_balance(books.account) == Decimal("0.00")


def test_a_reversal_of_a_closed_periods_entry_goes_into_the_earliest_open_period(
    books: Books,
) -> None:
    charge = books.post()
    close_period(books.tenant, JAN, books.user)
    with pytest.raises(ValidationError) as error:
        reverse_entry(charge, books.user, "duplicate")
    assert refusal(error)[0] == ["no_open_period"]
    open_period(books.tenant, MAR)
    open_period(books.tenant, FEB)
    reversal = reverse_entry(charge, books.user, "duplicate")
    assert (reversal.period, reversal.corrects_period) == (FEB, JAN)


def test_a_reversal_may_go_into_a_named_open_period(books: Books) -> None:
    charge = books.post()
    close_period(books.tenant, JAN, books.user)
    open_period(books.tenant, FEB)
    open_period(books.tenant, MAR)
    reversal = reverse_entry(charge, books.user, "duplicate", period=MAR)
    assert (reversal.period, reversal.corrects_period) == (MAR, JAN)


def test_an_entry_is_reversed_once(books: Books) -> None:
    charge = books.post()
    reversal = reverse_entry(charge, books.user, "wrong")
    with pytest.raises(ValidationError) as error:
        reverse_entry(charge, books.user, "again")
    assert refusal(error) == (["reversed"], ["This entry has already been reversed."])
    with pytest.raises(ValidationError) as error:
        reverse_entry(reversal, books.user, "undo")
    assert refusal(error)[0] == ["reversal"]


def test_the_database_reverses_an_entry_once_even_when_the_check_is_passed(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reversals at once both pass the check; the unique constraint refuses the second
    (forced here into the gap between the check and the insert)."""
    charge = books.post()
    reverse_entry(charge, books.user, "first")
    answers = iter([False])  # the check says "not reversed yet"; then the truth
    real = actions._is_reversed
    monkeypatch.setattr(actions, "_is_reversed", lambda e: next(answers, None) or real(e))
    with pytest.raises(ValidationError) as error:
        reverse_entry(charge, books.user, "second")
    assert refusal(error)[0] == ["reversed"]
    assert charge.corrections.count() == 1


def test_another_integrity_error_of_a_reversal_is_not_hidden(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    charge = books.post()

    def broken(entries: Any) -> Any:
        raise IntegrityError("something else")

    monkeypatch.setattr(actions, "post_entries", broken)
    with pytest.raises(IntegrityError, match="something else"):
        reverse_entry(charge, books.user, "x")


def test_a_reversal_of_a_correction_keeps_the_corrected_period(books: Books) -> None:
    close_period(books.tenant, JAN, books.user)
    open_period(books.tenant, FEB)
    recalculation = books.post(
        period=FEB, kind="recalculation", corrects_period=JAN, amount=Decimal("-10.00")
    )
    reversal = reverse_entry(recalculation, books.user, "wrong tariff")
    assert (reversal.period, reversal.corrects_period) == (FEB, JAN)
    assert reversal.amount == Decimal("10.00")
