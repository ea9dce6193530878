"""`field__any_of=[…]`: the rows of `field__in=[…]`, whatever the values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kvit.db.lookups import array_text, array_value
from kvit.tenants.models import Tenant


def test_integers_and_strings_go_as_array_text_anything_else_as_a_list() -> None:
    assert array_value([3, 1, 2]) == "{3,1,2}"
    assert array_value(iter([7])) == "{7}"
    assert array_value([]) == "{}"
    assert array_value([1, True]) == [1, True]  # a bool is no id
    assert array_value(["a", "b"]) == '{"a","b"}'
    assert array_value(['say "hi"', "C:\\dir"]) == '{"say \\"hi\\"","C:\\\\dir"}'
    assert array_value(["a", 1]) == ["a", 1]
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


TRICKY = ['say "hi"', "back\\slash", "a,b", "{braced}", "  spaced ", "NULL", "", "Иванов"]


@pytest.mark.django_db
def test_any_of_finds_strings_of_every_kind() -> None:
    """Quotes, backslashes, separators, braces, blanks, the word NULL and Cyrillic are
    matched as themselves (the array goes as text)."""
    names = [*TRICKY, "other"]
    rows = [Tenant.objects.create(code=f"t{n}", name=name) for n, name in enumerate(names)]
    found = Tenant.objects.filter(name__any_of=TRICKY).values_list("pk", flat=True)
    assert sorted(found) == [row.pk for row in rows[:-1]]
