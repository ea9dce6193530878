"""Benefits (льготы, spec 2.16): `benefit = round2(rate × base_charge)`, a negative line.

* Area-based services (`per_area`, `norm_per_area`, `heating_by_area`,
  `common_house_by_area`): `base_area = min(S_premise, S_social(n)) × n_beneficiaries /
  n_registered`, `S_social` 33 / 42 / 18 × n m² (`BenefitGrant.social_area`, overridable);
  `base_charge` is the service's own charge computed on `base_area` instead of the
  premise's area, with the same roundings (per m²: `round2(A × T × d / D)`; by norm:
  `round2(round6(A × N × d / D) × T)`; by a house meter or common-house needs: the share of
  `A` with its cap). When persons or beneficiaries change during the period the days are
  cut where they change and the base charge is the sum over the pieces.
* Per-person services (norm per person, metered, sewerage):
  `base_volume = round3(min(V_actual / n_registered, N) × n_beneficiaries)`,
  `base_charge = round2(base_volume × T)`. `V_actual` is the volume billed this period (after
  an absence recalculation), `N` the per-person norm for the household. With person-days
  (1.6) this is `round3(Σ_beneficiary-days min(V_actual / person-days, N / D))`, the same
  thing when nothing changes. [DECISION] When the volume was billed on several lines (zones,
  tiers, tariff segments), the base volume is split over them in proportion to their
  volumes (`round3`, remainder last) and each part priced at its line's tariff; the base
  charge is the sum of those rounded parts.

Beneficiaries of one category and rate make one line (`zone` = the category, so the lines
of several categories stay apart; `tier` numbers further rates of one category). A grant
counts on the days its person is registered on the account; a group's social norm of
area is its first grant's. `benefit_mode = discount`
posts the lines; `compensation_report` puts the same lines in `Rating.reported` only.
A fixed per-account service has no base defined (`benefit_not_defined`); a rate outside
0–1 is refused (`benefit_rate_invalid`); a per-person service needs its per-person norm
(`benefit_no_norm`, e.g. sewerage needs its own norm rows for benefits).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from kvit.core.codes import LineKind, Method, NormKind, Rule
from kvit.core.common_house import house_of, pieces_of
from kvit.core.context import Job, Run, days, overlap, share_text
from kvit.core.dating import DateRange
from kvit.core.heating import by_house_meter, heat_pieces, heated, house_heat
from kvit.core.house import Piece, fround, premise_area
from kvit.core.inputs import BenefitGrant
from kvit.core.issues import Severity, Value, register_messages
from kvit.core.lines import ChargeLine, Explanation
from kvit.core.money import round2
from kvit.core.norms import segments
from kvit.core.tariffs import ZERO, norm_for, price, times

BENEFIT_NOT_DEFINED = "benefit_not_defined"
BENEFIT_RATE_INVALID = "benefit_rate_invalid"
BENEFIT_NO_NORM = "benefit_no_norm"
COMPENSATION_REPORT = "compensation_report"

register_messages(
    {
        BENEFIT_NOT_DEFINED: {
            "en": "the benefit “{category}” lists a service billed per account ({method}); "
            "spec 2.16 defines no base charge for it, so no benefit is given",
            "ru": "льгота «{category}» указана для услуги с оплатой за лицевой счёт "
            "({method}); п. 2.16 не определяет для неё базу, льгота не предоставлена",
        },
        BENEFIT_RATE_INVALID: {
            "en": "the benefit “{category}” of {person} has the rate {rate}, outside 0–1; "
            "no benefit is given",
            "ru": "у льготы «{category}» ({person}) размер {rate} вне диапазона 0–1; льгота "
            "не предоставлена",
        },
        BENEFIT_NO_NORM: {
            "en": "no per-person norm on {day} for the benefit “{category}” ({rooms} rooms, "
            "{persons} persons); no benefit is given",
            "ru": "нет норматива на человека на {day} для льготы «{category}» (комнат: "
            "{rooms}, человек: {persons}); льгота не предоставлена",
        },
    }
)

AREA_METHODS = frozenset(
    {Method.PER_AREA, Method.NORM_PER_AREA, Method.HEATING_BY_AREA, Method.COMMON_HOUSE_BY_AREA}
)
_NOT_VOLUME = frozenset({Rule.NORM_COEFFICIENT})


@dataclass(frozen=True, slots=True)
class Base:
    """What a group's benefit is a share of: the base quantity and charge, and how."""

    quantity: Decimal
    tariff: Decimal
    charge: Decimal
    values: dict[str, Value]


