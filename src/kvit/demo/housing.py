"""The management company's buildings: entrances, flats, owners, residents, accounts and
meters, one building at a time."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date

from kvit.demo.catalog import Node, Service, add_node, add_test_bank
from kvit.demo.housing_catalog import CITY, NAME, HousingCatalog, housing_catalog
from kvit.demo.meters import (
    HEAT,
    HOT_WATER,
    LIGHTING,
    WATER,
    Habits,
    MeterModel,
    Where,
    install,
)
from kvit.demo.names import STREETS
from kvit.demo.residents import People, Resident, Stay, male_form, shares_of
from kvit.demo.rows import Batch, Ids, m2
from kvit.demo.schema import (
    ACCOUNT,
    ACCOUNT_SERVICE,
    BUILDING,
    BUILDING_RESOURCE,
    METER_IMPOSSIBILITY,
    PREMISE,
)
from kvit.demo.stories import Story, housing_story
from kvit.demo.users import Consumers, Hashes, Login, add_staff
from kvit.demo.window import Window, days_later, iso


@dataclass(frozen=True, slots=True)
class Template:
    floors: int
    entrances: int
    per_floor: int
    rooms: tuple[float, float, float, float]  # weights of 1-, 2-, 3- and 4-room flats


TEMPLATES = (
    Template(5, 4, 4, (0.3, 0.45, 0.25, 0.0)),  # five-storey panel block
    Template(9, 6, 4, (0.25, 0.4, 0.3, 0.05)),
    Template(12, 3, 4, (0.3, 0.35, 0.3, 0.05)),
    Template(16, 2, 6, (0.35, 0.35, 0.25, 0.05)),
    Template(3, 2, 3, (0.2, 0.5, 0.3, 0.0)),  # old low-rise
)
TEMPLATE_WEIGHTS = (0.35, 0.3, 0.15, 0.1, 0.1)
AREAS = {1: (3000, 4200), 2: (4200, 5800), 3: (5600, 8000), 4: (7500, 10000)}  # 0.01 m²
FAMILY_SIZES, FAMILY_WEIGHTS = (1, 2, 3, 4, 5), (0.25, 0.35, 0.25, 0.12, 0.03)
SOURCES, SOURCE_WEIGHTS = ("consumer", "meter_reader", "bank_registry"), (0.65, 0.15, 0.2)


@dataclass(frozen=True, slots=True)
class Building:
    id: int
    taken_over: date  # the company manages it (and bills its accounts) from this day
    central: bool  # central heating and hot water
    capital_provider: int
    stoves: bool  # electric stoves: the electricity tariff group
    intercom_from: date | None


@dataclass(slots=True)
class Household:
    payer: Resident
    share: tuple[int, int]
    stays: list[Stay]


class Housing:
    def __init__(self, batch: Batch, ids: Ids, window: Window, hashes: Hashes, joined: str) -> None:
        self.catalog: HousingCatalog
        self.catalog, catalog = housing_catalog(batch, ids)
        self.tenant = self.catalog.tenant
        self.root = catalog.node("company", "uk", NAME)
        self.window = window
        self.logins: list[Login] = add_staff(
            batch, ids, hashes, joined, self.tenant, "uk", "management company"
        )
        self.consumers = Consumers(hashes, joined, self.tenant, "uk")
        add_test_bank(batch, ids, self.tenant, joined)
        self.buildings = self.premises = self.accounts = 0

    def fill(self, batch: Batch, ids: Ids, rng: random.Random, accounts: int) -> None:
        """Whole buildings (the last one cut short) until the batch has `accounts` accounts."""
        self.batch, self.ids, self.rng = batch, ids, rng
        self.people = People(batch, ids, rng, self.tenant)
        while batch.accounts < accounts:
            self._building(accounts)

    def _building(self, limit: int) -> None:
        batch, ids, rng = self.batch, self.ids, self.rng
        self.buildings += 1
        seq = self.buildings
        # Small houses first, so that even the smallest demo has several buildings.
        template = TEMPLATES[-1] if seq <= 3 else rng.choices(TEMPLATES, TEMPLATE_WEIGHTS)[0]
        street = STREETS[(seq - 1) % len(STREETS)]
        house = f"д. {(seq - 1) // len(STREETS) + 1}"
        node = add_node(
            batch, ids, self.tenant, "building", f"b{seq:05d}", f"{street}, {house}", self.root
        )
        special = rng.random() < 0.1  # capital repair on the company's special account
        building = Building(
            id=ids.take(BUILDING),
            taken_over=date(rng.randint(2015, 2022), rng.randint(1, 12), 1),
            central=rng.random() < 0.93,
            capital_provider=self.catalog.company if special else self.catalog.capital.provider,
            stoves=template.floors >= 9,
            intercom_from=self.window.periods[6].first if rng.random() < 0.3 else None,
        )
        total_area = flats = persons = 0
        for entrance in range(1, template.entrances + 1):
            if batch.accounts >= limit:
                break
            entrance_node = add_node(
                batch, ids, self.tenant, "entrance", f"b{seq:05d}-{entrance}",
                f"Подъезд {entrance}", node,
            )  # fmt: skip
            for _ in range(template.floors * template.per_floor):
                if batch.accounts >= limit:
                    break
                flats += 1
                area, residents = self._flat(building, entrance_node, flats, template, limit)
                total_area += area
                persons += residents
        batch.add(
            BUILDING,
            (building.id, self.tenant, node.id, f"{CITY}, {street}, {house}",
             str(uuid.UUID(int=rng.getrandbits(128), version=4)), "management_company",
             m2(total_area), m2(total_area * 16 // 100),
             "central" if building.central else "individual",
             "special_account" if special else "regional_operator",
             20 if rng.random() < 0.05 else None),
        )  # fmt: skip
        self._common_meters(building, flats, persons, total_area)

    def _flat(
        self, building: Building, node: Node, number: int, template: Template, limit: int
    ) -> tuple[int, int]:
        """One flat with its households and meters: (area in 0.01 m², persons living)."""
        batch, ids, rng, people, window = self.batch, self.ids, self.rng, self.people, self.window
        premise = ids.take(PREMISE)
        story = housing_story(self.premises, rng)
        self.premises += 1
        rooms = rng.choices((1, 2, 3, 4), template.rooms)[0]
        area = rng.randint(*AREAS[rooms])
        batch.add(
            PREMISE,
            (premise, self.tenant, building.id, node.id, str(number), "residential", m2(area),
             m2(area * rng.randint(55, 70) // 100), rooms, rooms >= 3 and rng.random() < 0.01),
        )  # fmt: skip
        since = date(rng.randint(1995, 2021), rng.randint(1, 12), rng.randint(1, 28))
        households = self._households(premise, story, since, limit - batch.accounts)
        for index, household in enumerate(households):
            account = ids.take(ACCOUNT)
            self.accounts += 1
            batch.accounts += 1
            batch.add(
                ACCOUNT,
                (account, self.tenant, f"1{self.accounts:08d}", premise, node.id, "household",
                 household.payer.id, *household.share, iso(building.taken_over), None),
            )  # fmt: skip
            people.register(account, household.stays, building.taken_over)
            self._services(account, building, main=index == 0)
            self.consumers.note(batch, ids, account, household.payer)
            if story.benefit and household.stays:
                category, document = rng.choice(self.catalog.categories)
                people.benefit(account, household.stays[0], category,
                               f"{document} № {rng.randint(10_000, 99_999)}",
                               building.taken_over, window.end)  # fmt: skip
        living = sum(1 for h in households for s in h.stays if s.end is None)
        self._meters(premise, building, story, max(living, 1))
        return area, living

    def _households(self, premise: int, story: Story, since: date, room: int) -> list[Household]:
        """Owners (shares adding up to 1 on every date) and who is registered, per account;
        the main account (metered services) first."""
        people, rng, window = self.people, self.rng, self.window
        if story.share_accounts and room >= 2:
            # Co-owners with separate accounts: the second one's household lives elsewhere.
            main, other = sorted(shares_of(2, rng), key=lambda s: -s[0] / s[1])
            households = []
            for share, size in ((main, rng.randint(1, 4)), (other, rng.randint(0, 1))):
                family = people.family(max(size, 1))
                people.own(premise, family[0], share, since)
                stays = [Stay(r, since) for r in family] if size else []
                households.append(Household(family[0], share, stays))
            return households
        if story.sale:
            sold_on = window.periods[rng.randint(2, 9)].day(rng.randint(1, 28))
            old = people.family(rng.randint(1, 3))
            new = people.family(rng.randint(1, 4))
            deed = f"Договор купли-продажи от {sold_on:%d.%m.%Y}"
            people.own(premise, old[0], (1, 1), since, sold_on)
            people.own(premise, new[0], (1, 1), sold_on, None, deed)
            moved_in = days_later(sold_on, rng.randint(5, 40))
            stays = [Stay(r, since, sold_on) for r in old] + [Stay(r, moved_in) for r in new]
            return [Household(new[0], (1, 1), stays)]
        family = people.family(rng.choices(FAMILY_SIZES, FAMILY_WEIGHTS)[0] + story.co_owned)
        owners = family[: min(len(family), rng.randint(2, 3))] if story.co_owned else family[:1]
        for owner, share in zip(owners, shares_of(len(owners), rng) if story.co_owned else [(1, 1)],
                                strict=True):  # fmt: skip
            people.own(premise, owner, share, since)
        stays = [] if story.empty else [Stay(r, since) for r in family]
        if story.move_out and len(stays) >= 2:
            left = window.periods[rng.randint(1, 10)].day(rng.randint(1, 28))
            stays[-1] = Stay(stays[-1].resident, since, left)
        if story.move_in:
            born = window.periods[rng.randint(1, 10)].day(rng.randint(1, 28))
            baby = people.person(surname=male_form(family[0].last_name), born=born, child=True)
            stays.append(Stay(baby, born))
        if story.temporary:
            start = window.periods[rng.randint(0, 6)].day(rng.randint(1, 28))
            guest = people.person()
            stays.append(Stay(guest, start, days_later(start, rng.randint(90, 180)), "temporary"))
        return [Household(family[0], (1, 1), stays)]

    def _services(self, account: int, building: Building, *, main: bool) -> None:
        c = self.catalog
        connected: list[tuple[Service, int, str, date]] = [
            (c.maintenance, c.maintenance.provider, "", building.taken_over),
            (c.repair, c.repair.provider, "", building.taken_over),
            (c.capital, building.capital_provider, "", building.taken_over),
            (c.waste, c.waste.provider, "", building.taken_over),
            (c.common_electricity, c.common_electricity.provider, "", building.taken_over),
        ]
        if building.central:
            connected.append((c.heating, c.heating.provider, "", building.taken_over))
        if main:  # metered services go to the account that holds the meters
            group = "electric_stove" if building.stoves else ""
            connected += [
                (c.cold, c.cold.provider, "", building.taken_over),
                (c.electricity, c.electricity.provider, group, building.taken_over),
            ]
            if building.central:
                connected.append((c.hot, c.hot.provider, "", building.taken_over))
        if building.intercom_from:
            start = max(building.intercom_from, building.taken_over)
            connected.append((c.intercom, c.intercom.provider, "", start))
        batch, ids = self.batch, self.ids
        for service, provider, group, start in connected:
            batch.add(
                ACCOUNT_SERVICE,
                (ids.take(ACCOUNT_SERVICE), account, service.id, provider, group, iso(start),
                 None),
            )  # fmt: skip

    def _meters(self, premise: int, building: Building, story: Story, persons: int) -> None:
        batch, ids, rng, window = self.batch, self.ids, self.rng, self.window
        where = Where(self.tenant, "individual", premise=premise)
        habits = Habits(source=rng.choices(SOURCES, SOURCE_WEIGHTS)[0])
        if not story.no_cold_meter:  # no meter although one is possible: norm × 1.5
            cold = MeterModel("cold_water", ("total",), (0.11 * persons,), WATER,
                              serial_prefix="ХВ")  # fmt: skip
            install(batch, ids, rng, window, where, cold, habits,
                    replaced=story.replaced == "cold_water", failed=story.failed)  # fmt: skip
        if building.central and story.hot_water_act:
            batch.add(
                METER_IMPOSSIBILITY,
                (ids.take(METER_IMPOSSIBILITY), premise, "hot_water", f"{premise}-ГВ",
                 iso(date(rng.randint(2016, 2023), rng.randint(1, 12), rng.randint(1, 28)))),
            )  # fmt: skip
        elif building.central:
            hot = MeterModel("hot_water", ("total",), (0.075 * persons,), HOT_WATER, interval=4,
                             serial_prefix="ГВ")  # fmt: skip
            install(batch, ids, rng, window, where, hot, habits,
                    replaced=story.replaced == "hot_water")  # fmt: skip
        kwh = (2.5 + 1.6 * persons) * (1.4 if building.stoves else 1.0)
        power = MeterModel("electricity", ("total",), (kwh,), LIGHTING, 6, 2, interval=16,
                           serial_prefix="ЭЛ")  # fmt: skip
        install(batch, ids, rng, window, where, power, habits,
                replaced=story.replaced == "electricity", rollover=story.rollover)  # fmt: skip

    def _common_meters(self, building: Building, flats: int, persons: int, area: int) -> None:
        """Common-house meters (ОДПУ) read remotely at the end of each period."""
        batch, ids, rng, window = self.batch, self.ids, self.rng, self.window
        telemetry = Habits("telemetry", 24, 25, missing=0.02, rejected=0)
        where = Where(self.tenant, "common_house", building=building.id)
        models = [
            MeterModel("cold_water", ("total",), (0.13 * persons,), WATER, 6, 3, "1.000", 6, "ОХ"),
            MeterModel("electricity", ("total",), (7.5 * flats / 40,), LIGHTING, 6, 2, "40.000",
                       16, "ОЭ"),
        ]  # fmt: skip
        if building.central:
            models += [
                MeterModel("hot_water", ("total",), (0.09 * persons,), HOT_WATER, 6, 3, "1.000", 4,
                           "ОГ"),
                MeterModel("heat", ("total",), (area * 0.000_006_5,), HEAT, 6, 3, "1.000", 4,
                           "ОТ"),
            ]  # fmt: skip
        for model in models:
            state = "present"
            if model.resource == "cold_water" and rng.random() < 0.1:
                state = "absent"
            elif model.resource == "heat" and rng.random() < 0.05:
                state = "impossible"
            batch.add(
                BUILDING_RESOURCE,
                (ids.take(BUILDING_RESOURCE), building.id, model.resource, state),
            )
            if state == "present":
                install(batch, ids, rng, window, where, model, telemetry)
