"""The effective-dated tables behind penalties: key rates, rate caps, moratoria (spec 3.2, 10).

All three are data, never code. Inside the engine every window is a half-open
`DateRange` (ADR 1). The stored parameter format (`penalty_rate_cap`, `penalty_moratoria`,
both `Kind.WINDOWS` in `kvit.core.parameters`) writes **inclusive** `"from"`/`"to"` dates like
the spec ("2022-04-01..2022-10-01"); `parse_rate_caps` and `parse_moratoria` turn that text
into the typed windows (`to` + 1 day becomes the exclusive end) and refuse anything they
cannot read with a ValueError naming the item, like `ParameterSpec.parse` does, so the admin
can use them as validators. The engine itself only takes the typed values.

The rate used for a penalty is "the key rate in effect on the day of actual payment": one date
per paid portion (its payment date) or the calculation date for what is still unpaid.
`penalty_rate(day, …)` is the rate of such a date after the cap windows:

* no cap window on `day`: the key rate;
* a `fixed` window (28.02.2022–31.07.2022, Decree 474): the window's rate, whatever the key
  rate (no key rate is needed then);
* a `min_key_rate` window (01.08.2022–31.12.2026): `min(window rate, key rate)`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any

from kvit.core.config import ParameterRow, steps_of
from kvit.core.dating import DateRange, find_overlaps
from kvit.core.money import to_decimal
from kvit.core.parameters import SPECS


def _check_rate(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, got {type(value).__name__} ({value!r})")
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be a finite rate of 0 or more, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class KeyRates:
    """The central bank key rate as steps: `(effective_from, rate)`, strictly increasing dates.

    A rate is a fraction (0.095 is 9.5 %) and applies from its date until the next step. A
    date before the first step has no key rate (`on` returns None; the penalty reports it).
    """

    steps: tuple[tuple[date, Decimal], ...] = ()

    def __post_init__(self) -> None:
        for index, (_start, rate) in enumerate(self.steps):
            _check_rate(rate, f"key rate steps[{index}]")
        starts = [start for start, _rate in self.steps]
        if any(later <= earlier for earlier, later in pairwise(starts)):
            raise ValueError("key rate steps must be in strictly increasing date order")

    def on(self, day: date) -> Decimal | None:
        """The key rate in effect on `day`, or None before the first step."""
        index = bisect.bisect_right([start for start, _rate in self.steps], day)
        return self.steps[index - 1][1] if index else None


def key_rates_from_parameters(rows: Iterable[ParameterRow] = ()) -> KeyRates:
    """The `key_rate` parameter as a step table: its effective-dated defaults (the central
    bank's decisions, `parameters.KEY_RATE_HISTORY`) with a tenant's override rows laid over
    them (`config.steps_of`). A value the parameter refuses raises its ValueError."""
    parse = SPECS["key_rate"].parse
    return KeyRates(tuple((day, parse(text)) for day, text in steps_of("key_rate", rows)))


class CapMode(StrEnum):
    FIXED = "fixed"  # the window's rate, whatever the key rate
    MIN_KEY_RATE = "min_key_rate"  # min(window rate, key rate)


@dataclass(frozen=True, slots=True)
class RateCap:
    """One window of the `penalty_rate_cap` table; `span` is half-open."""

    span: DateRange
    mode: CapMode
    rate: Decimal

    def __post_init__(self) -> None:
        _check_rate(self.rate, "cap rate")


@dataclass(frozen=True, slots=True)
class RateBasis:
    """How the rate of a portion was found: the date it is taken on (the payment date, or the
    calculation date for what is unpaid), the key rate on that date (None when not needed:
    a fixed cap, a contractual rate), the cap window that applied, and the resulting rate."""

    on: date
    rate: Decimal
    key_rate: Decimal | None = None
    cap: RateCap | None = None


def check_rate_caps(caps: Sequence[RateCap]) -> None:
    """ValueError when two cap windows overlap: a date would have two caps."""
    overlaps = find_overlaps((cap, cap.span) for cap in caps)
    if overlaps:
        first, second = overlaps[0].first, overlaps[0].second
        raise ValueError(
            f"rate cap windows overlap: {_show_span(first.span)} and {_show_span(second.span)}"
        )


def penalty_rate(day: date, key_rates: KeyRates, caps: Sequence[RateCap]) -> RateBasis | None:
    """The capped rate on `day`; None when it needs a key rate and there is none that day."""
    cap = next((window for window in caps if window.span.contains(day)), None)
    if cap is not None and cap.mode is CapMode.FIXED:
        return RateBasis(on=day, rate=cap.rate, cap=cap)
    key_rate = key_rates.on(day)
    if key_rate is None:
        return None
    rate = key_rate if cap is None else min(key_rate, cap.rate)
    return RateBasis(on=day, rate=rate, key_rate=key_rate, cap=cap)


@dataclass(frozen=True, slots=True)
class Moratorium:
    """Days without accrual (delay days keep counting). `applies_to_obligations_before`:
    only obligations that arose before that date are covered; None covers all of them."""

    span: DateRange
    applies_to_obligations_before: date | None = None

    def applies_to(self, arising_day: date) -> bool:
        limit = self.applies_to_obligations_before
        return limit is None or arising_day < limit


def parse_rate_caps(text: str) -> tuple[RateCap, ...]:
    """The `penalty_rate_cap` parameter text as typed windows.

    Items: `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD" (inclusive), "mode": "fixed" |
    "min_key_rate", "rate": "0.095"}`; the rate is a decimal **string** (a JSON number would
    be a float). Windows must not overlap.
    """
    name = "penalty_rate_cap"
    caps = []
    for number, row in enumerate(SPECS[name].parse(text), start=1):
        try:
            mode = CapMode(row.get("mode"))
        except ValueError:
            modes = ", ".join(mode.value for mode in CapMode)
            raise ValueError(f"{name}: item {number} needs 'mode' as one of {modes}") from None
        caps.append(RateCap(_span(row), mode, _rate(row, name, number)))
    try:
        check_rate_caps(caps)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    return tuple(caps)


def parse_moratoria(text: str) -> tuple[Moratorium, ...]:
    """The `penalty_moratoria` parameter text as typed windows.

    Items: `{"from": …, "to": … (inclusive), "applies_to_obligations_before": "YYYY-MM-DD"}`,
    the last key optional (missing or null: every obligation).
    """
    name = "penalty_moratoria"
    moratoria = []
    for number, row in enumerate(SPECS[name].parse(text), start=1):
        before = row.get("applies_to_obligations_before")
        try:
            limit = None if before is None else date.fromisoformat(before)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}: item {number} 'applies_to_obligations_before' must be a "
                "YYYY-MM-DD date or null"
            ) from None
        moratoria.append(Moratorium(_span(row), limit))
    return tuple(moratoria)


def _span(row: Mapping[str, Any]) -> DateRange:
    """An already validated inclusive `from`/`to` pair as a half-open range (open-ended when
    `to` is the last representable date)."""
    last = date.fromisoformat(row["to"])
    end = None if last == date.max else last + timedelta(days=1)
    return DateRange(date.fromisoformat(row["from"]), end)


def _rate(row: Mapping[str, Any], name: str, number: int) -> Decimal:
    text = row.get("rate")
    problem = f"{name}: item {number} needs 'rate' as a decimal string such as \"0.095\""
    if not isinstance(text, str):
        raise ValueError(problem)
    try:
        rate = to_decimal(text)
    except ValueError:
        raise ValueError(problem) from None
    if rate < 0:
        raise ValueError(f"{name}: item {number} has a negative rate {text}")
    return rate


def _show_span(span: DateRange) -> str:
    last = "…" if span.end is None else (span.end - timedelta(days=1)).isoformat()
    return f"{span.start.isoformat()}..{last}"


DEFAULT_KEY_RATES = key_rates_from_parameters()
DEFAULT_RATE_CAPS = parse_rate_caps(SPECS["penalty_rate_cap"].default_on(date.min))
DEFAULT_MORATORIA = parse_moratoria(SPECS["penalty_moratoria"].default_on(date.min))
