"""Ownership shares: each in (0, 1], and together 1 on every date (spec 1.5)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from kvit.core.dating import DateRange
from kvit.core.ownership import Share
from kvit.people.models import Ownership
from kvit.people.queries import premise_share_errors, share_errors

pytestmark = pytest.mark.django_db

D1, D2, D3 = date(2024, 1, 1), date(2024, 6, 1), date(2025, 1, 1)
SHARE_RULE = "A share must be greater than 0 and at most 1."


def messages(errors: list[Any]) -> list[str]:
    return [message for error in errors for message in error.messages]


def test_shares_adding_up_to_one_have_no_errors(make: Any, premise: Any) -> None:
    make.ownership(premise, share_numerator=1, share_denominator=2)
    make.ownership(premise, share_numerator=2, share_denominator=4)
    assert premise_share_errors(premise.pk) == []


def test_a_sale_on_a_date_has_no_errors(make: Any, premise: Any) -> None:
    make.ownership(premise, effective_from=D1, effective_to=D2)
    make.ownership(premise, effective_from=D2)
    assert premise_share_errors(premise.pk) == []


def test_errors_name_the_total_and_the_dates(make: Any, premise: Any) -> None:
    make.ownership(premise, share_numerator=1, share_denominator=2, effective_from=D1)
    make.ownership(
        premise, share_numerator=1, share_denominator=3, effective_from=D1, effective_to=D2
    )
    assert messages(premise_share_errors(premise.pk)) == [
        "Ownership shares add up to 5/6 from 2024-01-01 to 2024-06-01; "
        "they must add up to 1 on every date.",
        "Ownership shares add up to 1/2 from 2024-06-01 to open-ended; "
        "they must add up to 1 on every date.",
    ]


def test_a_gap_between_owners_is_an_error(make: Any, premise: Any) -> None:
    make.ownership(premise, effective_from=D1, effective_to=D2)
    make.ownership(premise, effective_from=D3)
    [error] = premise_share_errors(premise.pk)
    assert error.code == "shares_sum"
    assert error.messages == [
        "Ownership shares add up to 0 from 2024-06-01 to 2025-01-01; "
        "they must add up to 1 on every date."
    ]


def test_only_the_premise_own_shares_count(make: Any, building: Any) -> None:
    first, second = make.premise(building), make.premise(building)
    make.ownership(first, share_numerator=1, share_denominator=2)
    make.ownership(second, share_numerator=1, share_denominator=2)
    assert len(premise_share_errors(first.pk)) == 1
    assert premise_share_errors(make.premise(building).pk) == []  # no owners recorded


def test_share_errors_accepts_plain_shares() -> None:
    shares = [Share(3, 4, DateRange(D1, D2))]
    [error] = share_errors(iter(shares))
    assert "add up to 3/4 from 2024-01-01 to 2024-06-01" in error.messages[0]


@pytest.mark.parametrize(
    ("numerator", "denominator"), [(0, 1), (0, 5), (2, 1), (4, 3)], ids=["0", "0/5", "2", "4/3"]
)
def test_a_share_is_more_than_0_and_at_most_1(
    make: Any, premise: Any, clean_errors: Any, numerator: int, denominator: int
) -> None:
    ownership = Ownership(
        premise=premise,
        owner=make.person(premise.tenant),
        effective_from=D1,
        share_numerator=numerator,
        share_denominator=denominator,
    )
    assert clean_errors(ownership) == {"share_numerator": [SHARE_RULE]}
    with pytest.raises(IntegrityError), transaction.atomic():
        ownership.save()


def test_a_zero_denominator_is_refused(make: Any, premise: Any, clean_errors: Any) -> None:
    ownership = Ownership(
        premise=premise,
        owner=make.person(premise.tenant),
        effective_from=D1,
        share_numerator=1,
        share_denominator=0,
    )
    assert clean_errors(ownership) == {
        "share_denominator": ["The denominator must be greater than zero."]
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        ownership.save()


def test_a_whole_premise_is_a_valid_share(make: Any, premise: Any) -> None:
    ownership = make.ownership(premise, share_numerator=7, share_denominator=7)
    assert Ownership.objects.get(pk=ownership.pk).share == Fraction(1)


def test_a_person_inn_is_checked(make: Any, tenant: Any, clean_errors: Any) -> None:
    person = make.person(tenant, inn="500100732259")
    person.inn = "500100732258"
    assert list(clean_errors(person)) == ["inn"]
    assert "INN" in clean_errors(person)["inn"][0]


@pytest.mark.parametrize("field", ["share_numerator", "share_denominator"])
def test_a_missing_share_part_is_a_field_error_not_a_crash(
    make: Any, premise: Any, clean_errors: Any, field: str
) -> None:
    ownership = Ownership(premise=premise, owner=make.person(premise.tenant), effective_from=D1)
    setattr(ownership, field, None)
    assert list(clean_errors(ownership)) == [field]
