"""A bill run whose database session the server ends mid-chunk fails cleanly: the chunk
being billed leaves no row, the chunks billed before stay, the run says what stopped it,
and running it again finishes it with the ledger of a clean run (R26)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.db.models import Sum
from django.utils import timezone
from test_billing_run import JULY, TODAY, after_writing, housing, ledger_of

from db_faults import terminate_own_session
from kvit.billing import posting
from kvit.billing.actions import BillRunRefused, bill
from kvit.billing.models import BillRun, BillRunChunk
from kvit.controls import checks
from kvit.ledger.models import LedgerEntry

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_append_only"),
]
ACCOUNTS = 6
# The session ends once this chunk has written its entries (a pool's worker counts its own).
DROPPED_AT = 3


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_whose_connection_is_dropped_fails_cleanly_and_resumes_to_a_clean_ledger(
    make: Any, monkeypatch: Any, workers: int
) -> None:
    golden = housing(make, accounts=ACCOUNTS, code="golden")
    tenant = housing(make, accounts=ACCOUNTS, code="dropped")
    bill(golden, JULY, today=TODAY)
    monkeypatch.setattr(posting, "write", after_writing(DROPPED_AT, terminate_own_session))
    with pytest.raises(DatabaseError) as failed:
        bill(tenant, JULY, chunk_size=1, workers=workers, today=TODAY)
    assert "terminat" in str(failed.value) + str(failed.value.__cause__)
    monkeypatch.undo()

    run = BillRun.objects.get(tenant=tenant)
    assert run.status == BillRun.Status.RUNNING
    assert "terminat" in run.error
    done = run.chunks.filter(status=BillRunChunk.Status.DONE)
    assert done.count() < ACCOUNTS
    # Every entry of the run belongs to a chunk marked done: the dropped one left nothing.
    entries = LedgerEntry.objects.filter(run_id=run.pk)
    assert entries.count() == done.aggregate(n=Sum("entries"))["n"]
    assert set(entries.values_list("account_id", flat=True)) <= {
        pk for chunk in done for pk in chunk.account_ids
    }

    # Not at once: a worker might still be finishing a chunk. The refusal says why and when.
    with pytest.raises(BillRunRefused, match=r"stopped with an error .*terminat.*again from"):
        bill(tenant, JULY, chunk_size=1, today=TODAY)
    # Resumed once the run is no longer alive.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    BillRun.objects.filter(pk=run.pk).update(started_at=an_hour_ago)
    BillRunChunk.objects.filter(run=run).update(finished_at=an_hour_ago)
    summary = bill(tenant, JULY, chunk_size=1, today=TODAY)
    assert summary.resumed and summary.run.status == BillRun.Status.COMPLETED
    assert BillRun.objects.get(pk=run.pk).error == ""  # a resumed run is no longer stopped
    assert ledger_of(tenant) == ledger_of(golden)
    assert checks.find(tenant) == []
    assert connection.is_usable()


def test_the_command_reports_a_dropped_connection_and_what_to_do(
    make: Any, monkeypatch: Any
) -> None:
    tenant = housing(make, accounts=ACCOUNTS, code="dropped")
    monkeypatch.setattr(posting, "write", after_writing(DROPPED_AT, terminate_own_session))
    period, today = f"--period={JULY}", f"--today={TODAY}"
    with pytest.raises(CommandError) as failed:
        call_command("billrun", period, today, "--tenant=dropped", "--chunk-size=1")
    message = str(failed.value)
    assert message.startswith("dropped: the database failed during the bill run (")
    assert "terminat" in message and "run the same command again" in message
    assert BillRun.objects.get(tenant=tenant).chunks.filter(status="done").count() == 2
