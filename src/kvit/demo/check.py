"""Checks a random sample of seeded rows the way the back office would.

Bulk writes skip model validation, so this is the proof that the generator only makes
valid data: full_clean() on sampled rows of every table, plus the invariants that span
rows: ownership shares add up to 1, share accounts do not exceed the premise, readings
only grow (or roll over by at most rollover_max_fraction of the capacity), registrations
and benefits lie inside the account's life, benefits inside a registration.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Model

from kvit.accounts.models import Account
from kvit.core.parameters import SPECS
from kvit.demo.schema import TABLES
from kvit.metering.models import Meter, Reading
from kvit.people.models import Benefit, Registration
from kvit.people.queries import premise_share_errors as share_errors
from kvit.premises.models import Premise

M = TypeVar("M", bound=Model)
ROLLOVER_MAX = Decimal(SPECS["rollover_max_fraction"].default_on(date.max))


def sample(model: type[M], size: int, rng: random.Random) -> list[M]:
    """Up to `size` rows at random ids (ids are dense, so few probes miss)."""
    bounds = model._default_manager.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return []
    probes = {rng.randint(bounds["low"], bounds["high"]) for _ in range(size * 2)}
    return list(model._default_manager.filter(pk__in=probes)[:size])


def sample_errors(size: int = 50, seed: int = 0) -> list[str]:
    """Readable problems found in a sample of `size` rows per table; empty when all is well."""
    rng = random.Random(seed)
    errors: list[str] = []
    for table in TABLES:
        if table.model._meta.auto_created:
            continue  # many-to-many links: their foreign keys are the whole row
        for row in sample(table.model, size, rng):
            try:
                row.full_clean()
            except ValidationError as error:
                errors.append(f"{table.label} {row.pk}: {error.messages}")
    for premise in sample(Premise, size, rng):
        errors += [f"premise {premise.pk}: {e.messages[0]}" for e in share_errors(premise.pk)]
        errors += _share_account_errors(premise)
    for meter in sample(Meter, size, rng):
        errors += _reading_errors(meter)
    for account in sample(Account, size, rng):
        errors += _registration_errors(account)
    return errors


def _share_account_errors(premise: Premise) -> list[str]:
    shares = sum((a.share for a in premise.accounts.filter(closed_on__isnull=True)), Fraction(0))
    if shares > 1:
        return [f"premise {premise.pk}: open accounts hold {shares} of it"]
    return []


def _reading_errors(meter: Meter) -> list[str]:
    errors = []
    series: dict[str, list[Reading]] = defaultdict(list)
    for reading in meter.readings.filter(status="accepted").order_by("taken_on", "id"):
        series[reading.zone].append(reading)
    for zone, readings in series.items():
        for before, after in pairwise(readings):
            volume = after.value - before.value
            if volume < 0:
                volume += meter.capacity  # a rollover, valid only if small enough
            if volume > ROLLOVER_MAX * meter.capacity:
                errors.append(
                    f"meter {meter.pk} {zone}: {before.value} on {before.taken_on} then "
                    f"{after.value} on {after.taken_on}"
                )
    return errors


def _registration_errors(account: Account) -> list[str]:
    errors = []
    stays = list(Registration.objects.filter(account=account))
    for stay in stays:
        if stay.effective_from < account.opened_on:
            errors.append(f"registration {stay.pk} starts before account {account.pk} opened")
    for benefit in Benefit.objects.filter(account=account):
        inside = any(
            s.person_id == benefit.person_id
            and s.effective_from <= benefit.effective_from
            and (
                s.effective_to is None
                or (benefit.effective_to is not None and benefit.effective_to <= s.effective_to)
            )
            for s in stays
        )
        if not inside:
            errors.append(f"benefit {benefit.pk} lies outside the person's registration")
    return errors
