"""What happens to a premise or a house during the seeded year.

The first premises of each tenant get one forced story each, so even the smallest demo
shows every case; after that stories are drawn with realistic frequencies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Story:
    co_owned: bool = False  # several owners of one account, shares adding up to 1
    share_accounts: bool = False  # co-owners with a separate account each
    sale: bool = False  # the owner sells; one family moves out, another in
    move_out: bool = False
    move_in: bool = False  # a baby is born
    temporary: bool = False  # a temporary registration with an end date
    empty: bool = False  # nobody registered
    benefit: bool = False
    replaced: str = ""  # the resource whose meter is replaced mid-month
    rollover: bool = False  # an old 4-digit electricity meter wraps past 9999
    hot_water_act: bool = False  # a hot water meter is technically impossible (act on file)
    no_cold_meter: bool = False  # no cold water meter although possible: norm × 1.5
    two_zones: bool = False  # a day/night electricity meter
    failed: bool = False  # the cold water meter fails late in the year


HOUSING_FORCED = (
    Story(rollover=True),
    Story(replaced="cold_water"),
    Story(co_owned=True),
    Story(share_accounts=True),
    Story(sale=True),
    Story(benefit=True),
    Story(move_out=True),
    Story(move_in=True),
    Story(hot_water_act=True),
    Story(no_cold_meter=True),
    Story(temporary=True),
    Story(empty=True),
    Story(replaced="electricity"),
    Story(co_owned=True, benefit=True),
    Story(failed=True),
)

ENERGY_FORCED = (
    Story(two_zones=True),
    Story(rollover=True),
    Story(replaced="electricity"),
    Story(sale=True),
    Story(benefit=True),
    Story(move_out=True, two_zones=True),
    Story(move_in=True),
    Story(co_owned=True),
    Story(temporary=True),
    Story(replaced="electricity", two_zones=True),
)


def housing_story(index: int, rng: random.Random) -> Story:
    if index < len(HOUSING_FORCED):
        return HOUSING_FORCED[index]
    r = rng.random()
    ownership = (
        "co_owned" if r < 0.12 else
        "share_accounts" if r < 0.14 else
        "sale" if r < 0.17 else ""
    )  # fmt: skip
    draw = rng.random
    return Story(
        co_owned=ownership == "co_owned",
        share_accounts=ownership == "share_accounts",
        sale=ownership == "sale",
        move_out=draw() < 0.04,
        move_in=draw() < 0.03,
        temporary=draw() < 0.02,
        empty=draw() < 0.03,
        benefit=draw() < 0.06,
        replaced=rng.choice(("cold_water", "hot_water", "electricity")) if draw() < 0.03 else "",
        rollover=draw() < 0.002,
        hot_water_act=draw() < 0.02,
        no_cold_meter=draw() < 0.015,
        failed=draw() < 0.003,
    )


def energy_story(index: int, rng: random.Random) -> Story:
    if index < len(ENERGY_FORCED):
        return ENERGY_FORCED[index]
    draw = rng.random
    return Story(
        co_owned=draw() < 0.1,
        sale=draw() < 0.01,
        move_out=draw() < 0.04,
        move_in=draw() < 0.03,
        temporary=draw() < 0.01,
        benefit=draw() < 0.04,
        replaced="electricity" if draw() < 0.02 else "",
        rollover=draw() < 0.003,
        two_zones=draw() < 0.25,
    )
