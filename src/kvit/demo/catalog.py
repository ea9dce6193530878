"""Reference rows of one tenant: the tenant, its tree nodes, providers, services, tariffs,
norms, benefit categories and parameter overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kvit.demo import requisites
from kvit.demo.names import BANKS
from kvit.demo.rows import Batch, Ids
from kvit.demo.schema import (
    AGGREGATOR,
    BENEFIT_CATEGORY,
    BENEFIT_CATEGORY_SERVICE,
    NODE,
    NORM,
    PARAMETER,
    PROVIDER,
    SERVICE,
    TARIFF,
    TENANT,
    TIER,
    ZONE,
)
from kvit.demo.window import iso
from kvit.online import testbank

# (effective_from, effective_to, value): consecutive, so they never overlap.
Prices = Sequence[tuple[date, date | None, str]]


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    path: str


@dataclass(frozen=True, slots=True)
class Service:
    id: int
    provider: int


def add_node(
    batch: Batch, ids: Ids, tenant: int, kind: str, code: str, name: str, parent: Node | None
) -> Node:
    node_id = ids.take(NODE)
    path = f"{parent.path if parent else '/'}{node_id}/"
    batch.add(NODE, (node_id, tenant, parent.id if parent else None, kind, code, name, path))
    return Node(node_id, path)


def add_test_bank(batch: Batch, ids: Ids, tenant: int, joined: str) -> None:
    """The test bank's aggregator contract, with the published demo secret, so that
    `kvit testbank pay …` can pay the demo's accounts over the API."""
    batch.add(
        AGGREGATOR,
        (ids.take(AGGREGATOR), tenant, testbank.CODE, "Тестовый банк", None,
         testbank.DEMO_SECRET, "", None, 300, True, joined),
    )  # fmt: skip


class Catalog:
    def __init__(self, batch: Batch, ids: Ids, code: str, name: str, kind: str) -> None:
        self.batch, self.ids = batch, ids
        self.tenant = ids.take(TENANT)
        batch.add(TENANT, (self.tenant, code, name, kind, "RUB"))

    def node(self, kind: str, code: str, name: str, parent: Node | None = None) -> Node:
        return add_node(self.batch, self.ids, self.tenant, kind, code, name, parent)

    def provider(
        self, serial: int, name: str, short_name: str, site: str, *, balance: str = "40702"
    ) -> int:
        bank_name, bank_code = BANKS[serial % len(BANKS)]
        bic = requisites.bic(bank_code, serial)
        inn = requisites.company_inn(serial)
        provider_id = self.ids.take(PROVIDER)
        self.batch.add(
            PROVIDER,
            (provider_id, self.tenant, name, short_name, inn, requisites.kpp(inn),
             requisites.settlement_account(bic, serial * 7_919 + 17, balance=balance), bic,
             requisites.correspondent_account(bic), bank_name,
             f"170{serial:03d}, г. Тверь, ул. Советская, д. {serial + 3}",
             f"+7 (4822) {50 + serial}-{serial * 37 % 100:02d}-{serial * 53 % 100:02d}",
             f"info@{site}", f"https://{site}/"),
        )  # fmt: skip
        return provider_id

    def service(
        self,
        code: str,
        name: str,
        unit: str,
        method: str,
        provider: int,
        *,
        resource: str = "",
        order: int = 100,
        absence_recalc: bool = False,
        coefficient: bool = False,
        penalties: str = "housing_rf",
        in_maintenance: bool = False,
    ) -> Service:
        service_id = self.ids.take(SERVICE)
        self.batch.add(
            SERVICE,
            (service_id, self.tenant, code, name, unit, method, resource, provider,
             absence_recalc, coefficient, penalties, in_maintenance, order),
        )  # fmt: skip
        return Service(service_id, provider)

    def tariffs(
        self, service: Service, prices: Prices, *, group: str = "", vat: bool = True
    ) -> list[int]:
        """Flat tariffs, or (value None) the heads of tiered and time-of-use ones."""
        made = []
        for start, end, value in prices:
            tariff_id = self.ids.take(TARIFF)
            self.batch.add(
                TARIFF,
                (tariff_id, self.tenant, service.id, group, value or None, vat, iso(start),
                 iso(end) if end else None),
            )  # fmt: skip
            made.append(tariff_id)
        return made

    def tiers(self, tariff: int, tiers: Sequence[tuple[str | None, str]]) -> None:
        for bound, value in tiers:
            self.batch.add(TIER, (self.ids.take(TIER), tariff, bound, value))

    def zones(self, tariff: int, zones: Sequence[tuple[str, str]]) -> None:
        for zone, value in zones:
            self.batch.add(ZONE, (self.ids.take(ZONE), tariff, zone, value))

    def norm(
        self,
        service: Service,
        kind: str,
        prices: Prices,
        *,
        rooms: int = 0,
        persons: int = 0,
    ) -> None:
        for start, end, value in prices:
            self.batch.add(
                NORM,
                (self.ids.take(NORM), self.tenant, service.id, kind, rooms, persons, value,
                 iso(start), iso(end) if end else None),
            )  # fmt: skip

    def category(self, code: str, name: str, rate: str, services: Sequence[Service]) -> int:
        category_id = self.ids.take(BENEFIT_CATEGORY)
        self.batch.add(BENEFIT_CATEGORY, (category_id, self.tenant, code, name, rate))
        for service in services:
            self.batch.add(
                BENEFIT_CATEGORY_SERVICE,
                (self.ids.take(BENEFIT_CATEGORY_SERVICE), category_id, service.id),
            )
        return category_id

    def parameter(self, name: str, value: str, note: str, start: date) -> None:
        self.batch.add(
            PARAMETER, (self.ids.take(PARAMETER), self.tenant, name, value, note, iso(start), None)
        )


def electricity_norms(catalog: Catalog, service: Service, start: date, factor: float = 1.0) -> None:
    """Household electricity norms by rooms (1–4) and persons (1–5), kWh per person a month:
    fewer per person in bigger households, more in bigger homes."""
    base = {1: 133, 2: 156, 3: 170, 4: 179}
    per_person = {1: 1.0, 2: 0.62, 3: 0.48, 4: 0.39, 5: 0.34}
    for rooms, norm in base.items():
        for persons, share in per_person.items():
            value = f"{norm * share * factor:.3f}"
            catalog.norm(
                service, "per_person", [(start, None, value)], rooms=rooms, persons=persons
            )
