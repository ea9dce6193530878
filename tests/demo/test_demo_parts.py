"""The generator's parts without a database: schema, requisites, readings, determinism."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from itertools import pairwise

import pytest
from stdnum.ru import inn as stdnum_inn

from kvit.demo import requisites
from kvit.demo.generator import Demo, Plan
from kvit.demo.meters import WATER, Habits, MeterModel, Where, install
from kvit.demo.names import PATRONYMICS, female_surname
from kvit.demo.rows import Batch, Ids
from kvit.demo.schema import METER, READING, TABLES
from kvit.demo.users import Hashes
from kvit.demo.window import Window
from kvit.providers.validators import KPP_RE, account_key_ok

HASHES = Hashes("a", "b", "c")


def generate(plan: Plan) -> dict[str, list[tuple[object, ...]]]:
    rows: dict[str, list[tuple[object, ...]]] = {t.label: [] for t in TABLES}
    for batch in Demo(plan, Ids(), HASHES).batches():
        for table, table_rows in batch.rows.items():
            rows[table.label] += table_rows
    return rows


def test_the_schema_covers_every_column() -> None:
    """A column added to a model must be added to the generator too."""
    for table in TABLES:
        assert set(table.fields) == {f.name for f in table.model._meta.concrete_fields}, table


def test_rows_have_the_schema_width_and_exact_account_counts() -> None:
    rows = generate(Plan(accounts=1_000, chunk=300))
    for table in TABLES:
        assert all(len(row) == len(table.fields) for row in rows[table.label]), table
    assert len(rows["accounts.Account"]) == 1_000
    tenants = Counter(row[1] for row in rows["accounts.Account"])
    assert sorted(tenants.values()) == [400, 600]
    ids = [row[0] for row in rows["metering.Reading"]]
    assert ids == list(range(1, len(ids) + 1)), "ids are dense and in order"


def test_the_same_plan_gives_the_same_rows() -> None:
    assert generate(Plan(accounts=600)) == generate(Plan(accounts=600))
    assert generate(Plan(accounts=600)) != generate(Plan(accounts=600, seed=1))


@pytest.mark.parametrize("serial", [1, 7, 999, 12_345, 99_999])
def test_requisites_are_valid(serial: int) -> None:
    inn = requisites.company_inn(serial)
    assert stdnum_inn.is_valid(inn) and len(inn) == 10
    assert stdnum_inn.is_valid(requisites.personal_inn(serial))
    assert KPP_RE.match(requisites.kpp(inn))
    bic = requisites.bic("01", serial)
    assert len(bic) == 9 and bic.isdigit()
    assert account_key_ok(bic, requisites.settlement_account(bic, serial))
    assert account_key_ok(bic, requisites.correspondent_account(bic), correspondent=True)


def test_names_agree_in_gender() -> None:
    assert female_surname("Иванов") == "Иванова"
    assert female_surname("Вяземский") == "Вяземская"
    assert female_surname("Ковальчук") == "Ковальчук"
    assert ("Никитич", "Никитична") in PATRONYMICS
    assert all(female.endswith(("вна", "ична")) for _, female in PATRONYMICS)


def test_readings_fit_the_meter_and_grow_except_for_a_small_rollover() -> None:
    window = Window(date(2025, 7, 1))
    batch, ids = Batch(), Ids()
    model = MeterModel("electricity", ("day", "night"), (9.0, 4.0), WATER, 6, 2)
    for number in range(200):
        install(batch, ids, random.Random(number), window, Where(1, "individual", premise=1),
                model, Habits(missing=0.1, rejected=0.05), replaced=number % 3 == 0,
                rollover=number % 5 == 0)  # fmt: skip
    meters = {row[0]: row for row in batch.rows[METER]}
    series: dict[tuple[int, str], list[tuple[str, float]]] = {}
    for row in batch.rows[READING]:
        meter = meters[row[1]]
        assert row[2] in ("day", "night")
        assert meter[12] <= row[3] and (meter[16] is None or row[3] <= meter[16])
        whole, _, fraction = row[4].partition(".")
        assert len(whole) <= meter[9] and len(fraction) == meter[10]
        if row[7] == "accepted":
            series.setdefault((row[1], row[2]), []).append((row[3], float(row[4])))
    for (meter_id, _), values in series.items():
        capacity = 10 ** meters[meter_id][9]
        for (_, before), (_, after) in pairwise(values):
            volume = after - before if after >= before else capacity - before + after
            assert 0 <= volume <= capacity / 10
