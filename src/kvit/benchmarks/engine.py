"""Throughput of the calculation engine: synthetic accounts through `rate()` on one core.

    python -m kvit.benchmarks.engine --accounts 20000 [--seed 1]

Builds N accounts in memory (deterministic for a seed), each with eight typical services
that share one catalogue and one `TariffBook` for 2025-07: maintenance, current repair and
capital repair per m², cold and hot water by meter, electricity day/night by meter, heating
by the norm per m², solid waste by the norm per person. The inputs are built before the
clock starts; only the rating loop is timed. Uses the public engine API only.

More than 1 % of accounts with ERROR issues means the synthetic inputs are broken: the
figure is then printed with a warning and the most common issue codes.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kvit.core.codes import Method, NormKind, Resource, Unit, Zone
from kvit.core.config import Config, config_on
from kvit.core.inputs import (
    Account,
    ConnectedService,
    Meter,
    NormVersion,
    PeriodInputs,
    Reading,
    Registration,
    Service,
    TariffVersion,
    ZonePrice,
)
from kvit.core.issues import Severity
from kvit.core.periods import Period
from kvit.core.rating import rate_all
from kvit.core.tariffs import TariffBook

PERIOD = Period(2025, 7)
LONG_AGO = date(2020, 1, 1)
PROVIDER = "provider-1"
TARGET = 150_000  # charge lines per second on one core
ERROR_SHARE_LIMIT = 0.01
PREVIOUS_READING = date(2025, 6, 20)  # in the window (25 May, 25 June]: the start reading
CURRENT_READING = date(2025, 7, 20)  # in the window (25 June, 25 July]: the end reading


def _flat(value: str) -> tuple[TariffVersion, ...]:
    return (TariffVersion(LONG_AGO, value=Decimal(value)),)


def catalogue() -> dict[str, Service]:
    """The one service catalogue every synthetic account shares."""
    services = (
        Service("maintenance", "Содержание", Unit.M2, Method.PER_AREA, tariffs=_flat("32.15")),
        Service(
            "current_repair", "Текущий ремонт", Unit.M2, Method.PER_AREA, tariffs=_flat("4.80")
        ),
        Service("capital_repair", "Капремонт", Unit.M2, Method.PER_AREA, tariffs=_flat("14.36")),
        Service(
            "cold_water",
            "ХВС",
            Unit.M3,
            Method.METERED,
            resource=Resource.COLD_WATER,
            tariffs=_flat("52.42"),
        ),
        Service(
            "hot_water",
            "ГВС",
            Unit.M3,
            Method.METERED,
            resource=Resource.HOT_WATER,
            tariffs=_flat("248.61"),
        ),
        Service(
            "electricity",
            "Электроэнергия",
            Unit.KWH,
            Method.TIME_OF_USE,
            resource=Resource.ELECTRICITY,
            tariffs=(
                TariffVersion(
                    LONG_AGO,
                    zones=(
                        ZonePrice(Zone.DAY, Decimal("7.52")),
                        ZonePrice(Zone.NIGHT, Decimal("3.41")),
                    ),
                ),
            ),
        ),
        Service(
            "heating",
            "Отопление",
            Unit.GCAL,
            Method.HEATING_BY_AREA,
            resource=Resource.HEAT,
            tariffs=_flat("3095.00"),
            norms=(NormVersion(NormKind.PER_AREA, Decimal("0.0205"), LONG_AGO),),
        ),
        Service(
            "solid_waste",
            "ТКО",
            Unit.M3,
            Method.NORM_PER_PERSON,
            tariffs=_flat("690.27"),
            norms=(NormVersion(NormKind.PER_PERSON, Decimal("0.183"), LONG_AGO),),
        ),
    )
    return {service.code: service for service in services}


def _reading_pair(
    rng: random.Random, serial: str, zone: Zone, start_max: int, used: tuple[int, int]
) -> tuple[Reading, Reading]:
    start = Decimal(rng.randint(0, start_max)) + Decimal(rng.randint(0, 999)) / 1000
    volume = Decimal(rng.randint(*used)) + Decimal(rng.randint(0, 999)) / 1000
    return (
        Reading(serial, zone, PREVIOUS_READING, start),
        Reading(serial, zone, CURRENT_READING, start + volume),
    )


def synthetic_inputs(
    index: int, rng: random.Random, services: Mapping[str, Service], config: Config
) -> PeriodInputs:
    """One account with its meters and the readings of June and July."""
    number = f"{1_000_000 + index}"
    area = Decimal(rng.randint(2_800, 9_500)) / 100
    persons = rng.randint(1, 4)
    connected = tuple(ConnectedService(code, PROVIDER, LONG_AGO) for code in services)
    account = Account(
        number,
        LONG_AGO,
        area,
        services=connected,
        rooms=rng.randint(1, 3),
        registrations=tuple(Registration(f"{number}-p{i}", LONG_AGO) for i in range(persons)),
    )
    cold, hot, power = f"{number}-cw", f"{number}-hw", f"{number}-el"
    meters = (
        Meter(cold, Resource.COLD_WATER, LONG_AGO),
        Meter(hot, Resource.HOT_WATER, LONG_AGO),
        Meter(power, Resource.ELECTRICITY, LONG_AGO, zones=(Zone.DAY, Zone.NIGHT)),
    )
    readings = (
        *_reading_pair(rng, cold, Zone.TOTAL, 900, (2, 4 * persons + 2)),
        *_reading_pair(rng, hot, Zone.TOTAL, 600, (1, 3 * persons + 1)),
        *_reading_pair(rng, power, Zone.DAY, 60_000, (60, 250)),
        *_reading_pair(rng, power, Zone.NIGHT, 30_000, (20, 120)),
    )
    return PeriodInputs(PERIOD, account, services, config, meters, readings)


def build(accounts: int, seed: int) -> list[PeriodInputs]:
    rng = random.Random(seed)  # noqa: S311 -- synthetic data, not security
    services = catalogue()
    config = config_on(PERIOD.first_day)
    return [synthetic_inputs(index, rng, services, config) for index in range(accounts)]


@dataclass(frozen=True, slots=True)
class Result:
    accounts: int
    lines: int
    issues: int
    error_accounts: int
    codes: Counter[str]
    seconds: float

    @property
    def per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


def run(batch: Sequence[PeriodInputs]) -> Result:
    started = time.perf_counter()
    ratings = rate_all(batch, TariffBook())
    seconds = time.perf_counter() - started
    codes: Counter[str] = Counter()
    error_accounts = 0
    for rating in ratings:
        codes.update(issue.code for issue in rating.issues)
        if any(issue.severity is Severity.ERROR for issue in rating.issues):
            error_accounts += 1
    return Result(
        accounts=len(batch),
        lines=sum(len(rating.lines) for rating in ratings),
        issues=sum(len(rating.issues) for rating in ratings),
        error_accounts=error_accounts,
        codes=codes,
        seconds=seconds,
    )


def report(result: Result) -> list[str]:
    met = "met" if result.per_second >= TARGET else "NOT met"
    out = [
        f"accounts:      {result.accounts:,}",
        f"charge lines:  {result.lines:,}",
        f"issues:        {result.issues:,} ({result.error_accounts:,} accounts with errors)",
        f"seconds:       {result.seconds:.3f}",
        f"lines/s:       {result.per_second:,.0f}",
        f"target:        ≥ {TARGET:,} lines/s ({met})",
    ]
    if result.accounts and result.error_accounts > ERROR_SHARE_LIMIT * result.accounts:
        common = ", ".join(f"{code} × {count:,}" for code, count in result.codes.most_common(5))
        share = 100 * result.error_accounts / result.accounts
        out.append(
            f"WARNING: {share:.1f} % of accounts have ERROR issues — the synthetic inputs are "
            f"broken, the figure is not meaningful; most common codes: {common}"
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    batch = build(args.accounts, args.seed)
    for line in report(run(batch)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
