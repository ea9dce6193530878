"""Money and quantities: the one way in, rounding, and exact splits (spec section 4).

Everything is `Decimal`; a float is refused at the door (architecture §3). Rounding is
ROUND_HALF_UP, half away from zero, applied once per charge line (spec 4.1): 659.745 → 659.75,
−0.005 → −0.01. Splits use the largest-remainder method and always add up to the total
(spec 4.5). Arithmetic that must be exact runs on integers (a Decimal's exact integer
ratio) or on a private context, so no result depends on the caller's thread-local decimal
context.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

MINOR_UNIT = Decimal("0.01")
"""The default quantum of a split: one kopeck (spec 4.7: RUB and UZS keep 2 decimals)."""

# Huge precision: quantize and multiply never round behind our back, whatever the caller's
# context says; the traps turn anything undefined into an exception.
_CONTEXT = Context(
    prec=MAX_PREC,
    rounding=ROUND_HALF_UP,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_NON_FINITE_TEXT = frozenset({"nan", "snan", "inf", "infinity"})


def to_decimal(value: str | int | Decimal) -> Decimal:
    """The one way in for amounts, tariffs and quantities (architecture §3).

    Strings must be plain decimals such as "-1234.56" (surrounding blanks are ignored; no
    exponent, no digit separators, no comma): a bank registry or a form field with anything
    else is a data error, not something to guess at. Floats (and bools) raise TypeError
    because they are already inexact; NaN and infinities raise ValueError.
    """
    if type(value) is Decimal and value.is_finite():
        return value  # the usual case, as it is: a Decimal is immutable
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(
            f"an amount is built from str, int or Decimal, not {type(value).__name__} "
            f"({value!r}); floats are inexact, pass the number as a string"
        )
    if isinstance(value, str):
        return _parse(value)
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"an amount must be a finite number, got {number}")
    return number


def _parse(text: str) -> Decimal:
    stripped = text.strip()
    if _DECIMAL_TEXT.fullmatch(stripped):
        return Decimal(stripped)
    if stripped.lstrip("+-").lower() in _NON_FINITE_TEXT:
        raise ValueError(f"an amount must be a finite number, got {text!r}")
    raise ValueError(
        f"{text!r} is not a decimal amount: expected an optional sign, digits and an "
        "optional '.' with more digits, e.g. '-1234.56'"
    )


_QUANTA = tuple(Decimal(1).scaleb(-places) for places in range(10))  # 1, 0.1 … 1E-9


def quantize(value: Decimal, places: int) -> Decimal:
    """`value` rounded to `places` decimals, half away from zero (spec 4.1).

    A zero result is never negative (round2(-0.001) is 0.00, not -0.00), so rounded lines
    compare and print the same way whatever side of zero they came from.
    """
    exact = _exact(value, "value")
    if places < 0:
        raise ValueError(f"places must be 0 or more, got {places}")
    quantum = _QUANTA[places] if places < len(_QUANTA) else Decimal(1).scaleb(-places)
    rounded = exact.quantize(quantum, context=_CONTEXT)
    return rounded if rounded else rounded.copy_abs()


def round2(value: Decimal) -> Decimal:
    """Money: 2 decimals (spec 4.1)."""
    return quantize(value, 2)


def round3(value: Decimal) -> Decimal:
    """Volumes in m³ and kWh (spec 4.3)."""
    return quantize(value, 3)


def round6(value: Decimal) -> Decimal:
    """Volumes in Gcal (spec 4.3)."""
    return quantize(value, 6)


def prorate(value: Decimal, part: int, whole: int, places: int = 2) -> Decimal:
    """`value × part / whole` rounded once to `places`, half away from zero (spec 2.13, 1.6).

    The quotient is kept exact until the single rounding: dividing in `Decimal` first would
    round to the context precision and then round again. Covers every proration of the spec:
    round2(Base × T × d / D), round3(V × d_old / D), round3(norm × person-days / D).
    """
    numerator, denominator = _exact(value, "value").as_integer_ratio()
    if not (isinstance(part, int) and isinstance(whole, int)):
        raise TypeError(f"part and whole must be whole numbers of days, got {part!r} / {whole!r}")
    if whole <= 0:
        raise ValueError(f"cannot prorate over {whole} days: the whole must be positive")
    if places < 0:
        raise ValueError(f"places must be 0 or more, got {places}")
    # In whole numbers (exact and fast): units = ⌊|n × part × 10^places| / (d × whole) + ½⌋
    top = abs(numerator * part) * 10**places
    bottom = denominator * whole
    units = (2 * top + bottom) // (2 * bottom)
    signed = -units if numerator * part < 0 else units
    return Decimal(signed).scaleb(-places, context=_CONTEXT)


def allocate(
    total: Decimal, weights: Sequence[Decimal], quantum: Decimal = MINOR_UNIT
) -> tuple[Decimal, ...]:
    """Split `total` in proportion to `weights`; the parts add up exactly to `total` (spec 4.5).

    Largest remainder: every exact share is floored to the quantum, then the leftover quanta
    go one each to the parts with the largest fractional remainders; ties go to the larger
    weight, then to the lower index (the configured service order). A part is therefore
    within one quantum of its exact share and a zero weight gets exactly zero.

    A negative total (a reversal, a credit) is split as its absolute value and negated, so
    floors go towards zero and allocate(-x) is exactly the negation of allocate(x).

    Raises ValueError when `total` is not a whole number of quanta, a weight is negative, or
    no weight is positive: with nothing to be proportional to, any split would be a guess.
    """
    units = _units(total, quantum, "total")
    counts = _largest_remainder(abs(units), _weights(weights))
    sign = -1 if units < 0 else 1
    return tuple(_amount(sign * count, quantum) for count in counts)


@dataclass(frozen=True, slots=True)
class CappedSplit:
    """`parts` never exceed their caps; `unallocated` is what no open part could take."""

    parts: tuple[Decimal, ...]
    unallocated: Decimal


def allocate_capped(
    total: Decimal,
    weights: Sequence[Decimal],
    caps: Sequence[Decimal],
    quantum: Decimal = MINOR_UNIT,
) -> CappedSplit:
    """Split `total` like `allocate`, but never give a part more than its cap (spec 3.4.4).

    Caps are what is still owed on each service. Each round splits what is left over the
    parts still open; every part whose share would pass its cap gets exactly its cap and
    closes, and the rest is re-split over the others. Zero-weight parts get nothing. When
    every positive-weight part is capped, the rest comes back as `unallocated` (an advance,
    spec 3.4.6, or money for the next period: the caller decides).
    """
    units = _units(total, quantum, "total")
    if units < 0:
        raise ValueError(f"a capped split needs a total of zero or more, got {total}")
    exact = _weights(weights)
    if len(caps) != len(exact):
        raise ValueError(f"{len(caps)} caps for {len(exact)} weights: need one cap per weight")
    limits = [_units(cap, quantum, f"caps[{index}]") for index, cap in enumerate(caps)]
    for index, limit in enumerate(limits):
        if limit < 0:
            raise ValueError(f"caps[{index}] = {caps[index]} is negative")
    given = [0] * len(exact)
    still_open = {index for index, weight in enumerate(exact) if weight > 0}
    remaining = units
    while still_open and remaining:
        open_weights = [weight if i in still_open else 0 for i, weight in enumerate(exact)]
        split = _largest_remainder(remaining, open_weights)
        full = [i for i in still_open if split[i] > limits[i]]
        if full:
            for i in full:
                given[i] = limits[i]
                remaining -= limits[i]
            still_open.difference_update(full)
        else:
            for i in still_open:
                given[i] = split[i]
            remaining = 0
    return CappedSplit(
        parts=tuple(_amount(count, quantum) for count in given),
        unallocated=_amount(remaining, quantum),
    )


def _largest_remainder(units: int, weights: Sequence[int]) -> list[int]:
    """`units` (≥ 0) split by whole-number weights (≥ 0, some positive) in whole units,
    exactly: each share is units × weight / Σ weights, floored, and its remainder kept."""
    whole = sum(weights)
    counts, remainders = [], []
    for weight in weights:
        count, remainder = divmod(units * weight, whole)
        counts.append(count)
        remainders.append(remainder)
    leftover = units - sum(counts)
    # Largest remainder first, then the larger weight, then the lower index.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], -weights[i], i))
    for index in order[:leftover]:
        counts[index] += 1
    return counts


def _exact(value: object, name: str) -> Decimal:
    """A finite Decimal, or an error: engine arithmetic never takes floats (architecture §3)."""
    if not isinstance(value, Decimal):
        raise TypeError(
            f"{name} must be a Decimal, got {type(value).__name__} ({value!r}); "
            "build it with to_decimal()"
        )
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _weights(weights: Sequence[Decimal]) -> list[int]:
    """The weights as whole numbers in the same proportions (each over their common
    denominator), so that splits run in integers, exactly."""
    ratios = [
        _exact(weight, f"weights[{i}]").as_integer_ratio() for i, weight in enumerate(weights)
    ]
    for index, (numerator, _denominator) in enumerate(ratios):
        if numerator < 0:
            raise ValueError(f"weights[{index}] = {weights[index]} is negative")
    if not any(numerator for numerator, _denominator in ratios):
        raise ValueError(
            f"cannot split in proportion to weights {[str(w) for w in weights]}: "
            "at least one weight must be positive"
        )
    common = math.lcm(*(denominator for _numerator, denominator in ratios))
    return [numerator * (common // denominator) for numerator, denominator in ratios]


def _units(value: Decimal, quantum: Decimal, name: str) -> int:
    """`value` as a whole number of quanta; ValueError when it is not one."""
    step, step_denominator = _exact(quantum, "quantum").as_integer_ratio()
    if step <= 0:
        raise ValueError(f"quantum must be positive, got {quantum}")
    numerator, denominator = _exact(value, name).as_integer_ratio()
    count, rest = divmod(numerator * step_denominator, denominator * step)
    if rest:
        raise ValueError(f"{name} {value} is not a whole number of quanta of {quantum}")
    return count


def _amount(units: int, quantum: Decimal) -> Decimal:
    return _CONTEXT.multiply(quantum, Decimal(units))
