"""Meter readings given in registry lines (spec 6.2, columns 14+): recorded as readings of
the meters of the payment's account, or kept with the reason they were not.

* **At import** (`kvit.registries.actions`) the readings of the new payments on an account
  are recorded. Those of a payment received before are skipped (its readings were taken
  then), and so are those of a payment that goes to suspense, until it is transferred.
* **When a payment in suspense is transferred** to an account
  (`kvit.payments.actions.transfer_from_suspense` sends `payment_transferred`), the readings
  its line held are assessed against that account and recorded, in the transfer's
  transaction. The outcome is a new row per reading, saying so; the skipped rows stay
  (registry readings are append-only).

A meter is found by its number among the meters of the account's premise that were in
place on the payment day (the newest, when a number was reused); the n-th value given for
a meter goes to its n-th zone. All of a batch's readings are checked and saved together
(`kvit.metering.actions.record_readings`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from django.db.models import F
from django.utils.translation import gettext as _

from kvit.metering.actions import record_readings
from kvit.metering.models import Meter, Reading
from kvit.payments.models import Payment
from kvit.registries import parsing
from kvit.registries.models import Registry, RegistryLine, RegistryReading
from kvit.registries.problems import describe

Outcome = RegistryReading.Outcome


class Given(NamedTuple):
    """The readings one registry line gave, and what to assess them against: the payment
    day and the premise of the payment's account (None: not known). A `skip` reason keeps
    them all without assessing them."""

    line: int
    pairs: Sequence[parsing.ReadingPair]
    paid_on: date
    account_number: str
    premise_id: int | None
    skip: str = ""


def record(
    registry: Registry, lines: Sequence[Given], user: Any, *, recorded: str = ""
) -> list[RegistryReading]:
    """Assess the lines' readings and record the valid ones; a row per reading, unsaved
    (the caller writes them in bulk). `recorded` is the reason a recorded row gives."""
    meters = _meters(
        registry.tenant_id,
        {given.premise_id for given in lines if not given.skip},
        {pair.meter for given in lines if not given.skip for pair in given.pairs},
    )
    rows: list[RegistryReading] = []
    readings: list[tuple[RegistryReading, Reading]] = []
    for given in lines:
        zones: Counter[str] = Counter()
        for pair in given.pairs:
            row = RegistryReading(
                registry_id=registry.pk,
                line=given.line,
                meter=pair.meter[:100],
                value=pair.value,
                text=pair.text[:100],
                outcome=Outcome.REJECTED,
            )
            rows.append(row)
            if given.skip:
                row.outcome, row.reason = Outcome.SKIPPED, given.skip
                continue
            if pair.problem is not None:
                row.reason = describe(pair.problem)
                continue
            meter = _meter_on(meters.get((given.premise_id, pair.meter), ()), given.paid_on)
            if meter is None:
                row.reason = _("Meter %(meter)s is not a meter of account %(account)s.") % {
                    "meter": pair.meter,
                    "account": given.account_number,
                }
                continue
            zone = zones[pair.meter]
            zones[pair.meter] += 1
            if zone >= len(meter.zone_codes):
                row.reason = _("Meter %(meter)s has %(zones)s zone(s): too many values.") % {
                    "meter": pair.meter,
                    "zones": len(meter.zone_codes),
                }
                continue
            assert pair.value is not None
            reading = Reading(
                meter=meter,
                zone=meter.zone_codes[zone],
                taken_on=given.paid_on,
                value=pair.value,
                source=Reading.Source.BANK_REGISTRY,
            )
            readings.append((row, reading))
    results = record_readings(
        [reading for _row, reading in readings], source=("registry", str(registry.pk)), user=user
    )
    for (row, reading), error in zip(readings, results, strict=True):
        if error is None:
            row.outcome, row.reading, row.reason = Outcome.RECORDED, reading, recorded
        else:
            row.reason = "; ".join(error.messages)
    return rows


def record_held(payment: Payment, user: Any) -> None:
    """Record the readings a registry line gave with `payment`, skipped while the payment
    was in suspense, now that it is posted to an account (see the module doc)."""
    number = payment.document_number
    if payment.document_kind != Payment.DocumentKind.REGISTRY or not number.isdigit():
        return
    registry = Registry.objects.filter(tenant_id=payment.tenant_id, pk=int(number)).first()
    if registry is None or payment.account is None:
        return
    # By the lines' index of outcomes: the registry's suspense lines, not all its lines.
    line = (
        RegistryLine.objects.filter(
            registry=registry, outcome=RegistryLine.Outcome.SUSPENSE, payment=payment
        )
        .values_list("number", flat=True)
        .first()
    )
    if line is None:
        return
    skipped = RegistryReading.objects.filter(registry=registry, line=line, outcome=Outcome.SKIPPED)
    pairs = [
        parsing.ReadingPair(held.meter, held.value, held.text, _problem(held, line))
        for held in skipped.order_by("pk")
    ]
    if not pairs:
        return
    account = payment.account
    given = Given(line, pairs, payment.paid_on, account.number, account.premise_id)
    rows = record(
        registry,
        [given],
        user,
        recorded=_("Recorded when the payment was transferred to account %(account)s.")
        % {"account": account.number},
    )
    RegistryReading.objects.bulk_create(rows)
    outcomes = Counter(row.outcome for row in rows)
    Registry.objects.filter(pk=registry.pk).update(
        readings_recorded=F("readings_recorded") + outcomes[Outcome.RECORDED],
        readings_rejected=F("readings_rejected") + outcomes[Outcome.REJECTED],
    )


def _problem(held: RegistryReading, line: int) -> parsing.Problem | None:
    """The parser's problem with a kept reading, as it found it at import."""
    if not held.meter:
        return parsing.Problem("reading_meter", line, "readings", held.text)
    if held.value is None:
        return parsing.Problem("reading_value", line, "readings", held.text, held.meter)
    return None


def _meters(
    tenant_id: int, premise_ids: set[int | None], numbers: set[str]
) -> dict[tuple[int | None, str], list[Meter]]:
    """The premises' meters with these numbers (one query)."""
    found: dict[tuple[int | None, str], list[Meter]] = defaultdict(list)
    premise_ids.discard(None)
    if not premise_ids or not numbers:
        return found
    for meter in Meter.objects.filter(
        tenant_id=tenant_id, premise_id__in=premise_ids, serial_number__in=numbers
    ).order_by("installed_on", "pk"):
        found[(meter.premise_id, meter.serial_number)].append(meter)
    return found


def _meter_on(meters: Sequence[Meter], day: date) -> Meter | None:
    """The meter in place on the payment day (the newest, when a number was reused)."""
    standing = [
        meter
        for meter in meters
        if meter.installed_on <= day and (meter.removed_on is None or day <= meter.removed_on)
    ]
    return standing[-1] if standing else None


def held_readings_follow(sender: type[Payment], *, payment: Payment, user: Any, **_: Any) -> None:
    """The receiver of `kvit.payments.signals.payment_transferred`."""
    record_held(payment, user)
