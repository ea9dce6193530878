"""What the engine proposes: charge lines, each with a structured explanation (spec 1.9, 4).

A `ChargeLine` is one rounded amount for account × provider × service × period × kind ×
tariff segment × zone or tier. Its `Explanation` keeps the rule that produced it, the named
inputs and intermediate values, and the readings behind a metered volume, so a document, a
support screen or an auditor can re-tell the calculation (`explain.render`) without
recomputing it. Names of `values` per rule are listed in docs/engine.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from kvit.core.codes import LineKind, Resource, Rule, Unit, Zone
from kvit.core.dating import DateRange
from kvit.core.inputs import Reading
from kvit.core.issues import Issue, Value
from kvit.core.periods import Period

LineKey = tuple[str, str, Period, LineKind, str, str, int, date, date | None]


@dataclass(frozen=True, slots=True)
class RegisterVolume:
    """The volume of one meter register between two accepted readings (spec 2.1–2.3).

    `volume = (end − start + rollovers × capacity) × ratio`, exact as entered. `steps` are
    the accepted readings after `start` up to `end`, each with the rollovers counted up to
    it, so the volume can be cut at a reading taken on a tariff change date (2.13).
    """

    meter: str
    zone: Zone
    start: Reading
    end: Reading
    rollovers: int
    capacity: Decimal
    ratio: Decimal
    volume: Decimal
    steps: tuple[tuple[Reading, int], ...] = ()
    fraction_digits: int = 3  # how the meter shows readings, for explanations


@dataclass(frozen=True, slots=True)
class Estimate:
    """A register's volume estimated by its average (spec 2.3, 2.4):
    `volume = round3(average × days / period_days)` (`average` itself on a whole month).

    `average = round3(Σ V_actual / k)` over `periods` (the `k` months whose volume came from
    two actual readings); `reason` is why (`no_reading`, `meter_failed`,
    `verification_expired`, `replacement_gap`); `number` counts the consecutive estimated
    periods of the same cause up to this one, `limit` is how many are allowed (`None`: no
    limit; a replacement gap has number and limit 0).
    """

    meter: str
    zone: Zone
    reason: str
    average: Decimal
    periods: tuple[Period, ...]
    days: int
    period_days: int
    volume: Decimal
    number: int = 0
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a line has its amount: `rule`, named `values`, and where the volume came from.

    `sources` are the meter registers behind a metered volume; `estimates` the registers
    estimated by average and `average_periods` the periods the averages were taken over
    (2.4); `estimated` the estimated periods a true-up settles (2.7); `corrects` and
    `reason` say which period a recalculation corrects and why (2.7, 2.14).
    """

    rule: Rule
    service_name: str = ""
    values: Mapping[str, Value] = field(default_factory=dict)
    sources: tuple[RegisterVolume, ...] = ()
    average_periods: tuple[Period, ...] = ()
    corrects: Period | None = None
    reason: str = ""
    estimates: tuple[Estimate, ...] = ()
    estimated: tuple[Period, ...] = ()


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One proposed ledger line. `amount` is rounded once (spec 4.1); `span` is the days of
    the period it covers; `zone` ("" when not zone-specific) and `tier` (0 when not tiered)
    tell lines of the same segment apart."""

    account: str
    provider: str
    service: str
    period: Period
    kind: LineKind
    quantity: Decimal
    unit: Unit
    tariff: Decimal
    amount: Decimal
    explanation: Explanation
    span: DateRange
    zone: str = ""
    tier: int = 0

    @property
    def key(self) -> LineKey:
        """What identifies the line for recompute-and-diff (matches `inputs.PostedLine`)."""
        return (
            self.provider,
            self.service,
            self.period,
            self.kind,
            self.explanation.rule.value,
            self.zone,
            self.tier,
            self.span.start,
            self.span.end,
        )


@dataclass(frozen=True, slots=True)
class HouseCarry:
    """The negative common-house volume of `resource` to carry into the next month (2.8,
    `negative_odn_mode = carry_forward`; 0 when nothing is carried). Every account of the
    building reports the same value; the bill run keeps one per building and resource and
    passes it back as `CommonHouseVolume.carried_negative` next month."""

    resource: Resource
    volume: Decimal


@dataclass(frozen=True, slots=True)
class Rating:
    """The engine's answer for one account and period: lines, and the problems found.

    `carried`: the common-house carries for the next month (2.8). `reported`: benefit lines
    that are only reported, not posted (`benefit_mode = compensation_report`, 2.16).
    `volumes`: the premise's own volume of each resource as billed this period (metered,
    average, norm without the ×K repeat, a true-up of this period, less a temporary
    absence; not common-house or house-meter heating shares, not sewerage, not
    recalculations of earlier periods): what the house balance adds up (2.8,
    `house_balance.py`). Read-only; no entry for a resource with no such volume.
    """

    lines: tuple[ChargeLine, ...]
    issues: tuple[Issue, ...]
    carried: tuple[HouseCarry, ...] = ()
    reported: tuple[ChargeLine, ...] = ()
    volumes: Mapping[Resource, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        """Σ amounts; never rounded again (spec 4.1)."""
        return sum((line.amount for line in self.lines), Decimal(0))
