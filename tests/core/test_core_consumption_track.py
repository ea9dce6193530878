"""The reading history the averaging and true-up rules walk: rollovers are counted (2.2)."""

from datetime import date
from decimal import Decimal

from kvit.core.codes import Resource, Zone
from kvit.core.config import config_on
from kvit.core.consumption import track
from kvit.core.inputs import Meter, Reading

METER = Meter("E-1", Resource.ELECTRICITY, date(2024, 1, 1), integer_digits=5, fraction_digits=0)
CONFIG = config_on(date(2025, 7, 1))


def reading(day: int, month: int, value: str) -> Reading:
    return Reading("E-1", Zone.TOTAL, date(2025, month, day), Decimal(value))


def test_a_rollover_within_the_limit_is_counted_and_one_beyond_it_is_skipped() -> None:
    chain = [
        reading(25, 3, "99850"),
        reading(25, 4, "120"),  # 270 kWh through 100000: a rollover (limit 10000)
        reading(25, 5, "60"),  # 99940 through 100000: beyond the limit, not usable
        reading(25, 6, "400"),
        reading(25, 7, "100000"),  # at the capacity: cannot be shown, not usable
    ]
    history = track(METER, chain, CONFIG)
    assert [r.value for r in history.readings] == [Decimal(v) for v in ("99850", "120", "400")]
    assert history.rollovers == (0, 1, 1)
    assert history.capacity == Decimal(100000)
