"""kvit.core.money: the one way in, half-up rounding, exact proration and largest-remainder
splits (spec 4; examples 12, 14, 21). No database."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvit.core.money import (
    MINOR_UNIT,
    CappedSplit,
    allocate,
    allocate_capped,
    prorate,
    quantize,
    round2,
    round3,
    round6,
    to_decimal,
)


def d(text: str) -> Decimal:
    return Decimal(text)


def ds(*texts: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(t) for t in texts)


# --- to_decimal ---------------------------------------------------------------------------


class TestToDecimal:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1234.56", d("1234.56")),
            ("-0.005", d("-0.005")),
            ("+7", d("7")),
            ("  54.30\n", d("54.30")),
            ("007.10", d("7.10")),
            (12, d("12")),
            (-3, d("-3")),
            (d("33.40"), d("33.40")),
        ],
    )
    def test_accepts_strings_ints_and_decimals(
        self, value: str | int | Decimal, expected: Decimal
    ) -> None:
        result = to_decimal(value)
        assert isinstance(result, Decimal)
        assert result == expected

    def test_keeps_the_written_precision(self) -> None:
        assert str(to_decimal("54.30")) == "54.30"
        assert str(to_decimal("7.950")) == "7.950"

    @pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), True, False, None, Fraction(1, 3)])
    def test_floats_bools_and_other_types_raise_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="str, int or Decimal"):
            to_decimal(value)  # type: ignore[arg-type]

    def test_the_float_message_says_what_to_do(self) -> None:
        with pytest.raises(TypeError, match=r"float \(0\.1\).*pass the number as a string"):
            to_decimal(0.1)  # type: ignore[arg-type]

    @pytest.mark.parametrize("text", ["NaN", "nan", "-Infinity", "inf", "+Inf", "sNaN"])
    def test_non_finite_strings_raise(self, text: str) -> None:
        with pytest.raises(ValueError, match="finite"):
            to_decimal(text)

    @pytest.mark.parametrize("value", [d("NaN"), d("Infinity"), d("-Infinity"), d("sNaN")])
    def test_non_finite_decimals_raise(self, value: Decimal) -> None:
        with pytest.raises(ValueError, match="finite"):
            to_decimal(value)

    @pytest.mark.parametrize(
        "text", ["", " ", "12,50", "1e3", "1_000", "1 000", ".5", "5.", "--1", "12.5 RUB", "１２"]
    )
    def test_malformed_strings_raise(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"is not a decimal amount.*'-1234\.56'"):
            to_decimal(text)


# --- rounding -----------------------------------------------------------------------------


class TestRounding:
    def test_example_12_half_up_trap(self) -> None:
        area = to_decimal("54.30")
        assert round2(area * to_decimal("33.40")) == d("1813.62")
        capital = area * to_decimal("12.15")
        assert capital == d("659.7450")
        assert round2(capital) == d("659.75")
        assert capital.quantize(d("0.01"), rounding=decimal.ROUND_HALF_EVEN) == d("659.74")

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("0.005", "0.01"),
            ("-0.005", "-0.01"),
            ("0.0049999", "0.00"),
            ("-0.0049999", "0.00"),
            ("2.675", "2.68"),
            ("-2.675", "-2.68"),
            ("7", "7.00"),
        ],
    )
    def test_round2_is_half_away_from_zero(self, value: str, expected: str) -> None:
        assert str(round2(d(value))) == expected

    def test_round3_and_round6(self) -> None:
        assert round3(d("3.8467741935")) == d("3.847")
        assert round3(d("-0.0005")) == d("-0.001")
        assert round6(d("1.2345675")) == d("1.234568")
        assert str(round6(d("2"))) == "2.000000"

    def test_generic_quantize(self) -> None:
        assert str(quantize(d("1234.5"), 0)) == "1235"
        assert str(quantize(d("-1234.5"), 0)) == "-1235"
        assert str(quantize(d("0.12345"), 4)) == "0.1235"
        # beyond the cached quanta (0 … 9 places) the quantum is built on the spot
        assert str(quantize(d("0.123456789015"), 11)) == "0.12345678902"

    @pytest.mark.parametrize("value", ["-0.001", "-0.00", "-0"])
    def test_a_zero_result_is_never_negative(self, value: str) -> None:
        assert str(round2(d(value))) == "0.00"

    def test_ignores_the_callers_decimal_context(self) -> None:
        with decimal.localcontext() as ctx:
            ctx.prec = 3
            ctx.rounding = decimal.ROUND_FLOOR
            assert round2(d("123456.785")) == d("123456.79")
            assert prorate(d("1684.8330"), 15, 31) == d("815.24")

    def test_negative_places_raise(self) -> None:
        with pytest.raises(ValueError, match="places"):
            quantize(d("1.5"), -1)

    def test_refuses_floats_and_non_finite_values(self) -> None:
        with pytest.raises(TypeError, match=r"must be a Decimal.*to_decimal"):
            round2(0.125)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="finite"):
            round2(d("NaN"))

    @given(st.decimals(min_value=-(10**9), max_value=10**9, places=4))
    def test_round2_is_symmetric_and_within_half_a_kopeck(self, value: Decimal) -> None:
        rounded = round2(value)
        assert abs(rounded - value) <= d("0.005")
        assert round2(-value) == -rounded
        assert rounded.as_tuple().exponent == -2


# --- prorate ------------------------------------------------------------------------------


class TestProrate:
    def test_example_14_maintenance_lines(self) -> None:
        area = to_decimal("54.30")
        old = prorate(area * to_decimal("33.40"), 15, 31)
        new = prorate(area * to_decimal("36.10"), 16, 31)
        assert (old, new) == (d("877.56"), d("1011.73"))
        assert old + new == d("1889.29")
        # the same as the spec's formula written with Decimal division
        assert old == round2(area * to_decimal("33.40") * 15 / 31)

    def test_example_14_cold_water_volume_split(self) -> None:
        volume = to_decimal("7.950")
        volume_old = prorate(volume, 15, 31, places=3)
        volume_new = volume - volume_old
        assert (volume_old, volume_new) == (d("3.847"), d("4.103"))
        lines = round2(volume_old * d("48.95")), round2(volume_new * d("52.10"))
        assert lines == (d("188.31"), d("213.77"))
        assert sum(lines) == d("402.08")

    @pytest.mark.parametrize(
        ("value", "part", "whole", "expected"),
        [
            ("0.01", 1, 2, "0.01"),  # exactly half a kopeck goes up
            ("-0.01", 1, 2, "-0.01"),  # and away from zero below zero
            ("0.01", 1, 3, "0.00"),
            ("-0.01", 1, 3, "0.00"),  # never -0.00
            ("100", 0, 31, "0.00"),
            ("100", 31, 31, "100.00"),
        ],
    )
    def test_rounds_once_half_away_from_zero(
        self, value: str, part: int, whole: int, expected: str
    ) -> None:
        assert str(prorate(d(value), part, whole)) == expected

    def test_places(self) -> None:
        assert str(prorate(d("10"), 1, 3, places=0)) == "3"
        assert str(prorate(d("10"), 1, 3, places=6)) == "3.333333"

    def test_rejects_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            prorate(d("1"), 1, 0)
        with pytest.raises(ValueError, match="places"):
            prorate(d("1"), 1, 2, places=-1)
        with pytest.raises(TypeError, match="whole numbers of days"):
            prorate(d("1"), 0.5, 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="must be a Decimal"):
            prorate(1.0, 1, 2)  # type: ignore[arg-type]

    @given(
        st.decimals(min_value=-(10**7), max_value=10**7, places=6),
        st.integers(0, 31),
        st.integers(28, 31),
    )
    def test_matches_exact_half_up_rounding(self, value: Decimal, part: int, whole: int) -> None:
        exact = Fraction(value) * part / whole
        result = prorate(value, part, whole)
        assert abs(Fraction(result) - exact) <= Fraction(1, 200)
        assert prorate(-value, part, whole) == -result

    @given(
        st.decimals(min_value=-(10**12), max_value=10**12, places=9),
        st.integers(-400, 400),
        st.integers(1, 400),
        st.integers(0, 9),
    )
    def test_is_the_exact_quotient_rounded_half_away_from_zero(
        self, value: Decimal, part: int, whole: int, places: int
    ) -> None:
        exact = Fraction(value) * part / whole * 10**places
        units = math.floor(abs(exact) + Fraction(1, 2))
        expected = Decimal(-units if exact < 0 else units).scaleb(-places)
        assert prorate(value, part, whole, places) == expected
        assert prorate(Decimal(1), 1, 8, 2) == Decimal("0.13")  # a tie goes up


# --- allocate -----------------------------------------------------------------------------


class TestAllocate:
    def test_example_21_largest_remainder(self) -> None:
        parts = allocate(d("1516.34"), ds("1813.62", "246.07", "3290.68"))
        assert parts == ds("513.99", "69.74", "932.61")
        assert sum(parts) == d("1516.34")
        # naive half-up of each exact share would have made 1516.35
        naive = [
            round2(d("1516.34") * w / d("5350.37")) for w in ds("1813.62", "246.07", "3290.68")
        ]
        assert sum(naive) == d("1516.35")

    def test_example_21_the_rest_stays_owed(self) -> None:
        owed = ds("1813.62", "246.07", "3290.68")
        paid = allocate(d("1516.34"), owed)
        assert tuple(o - p for o, p in zip(owed, paid, strict=True)) == ds(
            "1299.63", "176.33", "2358.07"
        )

    def test_parts_carry_the_quantum_exponent(self) -> None:
        assert [str(p) for p in allocate(d("10"), ds("1", "2"))] == ["3.33", "6.67"]
        assert [str(p) for p in allocate(d("1"), ds("0", "1"))] == ["0.00", "1.00"]

    def test_the_leftover_goes_to_the_largest_remainder(self) -> None:
        # 5 kopecks over 1:1:2 → exact 1.25, 1.25, 2.5: floors 1, 1, 2 and one left over
        assert allocate(d("0.05"), ds("1", "1", "2")) == ds("0.01", "0.01", "0.03")

    def test_ties_go_to_the_larger_weight_before_the_lower_index(self) -> None:
        # 2 kopecks over 1:3 → exact 0.5 and 1.5: equal remainders, the larger weight wins
        assert allocate(d("0.02"), ds("1", "3")) == ds("0.00", "0.02")
        assert allocate(d("0.02"), ds("3", "1")) == ds("0.02", "0.00")

    def test_ties_between_equal_weights_go_to_the_lower_index(self) -> None:
        assert allocate(d("0.02"), ds("1", "1", "1")) == ds("0.01", "0.01", "0.00")
        assert allocate(d("0.01"), ds("0", "5", "5")) == ds("0.00", "0.01", "0.00")

    def test_a_zero_weight_gets_nothing(self) -> None:
        assert allocate(d("0.03"), ds("0", "1", "1")) == ds("0.00", "0.02", "0.01")

    def test_a_negative_total_mirrors_the_positive_one(self) -> None:
        assert allocate(d("-0.05"), ds("1", "1", "2")) == ds("-0.01", "-0.01", "-0.03")
        assert allocate(d("-10"), ds("1", "2")) == ds("-3.33", "-6.67")

    def test_a_zero_total_gives_zeros(self) -> None:
        assert [str(p) for p in allocate(d("0"), ds("1", "2"))] == ["0.00", "0.00"]

    def test_other_quanta(self) -> None:
        assert allocate(d("10"), ds("1", "1", "1"), quantum=d("1")) == ds("4", "3", "3")
        assert allocate(d("1.00"), ds("1", "1", "1"), quantum=d("0.05")) == ds(
            "0.35", "0.35", "0.30"
        )
        assert allocate(d("7.950"), ds("15", "16"), quantum=d("0.001")) == ds("3.847", "4.103")

    def test_the_callers_context_does_not_matter(self) -> None:
        with decimal.localcontext() as ctx:
            ctx.prec = 2
            assert allocate(d("1516.34"), ds("1813.62", "246.07", "3290.68")) == ds(
                "513.99", "69.74", "932.61"
            )

    @pytest.mark.parametrize("weights", [(), ds("0"), ds("0", "0.00")])
    def test_no_positive_weight_raises(self, weights: tuple[Decimal, ...]) -> None:
        with pytest.raises(ValueError, match="at least one weight must be positive"):
            allocate(d("1.00"), weights)

    def test_a_negative_weight_raises(self) -> None:
        with pytest.raises(ValueError, match=r"weights\[1\] = -1 is negative"):
            allocate(d("1.00"), ds("2", "-1"))

    def test_total_must_be_a_whole_number_of_quanta(self) -> None:
        with pytest.raises(ValueError, match=r"total 1\.005 is not a whole number of quanta"):
            allocate(d("1.005"), ds("1", "1"))
        with pytest.raises(ValueError, match=r"quanta of 0\.05"):
            allocate(d("1.01"), ds("1", "1"), quantum=d("0.05"))

    @pytest.mark.parametrize("quantum", ["0", "-0.01"])
    def test_quantum_must_be_positive(self, quantum: str) -> None:
        with pytest.raises(ValueError, match="quantum must be positive"):
            allocate(d("1"), ds("1"), quantum=d(quantum))

    def test_floats_and_non_finite_values_raise(self) -> None:
        with pytest.raises(TypeError, match=r"weights\[0\] must be a Decimal"):
            allocate(d("1"), [0.5])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="total must be a Decimal"):
            allocate(1.0, ds("1"))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="quantum must be a Decimal"):
            allocate(d("1"), ds("1"), quantum=0.01)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"weights\[0\] must be a finite number"):
            allocate(d("1"), ds("Infinity"))


amounts = st.integers(0, 10**9).map(lambda kopecks: Decimal(kopecks).scaleb(-2))
weight = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False)
weight_lists = st.lists(weight, min_size=1, max_size=8).filter(any)


@given(amounts, weight_lists, st.booleans())
def test_allocate_sums_exactly_and_stays_within_a_quantum(
    total: Decimal, weights: list[Decimal], negate: bool
) -> None:
    signed = -total if negate else total
    parts = allocate(signed, weights)
    assert len(parts) == len(weights)
    assert sum(parts, Decimal(0)) == signed
    whole = sum(Fraction(w) for w in weights)
    for part, w in zip(parts, weights, strict=True):
        exact_share = Fraction(signed) * Fraction(w) / whole
        assert abs(Fraction(part) - exact_share) < Fraction(MINOR_UNIT)
        assert part.as_tuple().exponent == -2
        if w == 0:
            assert part == 0
    if negate:
        assert parts == tuple(-p for p in allocate(total, weights))
    else:
        assert all(part >= 0 for part in parts)


@given(amounts, weight_lists)
def test_allocate_is_proportional_in_order(total: Decimal, weights: list[Decimal]) -> None:
    """A larger weight never gets a smaller part: the tie rule keeps the order of weights."""
    parts = allocate(total, weights)
    for i in range(len(weights)):
        for j in range(len(weights)):
            if weights[i] > weights[j]:
                assert parts[i] >= parts[j]


# --- allocate_capped ----------------------------------------------------------------------


class TestAllocateCapped:
    def test_uncapped_split_is_the_plain_split(self) -> None:
        weights = ds("1813.62", "246.07", "3290.68")
        split = allocate_capped(d("1516.34"), weights, weights)
        assert split == CappedSplit(ds("513.99", "69.74", "932.61"), d("0.00"))

    def test_excess_over_a_cap_is_re_split_over_the_others(self) -> None:
        # 100 over 1:1:2 would be 25/25/50; the first owes 10, the third 30
        split = allocate_capped(d("100"), ds("1", "1", "2"), ds("10", "100", "30"))
        assert split.parts == ds("10.00", "60.00", "30.00")
        assert split.unallocated == 0

    def test_re_splitting_can_take_several_rounds(self) -> None:
        # round 1: 30/30/40 → the third passes 35 and is capped; round 2: 65 over 3:3
        split = allocate_capped(d("100"), ds("3", "3", "4"), ds("100", "50", "35"))
        assert split.parts == ds("32.50", "32.50", "35.00")
        # round 1: 25/25/50 → third capped at 20; round 2: 40/40 → second capped at 26;
        # round 3: the first takes the remaining 54
        split = allocate_capped(d("100"), ds("1", "1", "2"), ds("60", "26", "20"))
        assert split.parts == ds("54.00", "26.00", "20.00")

    def test_what_no_one_can_take_is_returned(self) -> None:
        split = allocate_capped(d("100"), ds("1", "1", "2"), ds("10", "10", "30"))
        assert split == CappedSplit(ds("10.00", "10.00", "30.00"), d("50.00"))

    def test_a_zero_weight_gets_nothing_even_with_room(self) -> None:
        split = allocate_capped(d("100"), ds("0", "1"), ds("500", "40"))
        assert split == CappedSplit(ds("0.00", "40.00"), d("60.00"))

    def test_a_zero_cap_gets_nothing(self) -> None:
        split = allocate_capped(d("0.01"), ds("5", "1"), ds("0", "1"))
        assert split == CappedSplit(ds("0.00", "0.01"), d("0.00"))

    def test_a_share_exactly_at_its_cap_is_kept(self) -> None:
        split = allocate_capped(d("100"), ds("1", "1"), ds("50", "80"))
        assert split.parts == ds("50.00", "50.00")

    def test_zero_total(self) -> None:
        assert allocate_capped(d("0"), ds("1"), ds("5")) == CappedSplit(ds("0.00"), d("0.00"))

    def test_rejects_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="zero or more"):
            allocate_capped(d("-1"), ds("1"), ds("5"))
        with pytest.raises(ValueError, match="1 caps for 2 weights"):
            allocate_capped(d("1"), ds("1", "1"), ds("5"))
        with pytest.raises(ValueError, match=r"caps\[1\] = -5 is negative"):
            allocate_capped(d("1"), ds("1", "1"), ds("5", "-5"))
        with pytest.raises(ValueError, match=r"caps\[0\] 0.001 is not a whole number"):
            allocate_capped(d("1"), ds("1"), ds("0.001"))
        with pytest.raises(ValueError, match="at least one weight must be positive"):
            allocate_capped(d("1"), ds("0"), ds("5"))


@given(
    amounts,
    st.lists(st.tuples(weight, amounts), min_size=1, max_size=8).filter(
        lambda pairs: any(w for w, _ in pairs)
    ),
)
def test_allocate_capped_never_passes_a_cap_and_loses_nothing(
    total: Decimal, pairs: list[tuple[Decimal, Decimal]]
) -> None:
    weights = [w for w, _ in pairs]
    caps = [c for _, c in pairs]
    split = allocate_capped(total, weights, caps)
    assert sum(split.parts, Decimal(0)) + split.unallocated == total
    assert split.unallocated >= 0
    for part, w, cap in zip(split.parts, weights, caps, strict=True):
        assert 0 <= part <= cap
        if w == 0:
            assert part == 0
    if split.unallocated:
        # only when every part that may take money is full
        assert all(
            part == cap for part, w, cap in zip(split.parts, weights, caps, strict=True) if w
        )
    if sum(cap for w, cap in pairs if w) >= total:
        assert split.unallocated == 0
