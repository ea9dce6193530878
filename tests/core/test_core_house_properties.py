"""kvit.core common-house needs (2.8), properties (Hypothesis): with the norm cap on, a
premise's share never exceeds `round3(N_soi × S_common × S_i / S_total)`, is never negative,
and the lines of the month add up to the share. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from test_core_rating_builders import account, flat, inputs, norm

from kvit.core.codes import CommonMeter, Method, NormKind, Resource, Unit
from kvit.core.config import config_on
from kvit.core.inputs import Building, CommonHouseVolume, Service
from kvit.core.money import round3
from kvit.core.rating import rate

CARRY = config_on(date(2025, 7, 1), {"negative_odn_mode": "carry_forward"})
ZERO = config_on(date(2025, 7, 1), {"negative_odn_mode": "zero"})


def decimals(top: int, places: int, bottom: int = 0) -> st.SearchStrategy[Decimal]:
    return st.integers(bottom, top * 10**places).map(lambda n: Decimal(n).scaleb(-places))


@given(
    odpu=decimals(50_000, 3),
    individual=decimals(50_000, 3),
    nonresidential=decimals(5_000, 3),
    carried=decimals(1_000, 3).map(lambda x: -x),
    total_area=decimals(20_000, 2, bottom=100),
    common_area=decimals(2_000, 2, bottom=1),
    area_share=st.fractions(Fraction(1, 1000), Fraction(1, 2)),
    norm_value=decimals(5, 4),
    share=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(1, 3), Fraction(2, 7)]),
    zero_mode=st.booleans(),
    tariff_change=st.integers(1, 31),
)
def test_capped_shares_never_exceed_the_cap(
    odpu: Decimal,
    individual: Decimal,
    nonresidential: Decimal,
    carried: Decimal,
    total_area: Decimal,
    common_area: Decimal,
    area_share: Fraction,
    norm_value: Decimal,
    share: Fraction,
    zero_mode: bool,
    tariff_change: int,
) -> None:
    area = round(Decimal(area_share.numerator) / area_share.denominator * total_area, 2)
    change = date(2025, 7, tariff_change)
    service = Service(
        "soi",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43", end=change), flat("7.10", start=change)),
        norms=(norm(str(norm_value), NormKind.PER_COMMON_AREA),),
    )
    building = Building(
        total_area,
        common_area,
        common_meters={Resource.ELECTRICITY: CommonMeter.PRESENT},
        volumes=(
            CommonHouseVolume(Resource.ELECTRICITY, odpu, individual, nonresidential, carried),
        ),
    )
    acc = account("soi", area=str(area), share=share, building=building)
    rating = rate(inputs(acc, [service], config=ZERO if zero_mode else CARRY))
    assert rating.issues == ()
    total = sum((line.quantity for line in rating.lines), Decimal(0))
    exact_cap = Fraction(norm_value) * Fraction(common_area) * Fraction(area) * share
    cap = round3(Decimal(exact_cap.numerator) / Decimal(exact_cap.denominator))
    assert Decimal(0) <= total <= cap
    for line in rating.lines:
        assert line.quantity >= 0
        assert line.amount >= 0
    (carry,) = rating.carried
    assert carry.volume <= 0
