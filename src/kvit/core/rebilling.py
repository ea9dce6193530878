"""Recompute and diff (architecture §1, step 3; spec 1.9): the correction lines to post so
that what the ledger holds for a period becomes what the engine proposes for it now.

Nothing posted is ever edited. A period is rated again (a late reading, a corrected tariff,
a benefit or an absence documented afterwards) and `diff` compares the proposed lines with
the posted entries of that period, key by key (`ChargeLine.key`, paired without its kind:
`pairing`):

* equal net amount and quantity: nothing (but a key of the open period that was never
  posted, such as a zero line, is posted as it is: the document shows the service);
* nothing stands for the key yet (no entry, or entries that net to zero): the proposed lines
  themselves (in a closed period without its zero lines);
* otherwise one correction line of the difference (a posted key no longer proposed: the
  reversal of what stands).

In the open period (`posting_period == period`) a correction keeps the key of what it
corrects: same period, kind, rule, zone, tier and days, so the ledger nets them. A closed
period (`period < posting_period`) is corrected in the open one: the line is a
`recalculation` of `posting_period` whose explanation names the corrected period
(`corrects`), says why (`reason`) and keeps the corrected line's kind in the values
(`corrected_kind`), next to what was posted and what is due now (`was_amount`,
`now_amount`, `was_quantity`, `now_quantity`); rule, zone, tier and days (`span`, inside the
corrected period) stay the corrected line's.

Such a line has a key of its own (its period is the posting period while its days lie in the
corrected one), so the open period's own diff never pairs it. For the corrected period it
counts under the key it settles (`settled_key`): the ledger passes every entry in the terms
of the period its obligation belongs to (spec 1.9) — a correction as a `PostedLine` of the
corrected period (and kind) — which is what `posted_from` does for charge lines. Only the
corrections made here count for another period: a line the engine itself proposes with
`corrects` (a past period re-rated by the true-up, 2.7) belongs to the period it was rated
in. Then posting the result and diffing again gives nothing.

Amounts are already rounded (spec 4.1): differences are exact and never rounded again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from kvit.core.codes import LineKind, Rule
from kvit.core.dating import DateRange
from kvit.core.inputs import PeriodInputs, PostedLine, Service
from kvit.core.issues import Value
from kvit.core.lines import ChargeLine, Explanation, LineKey, Rating
from kvit.core.periods import Period

ZERO = Decimal(0)

Pairing = tuple[str, str, Period, str, str, int, date, date | None]
"""`ChargeLine.key` without the kind (`pairing`)."""

# Why a period is recalculated: `Explanation.reason` of a correction line (`reason` of
# `diff`); the words are in `sentences.REASONS`.
LATE_READING = "late_reading"  # a reading for the period arrived after it was billed
TARIFF_CORRECTED = "tariff_corrected"  # a tariff or norm of the period was corrected
BENEFIT_CONFIRMED = "benefit_confirmed"  # a benefit was confirmed for the period afterwards
BENEFIT_ENDED = "benefit_ended"  # a benefit was ended (or removed) for the period afterwards
RESIDENTS_CHANGED = "residents_changed"  # a registration of the period changed (1.6)
ABSENCE_DOCUMENTED = "absence_documented"  # an absence was documented afterwards (2.14)
PREMISE_CHANGED = "premise_changed"  # a premise's area, kind, rooms or meter impossibility
BUILDING_CHANGED = "building_changed"  # a building's areas, heating or common-house meters
METER_CHANGED = "meter_changed"  # a meter's own fields (dates, digits, ratio, status)
RECALCULATED = "recalculated"  # any other change of the period's inputs
REASONS = (
    LATE_READING,
    TARIFF_CORRECTED,
    BENEFIT_CONFIRMED,
    BENEFIT_ENDED,
    RESIDENTS_CHANGED,
    ABSENCE_DOCUMENTED,
    PREMISE_CHANGED,
    BUILDING_CHANGED,
    METER_CHANGED,
    RECALCULATED,
)

# The `Explanation.values` of a correction line.
CORRECTED_KIND = "corrected_kind"  # the kind of the corrected line (`LineKind` value)
WAS_AMOUNT = "was_amount"  # Σ amounts posted for the key before this correction
NOW_AMOUNT = "now_amount"  # Σ amounts proposed now
WAS_QUANTITY = "was_quantity"
NOW_QUANTITY = "now_quantity"
CORRECTS_ENTRY = "corrects_entry"  # `PostedLine.entry` of the key's first entry, if it has one


def diff(
    proposed: Sequence[ChargeLine],
    posted: Iterable[PostedLine],
    *,
    account: str,
    period: Period,
    posting_period: Period,
    services: Mapping[str, Service],
    reason: str,
) -> tuple[ChargeLine, ...]:
    """The lines to post so that, per key, what is posted for `period` nets to `proposed`.

    `proposed`: the lines `rate()` gives for `account` and `period` (`Rating.lines`).
    `posted`: what the ledger holds, in the terms of the period each entry belongs to
    (`posted_from`), several entries per key allowed; entries of other periods are ignored
    (`PeriodInputs.posted` may be passed whole). An entry without days covers its period.
    `posting_period`: the open period, `period` or later. `services`: the catalogue (the
    unit and name of a reversed line). `reason`: why (`REASONS`, or another code).

    Lines come out in the order of the proposed keys, then the reversed posted keys.
    """
    if posting_period < period:
        raise ValueError(
            f"period {period} cannot be corrected in an earlier period {posting_period}"
        )
    if not reason:
        raise ValueError("a recalculation needs a reason")
    wanted: dict[Pairing, list[ChargeLine]] = {}
    for line in proposed:
        if line.account != account or line.period != period:
            raise ValueError(
                f"a proposed line of account {line.account}, period {line.period} is not of "
                f"account {account}, period {period}"
            )
        wanted.setdefault(pairing(line.key), []).append(line)
    held: dict[Pairing, tuple[PostedLine, LineKey, Decimal, Decimal]] = {}  # the first, Σ
    for entry in posted:
        if entry.period == period:
            key = posted_key(entry)
            pair = pairing(key)
            first, first_key, amount, quantity = held.get(pair, (entry, key, ZERO, ZERO))
            held[pair] = (first, first_key, amount + entry.amount, quantity + entry.quantity)
    fix = _Fix(account, period, posting_period, services, reason)
    found: list[ChargeLine] = []
    for pair, lines in wanted.items():
        stands = held.pop(pair, None)
        was_amount, was_quantity = (ZERO, ZERO) if stands is None else stands[2:]
        now_amount = sum((line.amount for line in lines), ZERO)
        now_quantity = sum((line.quantity for line in lines), ZERO)
        if now_amount == was_amount and now_quantity == was_quantity:
            if stands is None and not fix.closed:  # never posted, nets to zero: a zero line
                found.extend(lines)
            continue
        if was_amount == 0 and was_quantity == 0:
            found.extend(fix.new(line) for line in lines if fix.worth_posting(line))
        else:
            assert stands is not None  # something stands: not both zero
            line = lines[0]
            was = (stands[0], was_amount, was_quantity)
            found.append(fix.change(line.key, line, was, now_amount, now_quantity))
    for first, first_key, was_amount, was_quantity in held.values():
        if was_amount != 0 or was_quantity != 0:
            was = (first, was_amount, was_quantity)
            found.append(fix.change(first_key, None, was, ZERO, ZERO))
    return tuple(found)


def rebill(
    inputs: PeriodInputs, rating: Rating, *, posting_period: Period, reason: str
) -> tuple[ChargeLine, ...]:
    """`diff` of `rate(inputs)` against `inputs.posted` (which must then hold the entries of
    `inputs.period` itself, as well as the earlier periods the true-up reads)."""
    return diff(
        rating.lines,
        inputs.posted,
        account=inputs.account.number,
        period=inputs.period,
        posting_period=posting_period,
        services=inputs.services,
        reason=reason,
    )


def pairing(key: LineKey) -> Pairing:
    """What `diff` pairs lines and entries by: the line key without its kind. In one
    period's proposal the kind follows from the rule (a true-up's, from the mode and the
    days), so this tells the same lines apart as the key, and a correction counted under
    `recalculation` rather than the corrected kind still pairs with what it corrects."""
    provider, service, period, _, rule, zone, tier, start, end = key
    return (provider, service, period, rule, zone, tier, start, end)


def settled_key(line: ChargeLine) -> LineKey:
    """The key `line` counts under when its period is diffed: its own key, or for a
    correction of a closed period the corrected line's key (the corrected period and kind,
    the same rule, zone, tier and days)."""
    explanation = line.explanation
    kind = explanation.values.get(CORRECTED_KIND)
    corrects = explanation.corrects
    if kind is None or corrects is None:
        return line.key
    span = line.span
    return (
        line.provider,
        line.service,
        corrects,
        LineKind(str(kind)),
        explanation.rule.value,
        line.zone,
        line.tier,
        span.start,
        span.end,
    )


def corrected_period(line: ChargeLine) -> Period | None:
    """The earlier period a correction made by `diff` settles — the period its obligation
    belongs to (spec 1.9; the ledger's corrected period) — or `None`: every other line,
    also one the engine proposes with `corrects` (a true-up's past period, 2.7), which
    belongs to the period it was rated in."""
    period = settled_key(line)[2]
    return None if period == line.period else period


def posted_from(lines: Iterable[ChargeLine]) -> tuple[PostedLine, ...]:
    """What the ledger holds once `lines` are posted, as `diff` and the true-up read it:
    each line as an entry of the period and kind it settles (`settled_key`)."""
    found: list[PostedLine] = []
    for line in lines:
        provider, service, period, kind, rule, zone, tier, start, end = settled_key(line)
        found.append(
            PostedLine(
                provider,
                service,
                period,
                kind,
                line.amount,
                line.quantity,
                rule,
                zone,
                tier,
                start,
                end,
            )
        )
    return tuple(found)


def posted_key(entry: PostedLine) -> LineKey:
    """The `ChargeLine.key` a posted entry pairs with; without days it covers its period."""
    period = entry.period
    start = period.first_day if entry.span_from is None else entry.span_from
    end = period.end if entry.span_to is None else entry.span_to
    return (
        entry.provider,
        entry.service,
        period,
        entry.kind,
        entry.rule,
        entry.zone,
        entry.tier,
        start,
        end,
    )


class _Fix:
    """Builds the correction lines of one diff."""

    __slots__ = ("account", "closed", "period", "posting_period", "reason", "services")

    def __init__(
        self,
        account: str,
        period: Period,
        posting_period: Period,
        services: Mapping[str, Service],
        reason: str,
    ) -> None:
        self.account = account
        self.period = period
        self.posting_period = posting_period
        self.closed = period < posting_period
        self.services = services
        self.reason = reason

    def worth_posting(self, line: ChargeLine) -> bool:
        """A new line is posted as it is in the open period (a zero line too: the document
        shows the service); a zero line of a closed period would be an empty recalculation."""
        return not self.closed or line.amount != 0 or line.quantity != 0

    def new(self, line: ChargeLine) -> ChargeLine:
        """A proposed line nothing stands for yet: itself, or in a closed period a
        recalculation with its explanation, naming the period."""
        if not self.closed:
            return line
        explanation = line.explanation
        values: dict[str, Value] = dict(explanation.values)
        values.update(self._values(line.kind, ZERO, ZERO, line.amount, line.quantity))
        return replace(
            line,
            period=self.posting_period,
            kind=LineKind.RECALCULATION,
            explanation=replace(
                explanation, values=values, corrects=self.period, reason=self.reason
            ),
        )

    def change(
        self,
        key: LineKey,
        line: ChargeLine | None,
        was: tuple[PostedLine, Decimal, Decimal],
        now_amount: Decimal,
        now_quantity: Decimal,
    ) -> ChargeLine:
        """One line of the difference for `key` (`line`: its first proposed line, `None`
        when the key is no longer proposed; `was`: the key's first posted entry, Σ amounts
        and Σ quantities posted)."""
        provider, service, _, kind, rule_value, zone, tier, start, end = key
        first, was_amount, was_quantity = was
        if line is None:
            catalogue = self.services.get(service)
            if catalogue is None:
                raise ValueError(f"posted service {service!r} is not in the catalogue")
            try:
                rule = Rule(rule_value)
            except ValueError:
                raise ValueError(
                    f"a posted {kind.value} of {service!r} has no engine rule ({rule_value!r})"
                ) from None
            unit, tariff, name = catalogue.unit, ZERO, catalogue.name
        else:
            rule, unit, tariff = line.explanation.rule, line.unit, line.tariff
            name = line.explanation.service_name
        values = self._values(kind, was_amount, was_quantity, now_amount, now_quantity)
        if first.entry:
            values[CORRECTS_ENTRY] = first.entry
        closed = self.closed
        return ChargeLine(
            self.account,
            provider,
            service,
            self.posting_period,
            LineKind.RECALCULATION if closed else kind,
            now_quantity - was_quantity,
            unit,
            tariff,
            now_amount - was_amount,
            Explanation(
                rule, name, values, corrects=self.period if closed else None, reason=self.reason
            ),
            DateRange(start, end),
            zone,
            tier,
        )

    @staticmethod
    def _values(
        kind: LineKind,
        was_amount: Decimal,
        was_quantity: Decimal,
        now_amount: Decimal,
        now_quantity: Decimal,
    ) -> dict[str, Value]:
        return {
            CORRECTED_KIND: kind.value,
            WAS_AMOUNT: was_amount,
            NOW_AMOUNT: now_amount,
            WAS_QUANTITY: was_quantity,
            NOW_QUANTITY: now_quantity,
        }