def benefits(run: Run, jobs: Sequence[Job]) -> None:
    """A benefit line per job and group of beneficiaries (see the module text)."""
    grants = run.account.benefits
    if not grants:
        return
    for job in jobs:
        own = [
            grant
            for grant in grants
            if job.service.code in grant.services and grant.span.overlaps(job.span)
        ]
        if own:
            _job(run, job, own)


def _job(run: Run, job: Job, own: list[BenefitGrant]) -> None:
    valid: list[BenefitGrant] = []
    for grant in own:
        if 0 <= grant.rate <= 1:
            valid.append(grant)
        else:
            run.issue(
                BENEFIT_RATE_INVALID,
                job,
                category=grant.category,
                person=grant.person,
                rate=grant.rate,
            )
    method = job.service.method
    groups: dict[tuple[str, Decimal], list[BenefitGrant]] = {}
    for grant in valid:
        groups.setdefault((grant.category, grant.rate), []).append(grant)
    if not groups or not run.job_lines(job, LineKind.CHARGE):
        return  # nothing valid, or nothing charged to relieve
    if method is Method.FIXED:
        for category, _ in sorted(groups):
            run.issue(
                BENEFIT_NOT_DEFINED,
                job,
                Severity.WARNING,
                category=category,
                method=method.value,
            )
        return
    tiers: dict[str, int] = {}
    for (category, rate), members in sorted(groups.items()):
        tier = tiers[category] = tiers.get(category, -1) + 1
        base = (
            _area_base(run, job, members)
            if method in AREA_METHODS
            else _person_base(run, job, members, category)
        )
        if base is None or not base.charge:
            continue
        amount = round2(times(rate, base.charge))
        if amount:
            _post(run, job, base, category, rate, amount, tier)


def _post(
    run: Run, job: Job, base: Base, category: str, rate: Decimal, amount: Decimal, tier: int
) -> None:
    values: dict[str, Value] = {
        "category": category,
        "rate": rate,
        **base.values,
        "base_charge": base.charge,
    }
    line = ChargeLine(
        run.account.number,
        job.connected.provider,
        job.service.code,
        run.period,
        LineKind.BENEFIT,
        base.quantity,
        job.service.unit,
        base.tariff,
        -amount,
        Explanation(Rule.BENEFIT, job.service.name, values),
        job.span,
        category,
        tier,
    )
    if run.config.benefit_mode == COMPENSATION_REPORT:
        run.reported.append(line)
    else:
        run.lines.append(line)


# --- who counts on which days ------------------------------------------------------------


def _registered(run: Run, person: str, day: date) -> bool:
    return any(r.person == person and r.span.contains(day) for r in run.account.registrations)


def _counts(
    run: Run, job: Job, members: list[BenefitGrant]
) -> Iterator[tuple[DateRange, int, int]]:
    """The job's days cut where the persons counted (`n`, registered only) or the
    beneficiaries counted (`nb`) change: `(span, n, nb)`."""
    end = job.span.end
    assert end is not None  # a job lies inside its period
    points = {job.span.start, end}
    for person_run in run.person_runs():
        points.update(_inside(job.span, person_run.span))
    for grant in members:
        points.update(_inside(job.span, grant.span))
        for registration in run.account.registrations:
            if registration.person == grant.person:
                points.update(_inside(job.span, registration.span))
    for start, stop in pairwise(sorted(points)):
        n = next(
            (p.persons for p in run.person_runs() if p.span.contains(start) and not p.owners_used),
            0,
        )
        nb = sum(1 for g in members if g.span.contains(start) and _registered(run, g.person, start))
        yield DateRange(start, stop), n, nb


