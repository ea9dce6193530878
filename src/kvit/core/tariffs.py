"""Tariff kinds and their lookups: flat, per zone, tiered blocks, norms (spec 1.7, 2.11, 2.12).

`TariffBook` finds, once per batch, which tariff version (and which norm rows) apply on
which days of a period for a service, so a chunk of accounts does not repeat the search;
the rating rules then clip those pieces to each account's days. Prices are exact products
rounded once with `money.round2` (spec 4.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from fractions import Fraction
from itertools import pairwise

from kvit.core.codes import NormKind
from kvit.core.dating import DateRange
from kvit.core.inputs import NormVersion, Service, TariffVersion, Tier
from kvit.core.money import prorate, round2
from kvit.core.periods import Period

# Products of a quantity and a tariff are exact before the single rounding, whatever the
# caller's decimal context (a 12-digit volume times an 18-digit tariff needs 30 digits).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
ZERO = Decimal(0)


def times(*factors: Decimal) -> Decimal:
    """The exact product."""
    product = Decimal(1)
    for factor in factors:
        product = _EXACT.multiply(product, factor)
    return product


def price(quantity: Decimal, tariff: Decimal) -> Decimal:
    """`round2(V × T)`: one charge line (spec 2.1, 4.1)."""
    return round2(_EXACT.multiply(quantity, tariff))


@dataclass(frozen=True, slots=True)
class TariffPiece:
    """Days of a period on which one tariff version applies (`None`: no tariff at all)."""

    span: DateRange
    version: TariffVersion | None


@dataclass(frozen=True, slots=True)
class NormPiece:
    """Days of a period on which the same norm rows of one kind apply."""

    span: DateRange
    rows: tuple[NormVersion, ...]


def _cuts(period: Period, spans: Iterable[DateRange]) -> list[DateRange]:
    first, end = period.first_day, period.end
    points = {first, end}
    for span in spans:
        points.add(min(max(span.start, first), end))
        if span.end is not None:
            points.add(min(max(span.end, first), end))
    ordered = sorted(points)
    return [DateRange(a, b) for a, b in pairwise(ordered)]


class TariffBook:
    """Tariff and norm pieces per (service, group or kind, period), computed once per batch.

    Keys hold the service object itself (compared by identity), so one book may serve
    several catalogues; pass the same book to every `rating.rate` call of a bill run.
    """

    __slots__ = ("_norms", "_tariffs")

    def __init__(self) -> None:
        self._tariffs: dict[tuple[int, str, Period], tuple[Service, tuple[TariffPiece, ...]]] = {}
        self._norms: dict[tuple[int, NormKind, Period], tuple[Service, tuple[NormPiece, ...]]] = {}

    def tariffs(self, service: Service, group: str, period: Period) -> tuple[TariffPiece, ...]:
        """The tariff versions over the period; the group's own, else the general ones."""
        key = (id(service), group, period)
        cached = self._tariffs.get(key)
        if cached is None:
            versions = [v for v in service.tariffs if v.group == group] or [
                v for v in service.tariffs if v.group == ""
            ]
            pieces = tuple(
                TariffPiece(cut, next((v for v in versions if v.span.contains(cut.start)), None))
                for cut in _cuts(period, (v.span for v in versions))
            )
            cached = self._tariffs[key] = (service, pieces)
        return cached[1]

    def norms(self, service: Service, kind: NormKind, period: Period) -> tuple[NormPiece, ...]:
        """The norm rows of `kind` over the period, cut wherever a row starts or ends."""
        key = (id(service), kind, period)
        cached = self._norms.get(key)
        if cached is None:
            rows = [n for n in service.norms if n.kind is kind]
            pieces = tuple(
                NormPiece(cut, tuple(n for n in rows if n.span.contains(cut.start)))
                for cut in _cuts(period, (n.span for n in rows))
            )
            cached = self._norms[key] = (service, pieces)
        return cached[1]


def norm_for(rows: Sequence[NormVersion], rooms: int, persons: int) -> NormVersion | None:
    """The norm row for a premise with `rooms` and `persons` (0 in a row = any).

    The closest row from below wins on each axis, rooms first: a 4-room flat uses the
    3-room row when the table stops at 3, six persons use the "5" row (spec 1.7).
    """
    room_rows = [n for n in rows if n.rooms <= rooms]
    if not room_rows:
        return None
    best_rooms = max(n.rooms for n in room_rows)
    person_rows = [n for n in room_rows if n.rooms == best_rooms and n.persons <= persons]
    if not person_rows:
        return None
    return max(person_rows, key=lambda n: n.persons)


@dataclass(frozen=True, slots=True)
class Block:
    """One marginal block of a tiered volume (spec 2.11): `index` counts from 1; `tier` is
    the tier it falls in (its zone prices, 2.11 with 2.12)."""

    index: int
    lower: Decimal
    upper: Decimal | None
    quantity: Decimal
    value: Decimal
    tier: Tier


def blocks(
    volume: Decimal, tiers: Sequence[Tier], days: int, period_days: int, places: int
) -> list[Block]:
    """`volume` cut into marginal blocks: `V_k = min(max(V − b_{k−1}, 0), b_k − b_{k−1})`.

    Bounds are monthly; on a part of a month (`days < period_days`: a tariff change, an
    account opening) each bound is prorated, `round(b × days / D)` at the volume's scale
    [DECISION]. The last tier is open whatever its bound says. Blocks with nothing in them
    are left out, except the first, so a zero volume still gives one line.
    """
    ordered = sorted(tiers, key=lambda t: (t.upper_bound is None, t.upper_bound or ZERO))
    found: list[Block] = []
    lower = ZERO
    for index, tier in enumerate(ordered, start=1):
        bound = None if index == len(ordered) else tier.upper_bound
        if bound is not None and days != period_days:
            bound = prorate(bound, days, period_days, places)
        rest = max(volume - lower, ZERO)
        quantity = rest if bound is None else min(rest, bound - lower)
        if quantity > 0 or index == 1:
            found.append(Block(index, lower, bound, quantity, tier.value, tier))
        if bound is None or volume <= bound:
            break
        lower = bound
    return found


def zone_shares(
    volume: Decimal, total: Decimal, found: Sequence[Block], places: int
) -> list[Decimal]:
    """A zone's `volume` across the blocks `found` of all zones' `total`, in proportion
    (spec 2.11, a multi-zone meter with tiers): `round(V_z × V_k / V)` at the volume's scale,
    the last block the remainder, so the shares add up exactly to `volume`. A rounded share
    never takes more than is left, so none has the other sign; a negative volume (a true-up
    credit, 2.7) is split as its absolute value and negated."""
    if volume < 0:
        return [-share for share in zone_shares(-volume, total, found, places)]
    shares: list[Decimal] = []
    rest = volume
    for block in found[:-1]:  # more than one block: `total` is positive
        exact = Fraction(volume) * Fraction(block.quantity) / Fraction(total)
        share = min(prorate(Decimal(exact.numerator), 1, exact.denominator, places), rest)
        shares.append(share)
        rest -= share
    shares.append(rest)
    return shares
