"""`field__any_of=[…]`: the rows of `field__in=[…]`, whatever the values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kvit.db.lookups import array_text, array_value
from kvit.tenants.models import Tenant


def test_integers_go_as_array_text_anything_else_as_a_list() -> None:
    assert array_value([3, 1, 2]) == "{3,1,2}"
    assert array_value(iter([7])) == "{7}"
    assert array_value([]) == "{}"
    assert array_value([1, True]) == [1, True]  # a bool is no id
    assert array_value(["a", "b"]) == ["a", "b"]
    assert array_text([Decimal("1.50"), Decimal("-2")]) == "{1.50,-2}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pick",
    [
        lambda rows: [rows[0].pk, rows[2].pk],
        lambda rows: [rows[1].pk, None],
        lambda rows: [],
        lambda rows: [10**12],
    ],
)
def test_any_of_finds_what_in_finds(make: Any, pick: Any) -> None:
    rows = [make.tenant() for _ in range(3)]
    ids = pick(rows)
    codes = [row.code for row in Tenant.objects.filter(pk__in=ids)]
    assert list(Tenant.objects.filter(pk__any_of=ids).values_list("code", flat=True)) == codes
    assert sorted(Tenant.objects.filter(code__any_of=codes).values_list("pk", flat=True)) == [
        row.pk for row in rows if row.pk in ids
    ]
