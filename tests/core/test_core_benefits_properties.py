"""kvit.core benefits (2.16), properties (Hypothesis): a benefit is never positive, never
exceeds its base charge, and the base charge never exceeds what the service charged. No
database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from test_core_rating_builders import (
    LONG_AGO,
    account,
    area_service,
    flat,
    inputs,
    meter,
    metered_service,
    norm,
    reading,
)

from kvit.core.codes import LineKind, Resource
from kvit.core.inputs import BenefitGrant, Registration
from kvit.core.rating import rate

MONEY = st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-2))
RATES = st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-4))


@given(
    area=st.integers(100, 30_000).map(lambda n: Decimal(n).scaleb(-2)),
    tariff=MONEY,
    tariff_cold=MONEY,
    norm_value=st.integers(0, 20_000).map(lambda n: Decimal(n).scaleb(-3)),
    volume=st.integers(0, 100_000).map(lambda n: Decimal(n).scaleb(-3)),
    people=st.integers(1, 7),
    data=st.data(),
)
def test_a_benefit_never_exceeds_its_base_charge(
    area: Decimal,
    tariff: Decimal,
    tariff_cold: Decimal,
    norm_value: Decimal,
    volume: Decimal,
    people: int,
    data: st.DataObject,
) -> None:
    joins = data.draw(st.lists(st.integers(2, 31), max_size=3))
    registrations = tuple(Registration(f"p{i}", LONG_AGO) for i in range(people)) + tuple(
        Registration(f"q{i}", date(2025, 7, day)) for i, day in enumerate(joins)
    )
    everyone = [r.person for r in registrations]
    beneficiaries = data.draw(st.lists(st.sampled_from(everyone), unique=True, max_size=4))
    grants = tuple(
        BenefitGrant(
            person,
            data.draw(st.sampled_from(["veteran", "disabled"])),
            data.draw(RATES),
            ("maintenance", "cold_water"),
            data.draw(st.sampled_from([LONG_AGO, date(2025, 7, 10)])),
        )
        for person in beneficiaries
    )
    maintenance = area_service("maintenance", flat(str(tariff)))
    cold = metered_service(
        Resource.COLD_WATER, flat(str(tariff_cold)), norms=(norm(str(norm_value)),)
    )
    acc = account(
        "maintenance", "cold_water", area=str(area), registrations=registrations, benefits=grants
    )
    rating = rate(
        inputs(
            acc,
            [maintenance, cold],
            [meter("C", Resource.COLD_WATER)],
            [reading("C", date(2025, 6, 25), "0"), reading("C", date(2025, 7, 25), str(volume))],
        )
    )
    assert rating.issues == ()
    for line in rating.lines:
        if line.kind is LineKind.BENEFIT:
            base = line.explanation.values["base_charge"]
            assert isinstance(base, Decimal)
            charged = sum(
                (
                    other.amount
                    for other in rating.lines
                    if other.kind is LineKind.CHARGE and other.service == line.service
                ),
                Decimal(0),
            )
            assert Decimal(0) < -line.amount <= base <= charged