def _inside(span: DateRange, other: DateRange) -> list[date]:
    assert span.end is not None
    found = [other.start]
    if other.end is not None:
        found.append(other.end)
    return [day for day in found if span.start < day < span.end]


# --- area-based services -------------------------------------------------------------------


def _area_base(run: Run, job: Job, members: list[BenefitGrant]) -> Base | None:
    account = run.account
    premise = premise_area(account)
    social = members[0].social_area
    charge = ZERO
    quantity = ZERO
    tariffs: set[Decimal] = set()
    used: list[tuple[int, int, Decimal, Fraction]] = []
    area_days = Fraction(0)
    used_days = 0
    for span, n, nb in _counts(run, job, members):
        if not (n and nb):
            continue
        limit = social.for_family(n)
        area = min(premise, Fraction(limit)) * nb / n
        parts = _area_parts(run, job, area, span)
        for piece_quantity, tariff, amount in parts:
            charge += amount
            quantity += piece_quantity
            tariffs.add(tariff)
        if parts:
            used.append((n, nb, limit, area))
            area_days += area * days(span)
            used_days += days(span)
    if not used:
        return None
    if job.service.method is Method.PER_AREA:
        quantity = _shown(area_days / used_days)  # the base area (a day-weighted mean)
    values: dict[str, Value] = {"area": account.area}
    if account.share != 1:
        values["share"] = share_text(account.share)
    if len(set(used)) == 1:
        n, nb, limit, area = used[0]
        values.update(persons=n, beneficiaries=nb, social_area=limit, base_area=_shown(area))
    tariff = tariffs.pop() if len(tariffs) == 1 else ZERO
    return Base(quantity, tariff, charge, values)


def _shown(area: Fraction) -> Decimal:
    """An area at 2 decimals when exact, else 6."""
    short = fround(area, 2)
    return short if Fraction(short) == area else fround(area, 6)


