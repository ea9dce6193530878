"""Read-side checks over people data."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kvit.core.ownership import Share, ShareMismatch, share_mismatches
from kvit.people.models import Ownership


def share_errors(shares: Iterable[Share]) -> list[ValidationError]:
    """One readable error per stretch of dates on which the shares do not add up to 1."""
    return [_mismatch_error(m) for m in share_mismatches(list(shares))]


def premise_share_errors(premise_id: int) -> list[ValidationError]:
    return share_errors(o.as_share() for o in Ownership.objects.filter(premise_id=premise_id))


def _mismatch_error(mismatch: ShareMismatch) -> ValidationError:
    return ValidationError(
        _(
            "Ownership shares add up to %(total)s from %(start)s to %(end)s; "
            "they must add up to 1 on every date."
        ),
        code="shares_sum",
        params={
            "total": str(mismatch.total),
            "start": mismatch.span.start,
            "end": mismatch.span.end or _("open-ended"),
        },
    )
