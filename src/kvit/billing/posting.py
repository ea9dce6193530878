"""Engine lines → ledger entries for a chunk (`write`); what stands comes from
`kvit.ledger.queries.posted_lines_of`.

The engine speaks in text ids (account number, provider id, service code); `Chunk` and
`Catalogue` map them back to rows. Entries carry the line's key (rule, zone, tier, days) so
the next recompute-and-diff pairs them with the lines they came from, and the structured
explanation (`kvit.core.records`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kvit.billing.mapping import Catalogue, Chunk, shortest
from kvit.core.lines import ChargeLine
from kvit.core.rebilling import CORRECTS_ENTRY, corrected_period
from kvit.core.records import explanation_data
from kvit.db.bulk import json_text
from kvit.ledger.actions import post_rows

PLACES = 6  # of the ledger's quantity and tariff columns


@dataclass(frozen=True, slots=True)
class Written:
    entries: int
    amount: Decimal


def write(
    lines: Sequence[ChargeLine],
    chunk: Chunk,
    catalogue: Catalogue,
    *,
    source: tuple[str, str] | Mapping[str, tuple[str, str]],
    run_id: int | None = None,
    user: Any = None,
) -> Written:
    """Post `lines` as new entries (in the caller's transaction) through the ledger's bulk
    path; `source` is the source document's kind and id ("bill_run", "17"), or each
    account's by account number."""
    today = timezone.localdate()
    created_by = user.pk if getattr(user, "pk", None) else None
    rows = [
        row_of(
            line,
            chunk,
            catalogue,
            today,
            source if isinstance(source, tuple) else source[line.account],
            run_id,
            created_by,
        )
        for line in lines
    ]
    post_rows(chunk.tenant_id, rows)
    return Written(len(rows), sum((line.amount for line in lines), Decimal(0)))


def row_of(
    line: ChargeLine,
    chunk: Chunk,
    catalogue: Catalogue,
    today: date,
    source: tuple[str, str],
    run_id: int | None,
    created_by: int | None,
) -> tuple[Any, ...]:
    """The entry row of `line`, in `kvit.ledger.actions.ENTRY_COLUMNS` order."""
    explanation = line.explanation
    span = line.span
    corrected = corrected_period(line)  # a diff's correction of a closed period, not a true-up
    corrects = explanation.values.get(CORRECTS_ENTRY)
    return (
        chunk.tenant_id,
        chunk.account_ids[line.account],
        int(line.provider),
        catalogue.service_ids[line.service],
        line.period.first_day,
        today,
        line.kind.value,
        line.amount,
        _fit(line.quantity, line),
        line.unit.value,
        _fit(line.tariff, line),
        explanation.rule.value,
        line.zone,
        line.tier,
        span.start,
        span.end,
        json_text(explanation_data(explanation)),
        None if corrects is None else int(str(corrects)),
        None if corrected is None else corrected.first_day,
        explanation.reason,
        source[0],
        source[1],
        run_id,
        created_by,
    )


def _fit(value: Decimal, line: ChargeLine) -> Decimal:
    """`value` within the ledger's 6 decimals, or an error: the engine rounds volumes to 3
    or 6 places (spec 4.3), so more would be a fault, never to be rounded away silently."""
    if value.as_tuple().exponent >= -PLACES:  # type: ignore[operator]
        return value  # the column keeps it as it is
    short = shortest(value, PLACES)
    if short.as_tuple().exponent < -PLACES:  # type: ignore[operator]
        raise ValueError(
            f"{value} of account {line.account}, service {line.service} has more than "
            f"{PLACES} decimals"
        )
    return short
