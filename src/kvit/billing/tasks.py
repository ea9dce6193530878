"""Celery tasks of the bill run (`kvit.config.celery`; `workers.execute` sends them).

A task may be delivered twice — a worker lost after billing but before acknowledging, or
Redis handing a long task to a second worker — and even run twice at once: `bill_chunk`
bills a chunk that is already done as nothing, and on PostgreSQL skips one that another
worker holds. Nothing waits for a task's result: the run follows its chunks' status, and a
task that fails says so in its run's `error`, which the run watches.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError

from kvit.billing import actions
from kvit.billing.models import BillRun, BillRunChunk
from kvit.config.celery import app

log = logging.getLogger(__name__)


@app.task(name="kvit.billing.bill_chunk", bind=True)
def bill_chunk(task: Any, chunk_id: int) -> dict[str, int] | None:
    """Bill one chunk of a run; what it posted, or None when there was nothing to do."""
    try:
        outcome = actions.bill_chunk(chunk_id)
        if outcome is None and not BillRunChunk.objects.filter(pk=chunk_id).exists():
            raise LookupError(
                f"no chunk #{chunk_id} in this worker's database: is the worker's "
                "DATABASE_URL the bill run's?"
            )
    except Exception as error:
        _record_failure(chunk_id, f"task {task.request.id}, chunk #{chunk_id}: {error!r}")
        raise
    if outcome is None:
        return None
    return {"chunk": chunk_id, "lines": outcome.lines, "entries": outcome.entries}


def _record_failure(chunk_id: int, message: str) -> None:
    """Tell the waiting run (`workers.execute`) that a chunk failed: no result backend."""
    try:
        run = BillRunChunk.objects.filter(pk=chunk_id).values_list("run_id", flat=True)
        BillRun.objects.filter(pk__in=run).update(error=message[:2000])
    except DatabaseError:
        log.exception("could not record the failure of chunk #%s", chunk_id)
