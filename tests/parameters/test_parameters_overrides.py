"""A tenant's parameter overrides: validated against the spec, read by date (section 10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kvit.parameters.models import Parameter
from kvit.parameters.queries import parameter_value

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("due_day", "29", "due_day: 29 is above the maximum 28"),
        ("due_day", "ten", "due_day: 'ten' is not a whole number"),
        ("rollover_max_fraction", "1.5", "rollover_max_fraction: 1.5 is above the maximum 1"),
        ("odn_cap_by_norm", "yes", "odn_cap_by_norm: 'yes' must be true or false"),
        ("trueup_mode", "later", "trueup_mode: 'later' must be one of current_period, rerate_past"),
        (
            "penalty_moratoria",
            '[{"from": "2024-02-01", "to": "2024-01-01"}]',
            "penalty_moratoria: item 1 ends before it starts",
        ),
    ],
)
def test_a_value_is_checked_against_the_parameter_rules(
    tenant: Any, clean_errors: Any, name: str, value: str, message: str
) -> None:
    parameter = Parameter(tenant=tenant, name=name, value=value, effective_from=date(2024, 1, 1))
    assert clean_errors(parameter) == {"value": [message]}


def test_an_unknown_parameter_is_refused_on_its_name(tenant: Any, clean_errors: Any) -> None:
    parameter = Parameter(
        tenant=tenant, name="no_such_thing", value="1", effective_from=date(2024, 1, 1)
    )
    errors = clean_errors(parameter)
    assert list(errors) == ["name"]
    assert "no_such_thing" in errors["name"][0]
    assert parameter.description == ""


def test_a_valid_override(make: Any, tenant: Any) -> None:
    parameter = make.parameter(tenant, name="rollover_max_fraction", value="0.05")
    assert "rollover" in parameter.description.lower()
    assert str(parameter) == "rollover_max_fraction = 0.05"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2020, 1, 1), 10),
        (date(2026, 2, 28), 10),
        (date(2026, 3, 1), 15),
        (date(2031, 5, 5), 15),
    ],
)
def test_without_overrides_the_dated_default_applies(tenant: Any, day: date, expected: int) -> None:
    assert parameter_value(tenant.pk, "due_day", day) == expected


def test_the_override_in_force_on_the_date(make: Any, tenant: Any, other_tenant: Any) -> None:
    make.parameter(
        tenant,
        name="due_day",
        value="20",
        effective_from=date(2025, 1, 1),
        effective_to=date(2026, 1, 1),
    )
    make.parameter(tenant, name="due_day", value="5", effective_from=date(2027, 1, 1))
    make.parameter(other_tenant, name="due_day", value="25", effective_from=date(2000, 1, 1))
    make.parameter(tenant, name="avg_window_months", value="12", effective_from=date(2000, 1, 1))
    assert parameter_value(tenant.pk, "due_day", date(2024, 12, 31)) == 10
    assert parameter_value(tenant.pk, "due_day", date(2025, 1, 1)) == 20
    assert parameter_value(tenant.pk, "due_day", date(2025, 12, 31)) == 20
    assert parameter_value(tenant.pk, "due_day", date(2026, 1, 1)) == 10  # end is exclusive
    assert parameter_value(tenant.pk, "due_day", date(2026, 3, 1)) == 15
    assert parameter_value(tenant.pk, "due_day", date(2027, 1, 1)) == 5
    assert parameter_value(other_tenant.pk, "due_day", date(2025, 6, 1)) == 25


def test_values_come_back_typed(make: Any, tenant: Any) -> None:
    make.parameter(tenant, name="odn_cap_by_norm", value="false")
    make.parameter(tenant, name="loss_tolerance_pp", value="0.75")
    on = date(2024, 6, 1)
    assert parameter_value(tenant.pk, "odn_cap_by_norm", on) is False
    assert parameter_value(tenant.pk, "loss_tolerance_pp", on) == Decimal("0.75")
    assert parameter_value(tenant.pk, "partial_split_basis", on) == "billed"
