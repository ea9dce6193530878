"""Persons of one tenant and what ties them to premises and accounts: ownership shares,
registrations (moves in and out) and benefits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kvit.demo import names, requisites
from kvit.demo.rows import Batch, Ids
from kvit.demo.schema import BENEFIT, OWNERSHIP, PERSON, REGISTRATION
from kvit.demo.window import iso

ADULT_FROM, ADULT_TO = date(1940, 1, 1).toordinal(), date(2000, 12, 31).toordinal()
CHILD_FROM, CHILD_TO = date(2001, 1, 1).toordinal(), date(2023, 12, 31).toordinal()


@dataclass(frozen=True, slots=True)
class Resident:
    id: int
    born: date
    last_name: str
    first_name: str
    middle_name: str


@dataclass(frozen=True, slots=True)
class Stay:
    """A registration on an account: [start, end)."""

    resident: Resident
    start: date
    end: date | None = None
    kind: str = "permanent"


class People:
    def __init__(self, batch: Batch, ids: Ids, rng: random.Random, tenant: int) -> None:
        self.batch, self.ids, self.rng, self.tenant = batch, ids, rng, tenant

    def person(
        self,
        *,
        surname: str | None = None,
        female: bool | None = None,
        born: date | None = None,
        child: bool = False,
    ) -> Resident:
        rng = self.rng
        female = rng.random() < 0.52 if female is None else female
        surname = surname or rng.choice(names.SURNAMES)
        last = names.female_surname(surname) if female else surname
        first = rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES)
        middle = rng.choice(names.PATRONYMICS)[1 if female else 0]
        if born is None:
            low, high = (CHILD_FROM, CHILD_TO) if child else (ADULT_FROM, ADULT_TO)
            born = date.fromordinal(rng.randint(low, high))
        person_id = self.ids.take(PERSON)
        adult = not child and born.year <= 2006
        inn = requisites.personal_inn(person_id) if adult and rng.random() < 0.15 else ""
        phone = requisites.phone(person_id) if adult and rng.random() < 0.4 else ""
        self.batch.add(
            PERSON, (person_id, self.tenant, last, first, middle, iso(born), inn, phone, "")
        )
        return Resident(person_id, born, last, first, middle)

    def family(self, size: int) -> list[Resident]:
        """A household: an adult head, maybe a spouse, then children or a grandparent."""
        rng = self.rng
        head = self.person()
        surname = male_form(head.last_name)
        members = [head]
        if size >= 2:
            members.append(self.person(surname=surname, female=head.last_name == surname))
        for _ in range(size - len(members)):
            grandparent = rng.random() < 0.2
            members.append(
                self.person(
                    surname=surname,
                    child=not grandparent,
                    born=date(rng.randint(1935, 1955), rng.randint(1, 12), rng.randint(1, 28))
                    if grandparent
                    else None,
                )
            )
        return members

    def register(self, account: int, stays: Sequence[Stay], opened_on: date) -> None:
        """Registrations no earlier than the account opened (older history is not kept)."""
        for stay in stays:
            start = max(stay.start, stay.resident.born, opened_on)
            if stay.end is not None and stay.end <= start:
                continue
            document = (
                "Заявление о регистрации по месту пребывания" if (stay.kind == "temporary") else ""
            )
            self.batch.add(
                REGISTRATION,
                (self.ids.take(REGISTRATION), account, stay.resident.id, stay.kind, document,
                 iso(start), iso(stay.end) if stay.end else None),
            )  # fmt: skip

    def own(
        self,
        premise: int,
        owner: Resident,
        share: tuple[int, int],
        start: date,
        end: date | None = None,
        document: str = "",
    ) -> None:
        self.batch.add(
            OWNERSHIP,
            (self.ids.take(OWNERSHIP), premise, owner.id, share[0], share[1],
             document or f"Выписка из ЕГРН от {start:%d.%m.%Y}", iso(start),
             iso(end) if end else None),
        )  # fmt: skip

    def benefit(
        self, account: int, stay: Stay, category: int, document: str, earliest: date, latest: date
    ) -> None:
        """A benefit inside the beneficiary's registration, starting in [earliest, latest)."""
        start = max(stay.start, stay.resident.born, earliest)
        end = min(stay.end, latest) if stay.end else latest
        if start >= end:
            return
        start = date.fromordinal(start.toordinal() + self.rng.randint(0, (end - start).days - 1))
        self.batch.add(
            BENEFIT,
            (self.ids.take(BENEFIT), account, stay.resident.id, category, document, iso(start),
             iso(stay.end) if stay.end else None),
        )  # fmt: skip


def male_form(last_name: str) -> str:
    for female, male in (("ова", "ов"), ("ева", "ев"), ("ёва", "ёв"), ("ина", "ин"),
                         ("ына", "ын"), ("ская", "ский")):  # fmt: skip
        if last_name.endswith(female):
            return last_name[: -len(female)] + male
    return last_name


def shares_of(count: int, rng: random.Random) -> list[tuple[int, int]]:
    """Co-owners' shares that add up to exactly 1."""
    options = {
        2: [[(1, 2), (1, 2)], [(1, 3), (2, 3)], [(1, 4), (3, 4)]],
        3: [[(1, 3), (1, 3), (1, 3)], [(1, 2), (1, 4), (1, 4)], [(1, 6), (1, 3), (1, 2)]],
        4: [[(1, 4), (1, 4), (1, 4), (1, 4)], [(1, 2), (1, 6), (1, 6), (1, 6)]],
    }
    return rng.choice(options[count])
