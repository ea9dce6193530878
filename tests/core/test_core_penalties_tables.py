"""kvit.core.penalty_tables: key rates, the rate cap windows, moratoria and their stored
parameter format (spec 3.2, 10). No database."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from kvit.core.dating import DateRange
from kvit.core.penalty_tables import (
    DEFAULT_MORATORIA,
    DEFAULT_RATE_CAPS,
    CapMode,
    KeyRates,
    Moratorium,
    RateBasis,
    RateCap,
    check_rate_caps,
    parse_moratoria,
    parse_rate_caps,
    penalty_rate,
)


def d(text: str) -> Decimal:
    return Decimal(text)


KEY_RATES = KeyRates(
    (
        (date(2022, 2, 14), d("0.095")),
        (date(2022, 2, 28), d("0.20")),
        (date(2022, 9, 19), d("0.075")),
        (date(2023, 8, 15), d("0.12")),
    )
)
FIXED, MINIMUM = DEFAULT_RATE_CAPS


class TestKeyRates:
    def test_steps(self) -> None:
        assert KEY_RATES.on(date(2022, 2, 13)) is None
        assert KEY_RATES.on(date(2022, 2, 14)) == d("0.095")
        assert KEY_RATES.on(date(2022, 2, 27)) == d("0.095")
        assert KEY_RATES.on(date(2022, 2, 28)) == d("0.20")
        assert KEY_RATES.on(date(2030, 1, 1)) == d("0.12")
        assert KeyRates().on(date(2025, 1, 1)) is None

    @pytest.mark.parametrize(
        ("steps", "error", "message"),
        [
            (((date(2022, 1, 1), d("0.1")), (date(2022, 1, 1), d("0.2"))), ValueError, "order"),
            (((date(2022, 2, 1), d("0.1")), (date(2022, 1, 1), d("0.2"))), ValueError, "order"),
            (((date(2022, 1, 1), d("-0.01")),), ValueError, "0 or more"),
            (((date(2022, 1, 1), d("NaN")),), ValueError, "finite"),
            (((date(2022, 1, 1), 0.095),), TypeError, r"steps\[0\] must be a Decimal"),
        ],
    )
    def test_validation(
        self, steps: tuple[tuple[date, Decimal], ...], error: type[Exception], message: str
    ) -> None:
        with pytest.raises(error, match=message):
            KeyRates(steps)


class TestPenaltyRate:
    def test_default_windows_follow_the_spec(self) -> None:
        assert (
            RateCap(DateRange(date(2022, 2, 28), date(2022, 8, 1)), CapMode.FIXED, d("0.095"))
            == FIXED
        )
        assert (
            RateCap(DateRange(date(2022, 8, 1), date(2027, 1, 1)), CapMode.MIN_KEY_RATE, d("0.095"))
            == MINIMUM
        )

    def test_fixed_window_ignores_a_20_percent_key_rate(self) -> None:
        basis = penalty_rate(date(2022, 7, 31), KEY_RATES, DEFAULT_RATE_CAPS)
        assert basis == RateBasis(date(2022, 7, 31), d("0.095"), key_rate=None, cap=FIXED)

    def test_fixed_window_needs_no_key_rate(self) -> None:
        basis = penalty_rate(date(2022, 2, 28), KeyRates(), DEFAULT_RATE_CAPS)
        assert basis is not None
        assert basis.rate == d("0.095")

    def test_min_window_takes_the_lower_key_rate(self) -> None:
        basis = penalty_rate(date(2022, 10, 1), KEY_RATES, DEFAULT_RATE_CAPS)
        assert basis == RateBasis(date(2022, 10, 1), d("0.075"), key_rate=d("0.075"), cap=MINIMUM)

    def test_min_window_caps_a_higher_key_rate(self) -> None:
        basis = penalty_rate(date(2026, 12, 31), KEY_RATES, DEFAULT_RATE_CAPS)
        assert basis == RateBasis(date(2026, 12, 31), d("0.095"), key_rate=d("0.12"), cap=MINIMUM)

    def test_outside_the_windows_the_key_rate_itself(self) -> None:
        assert penalty_rate(date(2027, 1, 1), KEY_RATES, DEFAULT_RATE_CAPS) == RateBasis(
            date(2027, 1, 1), d("0.12"), key_rate=d("0.12")
        )
        assert penalty_rate(date(2022, 2, 27), KEY_RATES, DEFAULT_RATE_CAPS) == RateBasis(
            date(2022, 2, 27), d("0.095"), key_rate=d("0.095")
        )

    def test_no_key_rate_is_none(self) -> None:
        assert penalty_rate(date(2022, 1, 1), KEY_RATES, DEFAULT_RATE_CAPS) is None
        assert penalty_rate(date(2023, 1, 1), KeyRates(), DEFAULT_RATE_CAPS) is None

    def test_overlapping_windows_are_refused(self) -> None:
        other = RateCap(DateRange(date(2022, 7, 1)), CapMode.FIXED, d("0.1"))
        with pytest.raises(ValueError, match=r"overlap: 2022-02-28..2022-07-31 and 2022-07-01.."):
            check_rate_caps([FIXED, other])
        check_rate_caps([FIXED, MINIMUM])

    def test_cap_rate_must_be_a_decimal(self) -> None:
        with pytest.raises(ValueError, match="cap rate must be a finite rate of 0 or more"):
            RateCap(DateRange(date(2022, 1, 1)), CapMode.FIXED, d("-0.1"))


def caps_text(**item: object) -> str:
    row: dict[str, object] = {"from": "2022-02-28", "to": "2022-07-31", "mode": "fixed"}
    row.update(item)
    return json.dumps([row])


class TestParseRateCaps:
    def test_to_is_inclusive_and_can_be_the_last_date(self) -> None:
        (cap,) = parse_rate_caps(caps_text(to="9999-12-31", rate="0.1"))
        assert cap == RateCap(DateRange(date(2022, 2, 28)), CapMode.FIXED, d("0.1"))

    def test_an_empty_list(self) -> None:
        assert parse_rate_caps("[]") == ()

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (caps_text(rate="0.1", mode="max"), "item 1 needs 'mode' as one of fixed, min_key"),
            (caps_text(rate="0.1", mode=None), "item 1 needs 'mode'"),
            (caps_text(), "item 1 needs 'rate' as a decimal string"),
            (caps_text(rate=0.095), "item 1 needs 'rate' as a decimal string"),
            (caps_text(rate="9,5"), "item 1 needs 'rate' as a decimal string"),
            (caps_text(rate="-0.1"), "item 1 has a negative rate -0.1"),
            ('[{"from": "2022-02-28"}]', "item 1 needs 'from' and 'to'"),
            (
                json.dumps(
                    [
                        {"from": "2022-01-01", "to": "2022-03-01", "mode": "fixed", "rate": "1"},
                        {"from": "2022-03-01", "to": "2022-04-01", "mode": "fixed", "rate": "1"},
                    ]
                ),
                "penalty_rate_cap: rate cap windows overlap",
            ),
        ],
    )
    def test_refuses_what_it_cannot_read(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=f"penalty_rate_cap: .*{message}|{message}"):
            parse_rate_caps(text)


class TestMoratoria:
    def test_defaults_follow_the_spec(self) -> None:
        assert (
            Moratorium(DateRange(date(2020, 4, 6), date(2021, 1, 1))),
            Moratorium(DateRange(date(2022, 4, 1), date(2022, 10, 2)), date(2022, 4, 1)),
        ) == DEFAULT_MORATORIA

    def test_scope(self) -> None:
        everything, before_april = DEFAULT_MORATORIA
        assert everything.applies_to(date(2030, 1, 1))
        assert before_april.applies_to(date(2022, 3, 31))
        assert not before_april.applies_to(date(2022, 4, 1))

    def test_null_scope_is_everything(self) -> None:
        text = '[{"from": "2020-04-06", "to": "2020-04-06", "applies_to_obligations_before": null}]'
        assert parse_moratoria(text) == (Moratorium(DateRange(date(2020, 4, 6), date(2020, 4, 7))),)

    @pytest.mark.parametrize("value", ['"2022-13-01"', "20220401", '"soon"'])
    def test_bad_scope(self, value: str) -> None:
        text = (
            '[{"from": "2022-04-01", "to": "2022-10-01", '
            f'"applies_to_obligations_before": {value}}}]'
        )
        with pytest.raises(ValueError, match="item 1 'applies_to_obligations_before' must be"):
            parse_moratoria(text)
