"""The energy sales company's grid tree (region → district → substation → feeder →
transformer point) with private houses and legal consumers hanging off it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from kvit.demo import names, requisites
from kvit.demo.catalog import Node, Service, add_node, add_test_bank
from kvit.demo.energy_catalog import EnergyCatalog, energy_catalog
from kvit.demo.meters import FLAT, LIGHTING, Habits, MeterModel, Where, install
from kvit.demo.residents import People, Resident, Stay, male_form, shares_of
from kvit.demo.rows import Batch, Ids, m2
from kvit.demo.schema import ACCOUNT, ACCOUNT_SERVICE, BUILDING, CONTRACT, PREMISE
from kvit.demo.stories import energy_story
from kvit.demo.users import Consumers, Hashes, Login, add_staff
from kvit.demo.window import Window, days_later, iso


@dataclass(frozen=True, slots=True)
class Level:
    kind: str
    code: str
    children: tuple[int, int]  # how many children each node gets (min, max)


LEVELS = (
    Level("region", "R", (4, 8)),
    Level("district", "D", (3, 5)),
    Level("substation", "S", (3, 7)),
    Level("feeder", "F", (4, 9)),
    Level("transformer_point", "TP", (30, 110)),  # children of a transformer point: accounts
)
REGION, DISTRICT, SUBSTATION, FEEDER, TP = range(len(LEVELS))
LEGAL_EVERY = 20  # one account in 20 is a legal consumer
BILLED_SINCE = date(2008, 7, 1)  # the company took over the households' contracts
SIZES, SIZE_WEIGHTS = (1, 2, 3, 4, 5, 6), (0.12, 0.28, 0.22, 0.2, 0.12, 0.06)
HOUSEHOLD_HABITS = Habits("consumer", 15, 23)  # the cutoff is the 23rd (parameter override)
TELEMETRY = Habits("telemetry", 20, 23, missing=0.01, rejected=0)


class Energy:
    def __init__(self, batch: Batch, ids: Ids, window: Window, hashes: Hashes, joined: str) -> None:
        self.catalog: EnergyCatalog
        self.catalog, _ = energy_catalog(batch, ids, window.reference)
        self.tenant = self.catalog.tenant
        self.window = window
        self.logins: list[Login] = add_staff(
            batch, ids, hashes, joined, self.tenant, "energo", "energy sales company"
        )
        self.consumers = Consumers(hashes, joined, self.tenant, "energo")
        add_test_bank(batch, ids, self.tenant, joined)
        self.nodes: list[Node | None] = [None] * len(LEVELS)
        self.titles = [""] * len(LEVELS)
        self.made = [0] * len(LEVELS)
        self.room = [0] * (len(LEVELS) + 1)  # children still to come under the current node
        self.houses = self.accounts = 0
        self.village, self.first_street, self.houses_here = "", 0, 0

    def fill(self, batch: Batch, ids: Ids, rng: random.Random, accounts: int) -> None:
        self.batch, self.ids, self.rng = batch, ids, rng
        self.people = People(batch, ids, rng, self.tenant)
        while batch.accounts < accounts:
            if self.room[TP + 1] == 0:
                self._open(TP)
            self.room[TP + 1] -= 1
            if self.accounts % LEGAL_EVERY == 1:
                self._legal()
            else:
                self._household(accounts - batch.accounts)

    # --- the tree, grown as accounts need it ---

    def _open(self, level: int) -> None:
        """A new node at `level`, opening new ancestors when the current ones are full."""
        if level > REGION and self.room[level] == 0:
            self._open(level - 1)
        rng = self.rng
        spec = LEVELS[level]
        self.made[level] += 1
        self.room[level] -= 1
        self.room[level + 1] = rng.randint(*spec.children)
        number = self.made[level]
        title = {
            REGION: names.REGIONS[(number - 1) % len(names.REGIONS)],
            DISTRICT: f"{names.DISTRICT_ROOTS[(number - 1) % len(names.DISTRICT_ROOTS)]} район",
            SUBSTATION: f"ПС 35/10 кВ «{rng.choice(names.VILLAGE_ROOTS)}»",
            FEEDER: f"Ф-10-{number:03d}",
            TP: f"ТП-{number:04d} 10/0,4 кВ",
        }[level]
        parent = self.nodes[level - 1] if level > REGION else None
        node = add_node(
            self.batch, self.ids, self.tenant, spec.kind, f"{spec.code}{number}", title, parent
        )
        self.nodes[level], self.titles[level] = node, title
        if level == FEEDER:
            self._head_meter(node, self.room[level + 1])
        if level == TP:
            self.village = f"{rng.choice(names.VILLAGE_KINDS)} {rng.choice(names.VILLAGE_ROOTS)}"
            self.first_street, self.houses_here = rng.randrange(len(names.STREETS)), 0

    def _head_meter(self, feeder: Node, points: int) -> None:
        """The feeder's head meter behind 300/5 current and 10000/100 voltage transformers."""
        kwh_a_day = points * 70 * 9.0 * 1.08  # the houses behind it plus losses
        model = MeterModel("electricity", ("total",), (kwh_a_day / 6000,), LIGHTING, 6, 2,
                           "6000.000", 8, "ГУ")  # fmt: skip
        where = Where(self.tenant, "feeder_head", node=feeder.id)
        install(self.batch, self.ids, self.rng, self.window, where, model, TELEMETRY)

    def _address(self) -> str:
        self.houses_here += 1
        street = names.STREETS[(self.first_street + self.houses_here // 25) % len(names.STREETS)]
        return (
            f"{self.titles[REGION]}, {self.titles[DISTRICT]}, {self.village}, {street}, "
            f"д. {self.houses_here % 25 + 1}"
        )

    def _place(self, area: int, kind: str, number: str, node: Node, rooms: int = 1) -> int:
        """A building with one premise: a private house, or a legal consumer's site."""
        batch, ids = self.batch, self.ids
        building_id, premise = ids.take(BUILDING), ids.take(PREMISE)
        # A house has no common-use area, but the model requires one above zero.
        batch.add(
            BUILDING,
            (building_id, self.tenant, node.id, self._address(), "", "direct", m2(area), "0.01",
             "individual", "regional_operator", None),
        )  # fmt: skip
        living = m2(area * 60 // 100) if kind == "residential" else None
        batch.add(PREMISE, (premise, self.tenant, building_id, node.id, number, kind, m2(area),
                            living, rooms, False))  # fmt: skip
        return premise

    def _account(
        self,
        premise: int,
        node: Node,
        kind: str,
        payer: Resident | None,
        opened_on: date,
        closed_on: date | None = None,
    ) -> int:
        account = self.ids.take(ACCOUNT)
        self.accounts += 1
        self.batch.accounts += 1
        self.batch.add(
            ACCOUNT,
            (account, self.tenant, f"2{self.accounts:08d}", premise, node.id, kind,
             payer.id if payer else None, 1, 1, iso(opened_on), iso(closed_on) if closed_on
             else None),
        )  # fmt: skip
        self.consumers.note(self.batch, self.ids, account, payer)
        return account

    def _service(self, account: int, service: Service, start: date, end: date | None) -> None:
        self.batch.add(
            ACCOUNT_SERVICE,
            (self.ids.take(ACCOUNT_SERVICE), account, service.id, service.provider, "",
             iso(start), iso(end) if end else None),
        )  # fmt: skip

    # --- consumers ---

    def _household(self, room: int) -> None:
        rng, people, window = self.rng, self.people, self.window
        story = energy_story(self.houses, rng)
        self.houses += 1
        tp = self.nodes[TP]
        assert tp is not None
        rooms = rng.randint(2, 5)
        premise = self._place(rng.randint(4000, 16000), "residential", "1", tp, rooms=rooms)
        since = date(rng.randint(1975, 2022), rng.randint(1, 12), rng.randint(1, 28))
        opened = max(since, BILLED_SINCE)
        service = self.catalog.day_night if story.two_zones else self.catalog.tiered
        family = people.family(rng.choices(SIZES, SIZE_WEIGHTS)[0] + story.co_owned)
        if story.sale and room >= 2:
            # The house is sold: the old contract closes, the buyer opens a new account.
            sold_on = window.periods[rng.randint(2, 9)].day(rng.randint(1, 28))
            people.own(premise, family[0], (1, 1), since, sold_on)
            old = self._account(premise, tp, "household", family[0], opened, sold_on)
            people.register(old, [Stay(r, since, sold_on) for r in family], opened)
            self._service(old, service, opened, sold_on)
            buyers = people.family(rng.randint(1, 4))
            people.own(premise, buyers[0], (1, 1), sold_on, None,
                       f"Договор купли-продажи от {sold_on:%d.%m.%Y}")  # fmt: skip
            new = self._account(premise, tp, "household", buyers[0], sold_on)
            moved_in = days_later(sold_on, rng.randint(3, 30))
            people.register(new, [Stay(r, moved_in) for r in buyers], sold_on)
            self._service(new, service, sold_on, None)
            persons = len(buyers)
        else:
            owners = family[:2] if story.co_owned else family[:1]
            for owner, share in zip(owners, shares_of(2, rng) if story.co_owned else [(1, 1)],
                                    strict=True):  # fmt: skip
                people.own(premise, owner, share, since)
            stays = [Stay(r, since) for r in family]
            if story.move_out and len(stays) >= 2:
                stays[-1] = Stay(
                    stays[-1].resident,
                    since,
                    window.periods[rng.randint(1, 10)].day(rng.randint(1, 28)),
                )
            if story.move_in:
                born = window.periods[rng.randint(1, 10)].day(rng.randint(1, 28))
                stays.append(
                    Stay(
                        people.person(
                            surname=male_form(family[0].last_name), born=born, child=True
                        ),
                        born,
                    )
                )
            if story.temporary:
                start = window.periods[rng.randint(0, 6)].day(rng.randint(1, 28))
                stays.append(
                    Stay(
                        people.person(), start, days_later(start, rng.randint(60, 150)), "temporary"
                    )
                )
            account = self._account(premise, tp, "household", family[0], opened)
            people.register(account, stays, opened)
            self._service(account, service, opened, None)
            if story.benefit:
                category, document = rng.choice(self.catalog.categories)
                people.benefit(
                    account,
                    stays[0],
                    category,
                    f"{document} № {rng.randint(1_000, 9_999)}",
                    opened,
                    window.end,
                )
            persons = sum(1 for s in stays if s.end is None)
        kwh = 4.0 + 1.5 * max(persons, 1)
        modern = rng.random() < 0.55
        if story.two_zones:
            model = MeterModel("electricity", ("day", "night"), (kwh * 0.7, kwh * 0.3), LIGHTING,
                               6, 2, interval=16, serial_prefix="ДН")  # fmt: skip
        else:
            model = MeterModel("electricity", ("total",), (kwh,), LIGHTING, 6 if modern else 5,
                               2 if modern else 1, interval=16, serial_prefix="ЭЛ")  # fmt: skip
        install(self.batch, self.ids, rng, window, Where(self.tenant, "individual", premise),
                model, HOUSEHOLD_HABITS, replaced=story.replaced == "electricity",
                rollover=story.rollover)  # fmt: skip

    def _legal(self) -> None:
        rng = self.rng
        feeder, tp = self.nodes[FEEDER], self.nodes[TP]
        assert feeder is not None and tp is not None
        medium = rng.random() < 0.15  # fed straight from the 10 kV feeder
        node = feeder if medium else tp
        premise = self._place(rng.randint(5_000, 300_000), "non_residential", "Н1", node)
        signed = date(rng.randint(2008, 2023), rng.randint(1, 12), rng.randint(1, 28))
        account = self._account(premise, node, "legal", None, signed)
        serial = 1_000 + self.accounts
        inn = requisites.company_inn(serial)
        organisation = (
            f"{rng.choice(names.ORG_FORMS)} «{rng.choice(names.ORG_STEMS)}"
            f"{rng.choice(names.ORG_SUFFIXES)}» ({rng.choice(names.ORG_ACTIVITIES)})"
        )
        kwh_a_day = rng.uniform(150, 2_000) * (4 if medium else 1)
        self.batch.add(
            CONTRACT,
            (self.ids.take(CONTRACT), account, f"{serial:06d}/ЭС-{signed.year}", iso(signed),
             organisation, inn, requisites.kpp(inn), 1, "mv2" if medium else "lv",
             f"{kwh_a_day * 30:.3f}"),
        )  # fmt: skip
        self._service(account, self.catalog.legal, signed, None)
        ratio = 1000 if medium else rng.choice((40, 80))  # 50/5 × 10000/100; 200/5 or 400/5
        model = MeterModel("electricity", ("total",), (kwh_a_day / ratio,), FLAT, 6, 2,
                           f"{ratio}.000", 8, "ТТ")  # fmt: skip
        install(self.batch, self.ids, rng, self.window, Where(self.tenant, "individual", premise),
                model, TELEMETRY)  # fmt: skip
