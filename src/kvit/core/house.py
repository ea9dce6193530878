"""What the building-level rules share (spec 1.2, 2.8, 2.9, 2.16): the building and its
period figures, exact area fractions, and a volume spread over tariff segments.

Areas are exact: a premise's `S_i = area × share` is a `Fraction`, and so is `S_i / S_total`;
a derived volume is rounded once (`fround`) at the unit's scale (spec 4.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kvit.core.codes import CommonMeter, Resource, Rule
from kvit.core.consumption import split_by_days
from kvit.core.context import Job, Run, days, overlap
from kvit.core.dating import DateRange
from kvit.core.inputs import Account, Building, CommonHouseVolume, TariffVersion
from kvit.core.issues import Value, register_messages
from kvit.core.lines import Explanation
from kvit.core.money import prorate
from kvit.core.tariffs import price

BUILDING_MISSING = "building_missing"
HOUSE_VOLUME_MISSING = "house_volume_missing"

register_messages(
    {
        BUILDING_MISSING: {
            "en": "the account has no building with a total area (spec 1.2), which {rule} "
            "needs; the service is not charged",
            "ru": "у лицевого счёта нет дома с общей площадью помещений (п. 1.2), она нужна "
            "для расчёта ({rule}); услуга не начислена",
        },
        HOUSE_VOLUME_MISSING: {
            "en": "the building has a common-house {resource} meter but no house volumes for "
            "{period} (house meter, individual and non-residential volumes); the service is "
            "not charged",
            "ru": "в доме есть общедомовой прибор учёта ({resource}), но нет объёмов дома за "
            "{period} (ОДПУ, индивидуальные и нежилые); услуга не начислена",
        },
    }
)


def fround(value: Fraction, places: int) -> Decimal:
    """An exact fraction rounded once, half away from zero (spec 4.3)."""
    return prorate(Decimal(value.numerator), 1, value.denominator, places)


def premise_area(account: Account) -> Fraction:
    """`S_i = area × share`, exact (spec 1.4)."""
    return Fraction(account.area) * account.share


def building_of(run: Run, job: Job, rule: str) -> Building | None:
    """The account's building, or `None` with a `building_missing` error."""
    building = run.account.building
    if building is None or building.total_area <= 0:
        run.issue(BUILDING_MISSING, job, rule=rule)
        return None
    return building


def has_house_meter(building: Building | None, resource: Resource | None) -> bool:
    """A common-house meter is present for `resource` (spec 1.2)."""
    if building is None or resource is None:
        return False
    return building.common_meters.get(resource) is CommonMeter.PRESENT


def figures_of(
    run: Run, job: Job, building: Building, resource: Resource
) -> CommonHouseVolume | None:
    """The period's house figures for `resource`, or `None` with an error."""
    for found in building.volumes:
        if found.resource is resource:
            return found
    run.issue(HOUSE_VOLUME_MISSING, job, resource=resource.value, period=str(run.period))
    return None


@dataclass(frozen=True, slots=True)
class Piece:
    """A volume's share of one tariff segment (`version` None: no tariff on these days)."""

    span: DateRange
    version: TariffVersion | None
    volume: Decimal


def spread(
    run: Run, job: Job, spans: Sequence[DateRange], volume: Decimal, places: int
) -> list[Piece]:
    """`volume` over the tariff segments of the job inside `spans`, by days: `round` each,
    the last the remainder (spec 2.13), so the pieces add up exactly."""
    found: list[tuple[DateRange, TariffVersion | None]] = []
    for tariff_span, version in run.tariff_pieces(job):
        for span in spans:
            common = overlap(tariff_span, span)
            if common is not None:
                found.append((common, version))
    found.sort(key=lambda item: item[0].start)
    shares = split_by_days(volume, [days(span) for span, _ in found], places)
    return [
        Piece(span, version, share) for (span, version), share in zip(found, shares, strict=True)
    ]


def priced_lines(
    run: Run,
    job: Job,
    pieces: list[Piece],
    volume: Decimal,
    values: Mapping[str, Value],
    rule: Rule,
) -> None:
    """A line per piece at its tariff; the split by days is named when there are several."""
    whole_days = sum(days(piece.span) for piece in pieces)
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        version = piece.version
        if version is None or version.value is None:
            run.no_tariff(job, piece.span)
            continue
        piece_values = dict(values)
        if last:
            piece_values["volume"] = volume
            if index == last:
                piece_values["others"] = volume - piece.volume
            else:
                piece_values["segment_days"] = days(piece.span)
                piece_values["whole_days"] = whole_days
        run.line(
            job,
            piece.span,
            piece.volume,
            version.value,
            price(piece.volume, version.value),
            Explanation(rule, job.service.name, piece_values),
        )
