"""Changes of billing inputs, billed at once (the real-time path for reference data).

An action that saves or deletes an input row — a registration, a benefit, a temporary
absence, a tariff or norm version, a connected service, a meter, a premise's or a building's
own fields (`undated`: in force for every period) — does it inside `recalculating()`
and `track()`s the row first. When the outermost block ends, still in its transaction, each
tracked row's version before is compared with the one the database holds now
(`kvit.core.dating.first_difference`): from the first day that differs, the accounts the row
reaches are rated again for that day's period and every later one already opened
(`kvit.billing.actions.billed_since`, `recalculate_accounts`). An open period is corrected in
place; a closed one by `recalculation` entries in the open period that name it and the
reason. A change that differs on no day, or only after the last opened period, rates
nothing.

Blocks nest: an inner block (an action called by another, the inline rows of one admin
page) joins the outermost one, so one save is rated once, whatever it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import models, transaction

from kvit.billing.actions import BillRunRefused, billed_since, recalculate_accounts
from kvit.core.dating import DateRange, first_difference
from kvit.core.periods import Period
from kvit.core.rebilling import RECALCULATED
from kvit.db.effective import EffectiveDated, NoOverlap, concrete_field, overlapping


@dataclass(frozen=True, slots=True)
class Version:
    """A dated input row as the database holds it: its tenant, its days and everything else
    billing reads from it (`key`)."""

    tenant_id: int
    span: DateRange
    key: tuple[Any, ...]


@dataclass(frozen=True)
class Input:
    """A kind of dated input row: how to read its version and which accounts it reaches.

    `accounts(version, since)`: the ids of the accounts whose charges the version reaches on
    the days from `since`. `reason` is the recalculation's reason; `ended_reason` (if any)
    replaces it when the change only takes days away (ended earlier, or removed).
    """

    source: str  # the entries' source kind: "registration", "tariff", …
    reason: str
    version: Callable[[int], Version | None]
    accounts: Callable[[Version, date], Iterable[int]]
    ended_reason: str = ""


def dated(
    model: type[models.Model],
    tenant: str,
    *key: str,
    start: str = "effective_from",
    end: str = "effective_to",
    children: Callable[[int], tuple[Any, ...]] | None = None,
) -> Callable[[int], Version | None]:
    """The `Input.version` of `model`: the row's `tenant` path, its dates and `key` fields,
    plus what `children(pk)` returns (a tariff's tiers), read from the database."""

    def version(pk: int) -> Version | None:
        row = model._default_manager.filter(pk=pk).values_list(tenant, start, end, *key).first()
        if row is None:
            return None
        extra = children(pk) if children is not None else ()
        return Version(row[0], DateRange(row[1], row[2]), (*row[3:], *extra))

    return version


ALWAYS = date.min
"""Where the version of a row without dates begins: billing reads it for every period."""


def undated(model: type[models.Model], tenant: str, *key: str) -> Callable[[int], Version | None]:
    """The `Input.version` of a row without dates (a premise's area, a building's
    common-house meters): billing reads what it holds now for every period, so a change
    reaches every billed period, the closed ones by recalculations in the open one, as a
    fresh recalculation of them would find."""

    def version(pk: int) -> Version | None:
        row = model._default_manager.filter(pk=pk).values_list(tenant, *key).first()
        return None if row is None else Version(row[0], DateRange(ALWAYS, None), row[1:])

    return version


def own_account(version: Version, since: date) -> list[int]:
    """`Input.accounts` of a row of one account whose id is the first `key` field."""
    return [version.key[0]]


class Tracked(NamedTuple):
    kind: Input
    row: models.Model
    pk: Any  # the row's id when it was tracked (None: a new row)
    before: Version | None


@dataclass
class Recalculation:
    """What a block of input changes rated again, filled in when the outermost block ends."""

    user: Any = None
    tenant_id: int | None = None
    periods: list[Period] = field(default_factory=list)  # rated again
    changed: int = 0  # accounts that got entries
    entries: int = 0
    amount: Decimal = Decimal(0)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # as `Outcome.skipped`
    _tracked: dict[Any, Tracked] = field(default_factory=dict, repr=False)

    def track(self, kind: Input, row: models.Model) -> None:
        """Call before saving or deleting `row`: its version now is what the change is
        compared with (the first one, when a row is saved twice in a block)."""
        slot = (type(row), row.pk) if row.pk is not None else id(row)
        if slot not in self._tracked:
            before = kind.version(row.pk) if row.pk is not None else None
            self._tracked[slot] = Tracked(kind, row, row.pk, before)

    def _finish(self) -> None:
        accounts: set[int] = set()
        since: date | None = None
        reasons: set[str] = set()
        sources: list[tuple[str, str]] = []
        for kind, row, pk, before in self._tracked.values():
            after = kind.version(row.pk) if row.pk is not None else None  # deleted: no pk
            day = first_difference(
                None if before is None else before.span,
                None if after is None else after.span,
                same=before is not None and after is not None and before.key == after.key,
            )
            known = after or before
            if day is None or known is None:
                continue
            self._tenant(known.tenant_id)
            for version in (before, after):
                if version is not None:
                    accounts.update(kind.accounts(version, day))
            since = day if since is None else min(since, day)
            ended = kind.ended_reason and _ended(before, after)
            reasons.add(kind.ended_reason if ended else kind.reason)
            sources.append((kind.source, str(row.pk or pk)))
        if since is None or self.tenant_id is None:
            return
        try:
            outcomes = recalculate_accounts(
                self.tenant_id,
                accounts,
                billed_since(self.tenant_id, Period.of(since)),
                reason=reasons.pop() if len(reasons) == 1 else RECALCULATED,
                source=sources[0],
                user=self.user,
            )
        except BillRunRefused as refused:
            raise ValidationError(str(refused), code="no_open_period") from refused
        self.periods = list(outcomes)
        changed: set[str] = set()
        for outcome in outcomes.values():
            changed |= outcome.changed
            self.entries += outcome.entries
            self.amount += outcome.amount
            self.skipped.extend(outcome.skipped)
        self.changed = len(changed)

    def _tenant(self, tenant_id: int) -> None:
        if self.tenant_id is None:
            self.tenant_id = tenant_id
        elif self.tenant_id != tenant_id:
            raise ValueError("one recalculation block changes the inputs of one organisation")


def _ended(before: Version | None, after: Version | None) -> bool:
    """Whether the change only took days away: the row removed, or ended earlier."""
    if before is None:
        return False
    if after is None:
        return True
    return (
        before.key == after.key
        and before.span.start == after.span.start
        and after.span.end is not None
        and (before.span.end is None or after.span.end < before.span.end)
    )


_CURRENT: ContextVar[Recalculation | None] = ContextVar("recalculation", default=None)


@contextmanager
def recalculating(user: Any = None) -> Iterator[Recalculation]:
    """A block of input changes of one organisation, in one transaction, billed when it ends
    (see the module text). Inside another block it joins that one."""
    current = _CURRENT.get()
    if current is not None:
        yield current
        return
    batch = Recalculation(user)
    token = _CURRENT.set(batch)
    try:
        with transaction.atomic():
            yield batch
            batch._finish()
    finally:
        _CURRENT.reset(token)


def save(kind: Input, row: models.Model, *, user: Any = None) -> Recalculation:
    """Validate and save `row`, billing the change at once (ValidationError: nothing saved)."""
    row.full_clean()
    with recalculating(user) as batch:
        batch.track(kind, row)
        row.save()
    return batch


def remove(kind: Input, row: models.Model, *, user: Any = None) -> Recalculation:
    """Delete `row` (one entered by mistake), billing the change at once."""
    with recalculating(user) as batch:
        batch.track(kind, row)
        row.delete()
    return batch


def add_version(kind: Input, row: EffectiveDated, *, user: Any = None) -> Recalculation:
    """Save `row` as a new version from its `effective_from`: the row with the same key in
    force that day (its model's `NoOverlap` fields) ends there, and `row`, when it has no
    end, ends where that one did. A row of the same key starting that very day is refused
    as an overlap: correct it instead (`save`)."""
    model = type(row)
    constraint = next(c for c in model._meta.constraints if isinstance(c, NoOverlap))
    key = {
        field.attname: getattr(row, field.attname)
        for field in (concrete_field(model, name) for name in constraint.fields)
    }
    start = row.effective_from
    with recalculating(user) as batch:
        current = (
            overlapping(model._default_manager.filter(**key), start, start + timedelta(days=1))
            .filter(effective_from__lt=start)
            .first()
        )
        if current is not None:
            if row.effective_to is None:
                row.effective_to = current.effective_to
            current.effective_to = start
            save(kind, current)
        save(kind, row)
    return batch
