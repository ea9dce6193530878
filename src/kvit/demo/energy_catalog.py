"""The energy sales company's reference data: households on a tiered (social norm) or a
day/night tariff, legal consumers on a monthly unregulated price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kvit.demo.catalog import Catalog, Prices, Service, electricity_norms
from kvit.demo.rows import Batch, Ids

CODE = "demo-energo"
NAME = "АО «Верхневолжскэнергосбыт»"

JAN_2024, JUL_2024, JUL_2025 = date(2024, 1, 1), date(2024, 7, 1), date(2025, 7, 1)
INDEXED = ((JAN_2024, JUL_2024), (JUL_2024, JUL_2025), (JUL_2025, None))
SOCIAL_NORM = "200.000"  # kWh a month billed at the lower price


@dataclass(frozen=True, slots=True)
class EnergyCatalog:
    tenant: int
    tiered: Service
    day_night: Service
    legal: Service
    categories: tuple[tuple[int, str], ...]


def energy_catalog(batch: Batch, ids: Ids, reference: date) -> tuple[EnergyCatalog, Catalog]:
    c = Catalog(batch, ids, CODE, NAME, "energy_sales")
    supplier = c.provider(7, NAME, "Верхневолжскэнергосбыт", "vvesk.example.org")
    tiered = c.service(
        "electricity",
        "Электроэнергия (население)",
        "kwh",
        "tiered",
        supplier,
        resource="electricity",
        order=10,
        absence_recalc=True,
        coefficient=True,
    )
    day_night = c.service(
        "electricity_day_night",
        "Электроэнергия (день/ночь)",
        "kwh",
        "time_of_use",
        supplier,
        resource="electricity",
        order=11,
        absence_recalc=True,
        coefficient=True,
    )
    legal = c.service("electricity_legal", "Электроэнергия (юридические лица)", "kwh", "metered",
                      supplier, resource="electricity", order=20,
                      penalties="legal_electricity_rf")  # fmt: skip

    heads = c.tariffs(tiered, [(start, end, "") for start, end in INDEXED])
    for head, (within, above) in zip(
        heads,
        (("4.650000", "7.200000"), ("5.080000", "7.860000"), ("5.620000", "8.700000")),
        strict=True,
    ):
        c.tiers(head, [(SOCIAL_NORM, within), (None, above)])
    heads = c.tariffs(day_night, [(start, end, "") for start, end in INDEXED])
    for head, (day, night) in zip(
        heads,
        (("5.340000", "2.950000"), ("5.830000", "3.220000"), ("6.450000", "3.560000")),
        strict=True,
    ):
        c.zones(head, [("day", day), ("night", night)])
    c.tariffs(legal, _monthly_prices(reference), vat=False)
    electricity_norms(c, tiered, date(2017, 1, 1), factor=1.3)  # private houses use more
    electricity_norms(c, day_night, date(2017, 1, 1), factor=1.3)

    categories = (
        (c.category("veteran_labour", "Ветеран труда", "0.5000", [tiered, day_night]),
         "Удостоверение ветерана труда"),
        (c.category("rural_teacher", "Педагог в сельской местности", "1.0000",
                    [tiered, day_night]), "Справка с места работы"),
    )  # fmt: skip
    c.parameter(
        "reading_cutoff_day", "23",
        "Приказ № 214 от 20.12.2024: показания принимаются до 23-го числа", date(2025, 1, 1),
    )  # fmt: skip
    return EnergyCatalog(c.tenant, tiered, day_night, legal, categories), c


def _monthly_prices(reference: date) -> Prices:
    """The unregulated price changes every month: one row per month up to the reference."""
    prices = []
    year, month = 2024, 1
    while (year, month) <= (reference.year, reference.month):
        start = date(year, month, 1)
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        last = (year, month) > (reference.year, reference.month)
        kopecks = 810 + (start.month * 37 + start.year) % 90 + (start.year - 2024) * 60
        prices.append((start, None if last else date(year, month, 1), f"{kopecks / 100:.6f}"))
    return prices