def _area_parts(
    run: Run, job: Job, area: Fraction, span: DateRange
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """The normal charge of `area` over `span`: `(quantity, tariff, amount)` per line."""
    method = job.service.method
    if method is Method.PER_AREA:
        return _per_area(run, job, area, span)
    if method is Method.COMMON_HOUSE_BY_AREA:
        house = house_of(run, job)
        assert house is not None  # the service was charged, so the house is known
        return _priced(pieces_of(run, job, house, area, span)[2])
    spans = heated(span, run.account.building) if method is Method.HEATING_BY_AREA else [span]
    if not spans:
        return []
    if method is Method.HEATING_BY_AREA and by_house_meter(run):
        heat = house_heat(run, job)
        assert heat is not None  # the service was charged, so the house is known
        return _priced(heat_pieces(run, job, heat, area, spans)[2])
    return _norm_area(run, job, area, spans)


def _priced(pieces: list[Piece]) -> list[tuple[Decimal, Decimal, Decimal]]:
    return [
        (piece.volume, piece.version.value, price(piece.volume, piece.version.value))
        for piece in pieces
        if piece.version is not None and piece.version.value is not None
    ]


def _per_area(
    run: Run, job: Job, area: Fraction, span: DateRange
) -> list[tuple[Decimal, Decimal, Decimal]]:
    found = []
    for tariff_span, version in run.tariff_pieces(job):
        sub = overlap(tariff_span, span)
        if sub is None or version is None or version.value is None:
            continue
        exact = area * Fraction(version.value) * days(sub) / run.period_days
        found.append((ZERO, version.value, fround(exact, 2)))
    return found


def _norm_area(
    run: Run, job: Job, area: Fraction, spans: list[DateRange]
) -> list[tuple[Decimal, Decimal, Decimal]]:
    places = run.places(job.service.unit)
    found = []
    for piece, version, rows in segments(run, job, NormKind.PER_AREA):
        norm = norm_for(rows, run.account.rooms, 0)
        if version is None or version.value is None or norm is None:
            continue
        for span in spans:
            sub = overlap(piece, span)
            if sub is not None:
                exact = area * Fraction(norm.value) * days(sub) / run.period_days
                volume = fround(exact, places)
                found.append((volume, version.value, price(volume, version.value)))
    return found


# --- per-person services -------------------------------------------------------------------


def _person_base(run: Run, job: Job, members: list[BenefitGrant], category: str) -> Base | None:
    lines = [
        line
        for line in run.job_lines(job, LineKind.CHARGE)
        if line.explanation.rule not in _NOT_VOLUME
    ]
    absent = [
        line
        for line in run.job_lines(job, LineKind.RECALCULATION)
        if line.explanation.rule is Rule.ABSENCE
    ]
    volume = sum((line.quantity for line in (*lines, *absent)), ZERO)
    if volume <= 0:
        return None
    person_days = beneficiary_days = 0
    persons: set[int] = set()
    beneficiaries: set[int] = set()
    pieces: list[tuple[DateRange, int, int]] = []
    for span, n, nb in _counts(run, job, members):
        person_days += n * days(span)
        beneficiary_days += nb * days(span)
        persons.add(n)
        beneficiaries.add(nb)
        if nb:
            pieces.append((span, n, nb))
    if not pieces:
        return None
    total = Fraction(0)
    norms: set[Decimal] = set()
    per_person = Fraction(volume) / person_days
    for norm_span, _, rows in segments(run, job, NormKind.PER_PERSON):
        for span, n, nb in pieces:
            sub = overlap(norm_span, span)
            if sub is None:
                continue
            norm = norm_for(rows, run.account.rooms, n)
            if norm is None:
                run.issue(
                    BENEFIT_NO_NORM,
                    job,
                    day=sub.start,
                    category=category,
                    rooms=run.account.rooms,
                    persons=n,
                )
                return None
            norms.add(norm.value)
            daily = min(per_person, Fraction(norm.value) / run.period_days)
            total += daily * nb * days(sub)
    places = run.places(job.service.unit)
    base_volume = fround(total, places)
    parts = _split(base_volume, [line.quantity for line in lines], places)
    charge = sum((price(part, line.tariff) for part, line in zip(parts, lines, strict=True)), ZERO)
    values: dict[str, Value] = {"volume": volume}
    job_days = days(job.span)
    if len(persons) == 1 and len(beneficiaries) == 1:
        values.update(persons=persons.pop(), beneficiaries=beneficiaries.pop())
        if job_days != run.period_days:
            values.update(days=job_days, period_days=run.period_days)
    else:
        values.update(
            person_days=person_days,
            beneficiary_days=beneficiary_days,
            period_days=run.period_days,
        )
    if len(norms) == 1:
        values["norm"] = norms.pop()
    values["base_volume"] = base_volume
    tariffs = {line.tariff for line in lines}
    tariff = tariffs.pop() if len(tariffs) == 1 else ZERO
    return Base(base_volume, tariff, charge, values)


def _split(total: Decimal, weights: list[Decimal], places: int) -> list[Decimal]:
    """`total` in proportion to `weights` (their sum positive): `round` each, the last the
    remainder."""
    whole = sum((Fraction(weight) for weight in weights), Fraction(0))
    parts: list[Decimal] = []
    remaining = total
    for weight in weights[:-1]:
        part = min(fround(Fraction(total) * Fraction(weight) / whole, places), remaining)
        parts.append(part)
        remaining -= part
    parts.append(remaining)
    return parts
