"""The management company's reference data: providers, services, tariffs, norms, benefits.

Regulated utility tariffs are indexed on 1 July (so they change inside the window); the
owners' meeting changes maintenance and current repair from 1 January; the regional
capital-repair minimum changes on 1 January.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from kvit.demo.catalog import Catalog, Service, electricity_norms
from kvit.demo.rows import Batch, Ids

CODE = "demo-uk"
NAME = "ООО «УК Волжский берег»"
CITY = "г. Тверь"

JAN_2023, JAN_2024, JUL_2024 = date(2023, 1, 1), date(2024, 1, 1), date(2024, 7, 1)
JAN_2025, JUL_2025 = date(2025, 1, 1), date(2025, 7, 1)
NORMS_FROM = date(2017, 1, 1)


def _utility(h1_2024: str, h2_2024: str, jul_2025: str) -> list[tuple[date, date | None, str]]:
    return [
        (JAN_2024, JUL_2024, h1_2024),
        (JUL_2024, JUL_2025, h2_2024),
        (JUL_2025, None, jul_2025),
    ]


def _by_meeting(before: str, after: str) -> list[tuple[date, date | None, str]]:
    return [(JAN_2023, JAN_2025, before), (JAN_2025, None, after)]


@dataclass(frozen=True, slots=True)
class HousingCatalog:
    tenant: int
    company: int  # the management company as a provider
    maintenance: Service
    repair: Service
    capital: Service
    cold: Service
    hot: Service
    heating: Service
    electricity: Service
    waste: Service
    common_electricity: Service
    intercom: Service
    categories: tuple[tuple[int, str], ...]  # (id, document prefix)


def housing_catalog(batch: Batch, ids: Ids) -> tuple[HousingCatalog, Catalog]:
    c = Catalog(batch, ids, CODE, NAME, "management_company")
    company = c.provider(1, NAME, "УК Волжский берег", "uk-bereg.example.org")
    fund = c.provider(
        2,
        "НО «Фонд капитального ремонта многоквартирных домов Тверской области»",
        "Фонд капремонта",
        "fkr69.example.org",
        balance="40703",  # a non-commercial organisation's account
    )
    water = c.provider(3, "АО «Тверской водоканал»", "Водоканал", "vodokanal.example.org")
    heat = c.provider(4, "ПАО «Тверская теплосеть»", "Теплосеть", "teploset.example.org")
    power = c.provider(5, "АО «Тверьэнергосбыт»", "Энергосбыт", "tes.example.org")
    waste = c.provider(6, "ООО «Региональный оператор «Эко-Тверь»»", "Эко-Тверь", "eco.example.org")

    s = HousingCatalog(
        tenant=c.tenant,
        company=company,
        maintenance=c.service("maintenance", "Содержание жилого помещения", "m2", "per_area",
                              company, order=10),
        repair=c.service("current_repair", "Текущий ремонт", "m2", "per_area", company, order=20),
        capital=c.service("capital_repair", "Взнос на капитальный ремонт", "m2", "per_area", fund,
                          order=30, penalties="capital_repair_rf"),
        cold=c.service("cold_water", "Холодное водоснабжение", "m3", "metered", water,
                       resource="cold_water", order=40, absence_recalc=True, coefficient=True,
                       penalties="rso_from_uk_rf"),
        hot=c.service("hot_water", "Горячее водоснабжение", "m3", "metered", heat,
                      resource="hot_water", order=50, absence_recalc=True, coefficient=True,
                      penalties="rso_from_uk_rf"),
        heating=c.service("heating", "Отопление", "gcal", "heating_by_area", heat,
                          resource="heat", order=60, penalties="rso_from_uk_rf"),
        electricity=c.service("electricity", "Электроснабжение", "kwh", "metered", power,
                              resource="electricity", order=70, absence_recalc=True,
                              coefficient=True, penalties="rso_from_uk_rf"),
        waste=c.service("solid_waste", "Обращение с ТКО", "m3", "norm_per_person", waste,
                        order=80, absence_recalc=True),
        common_electricity=c.service(
            "common_electricity", "Электроэнергия на содержание общего имущества", "kwh",
            "common_house_by_area", company, resource="electricity", order=15,
            in_maintenance=True),
        intercom=c.service("intercom", "Домофон", "account", "fixed", company, order=90),
        categories=(),
    )  # fmt: skip

    c.tariffs(s.maintenance, _by_meeting("28.500000", "31.200000"))
    c.tariffs(s.repair, _by_meeting("6.400000", "7.100000"))
    c.tariffs(s.capital, [(JAN_2024, JAN_2025, "12.600000"), (JAN_2025, None, "14.100000")])
    c.tariffs(s.cold, _utility("38.470000", "42.990000", "48.360000"))
    c.tariffs(s.hot, _utility("218.300000", "244.100000", "274.600000"))
    c.tariffs(s.heating, _utility("2460.150000", "2751.100000", "3095.000000"))
    c.tariffs(s.electricity, _utility("5.920000", "6.430000", "7.130000"))
    c.tariffs(s.electricity, _utility("4.140000", "4.500000", "4.990000"), group="electric_stove")
    c.tariffs(s.waste, _utility("850.210000", "938.600000", "1052.000000"))
    c.tariffs(s.common_electricity, _utility("5.920000", "6.430000", "7.130000"))
    c.tariffs(s.intercom, _by_meeting("45.000000", "55.000000"))

    c.norm(s.cold, "per_person", [(NORMS_FROM, None, "4.880000")])
    c.norm(s.hot, "per_person", [(NORMS_FROM, date(2024, 9, 1), "3.600000"),
                                 (date(2024, 9, 1), None, "3.450000")])  # fmt: skip
    c.norm(s.heating, "per_area", [(NORMS_FROM, None, "0.019800")])
    c.norm(s.waste, "per_person", [(NORMS_FROM, None, "0.173000")])
    c.norm(s.common_electricity, "per_common_area", [(NORMS_FROM, None, "1.080000")])
    electricity_norms(c, s.electricity, NORMS_FROM)

    utilities = [s.cold, s.hot, s.heating, s.electricity]
    categories = (
        (c.category("veteran_labour", "Ветеран труда", "0.5000", [s.maintenance, *utilities]),
         "Удостоверение ветерана труда"),
        (c.category("disabled", "Инвалид I или II группы", "0.5000",
                    [s.maintenance, s.repair, s.capital, *utilities, s.waste]),
         "Справка МСЭ"),
        (c.category("large_family", "Многодетная семья", "0.3000", [*utilities, s.waste]),
         "Удостоверение многодетной семьи"),
    )  # fmt: skip
    return replace(s, categories=categories), c
