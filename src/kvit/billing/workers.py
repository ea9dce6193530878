"""Where a run's chunks are billed: in this process, in a pool of worker processes, or by
Celery workers over a broker (Redis or RabbitMQ).

Each chunk is independent (its own transaction, `actions.bill_chunk`), so the pool simply
maps chunk ids over processes. The pool forks after closing this process's database
connections: a child must open its own, never share the parent's socket. SQLite allows one
writer at a time, so more than one worker only helps on PostgreSQL.

With a broker, one task per chunk goes to the Celery workers (`kvit.billing.tasks`) and this
process follows the chunks' status in the database: no result backend, so a task delivered
twice changes nothing here (architecture §8). It gives up with `BrokerError` when the broker
cannot be reached, when a task fails, or when no worker takes the waiting tasks for
`settings.BILL_RUN_WORKER_TIMEOUT` seconds. The tasks already sent stay queued; running the
bill run again resumes it.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from django.db import connection, connections

from kvit.billing.models import BillRun, BillRunChunk

BROKER_SCHEMES = ("redis", "rediss", "amqp", "pyamqp")
POLL_SECONDS = 0.25
IDS_PER_QUERY = 500  # below SQLite's limit on query parameters


class BrokerError(Exception):
    """A distributed bill run that cannot go on; the message says why and what to do."""


def execute(chunk_ids: Sequence[int], workers: int = 1, broker: str | None = None) -> Iterator[int]:
    """Bill the chunks; yields each chunk's id as it finishes (for the progress bar). What
    a chunk did is on its row: nothing else comes back, so nothing piles up here."""
    from kvit.billing.actions import bill_chunk

    if broker:
        yield from _execute_on_broker(chunk_ids, broker)
        return
    if workers <= 1 or len(chunk_ids) <= 1:
        for chunk_id in chunk_ids:
            bill_chunk(chunk_id)
            yield chunk_id
        return
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_bill_in_worker, chunk_id) for chunk_id in chunk_ids}
        for future in as_completed(futures):
            futures.discard(future)
            yield future.result()


def _bill_in_worker(chunk_id: int) -> int:
    from kvit.billing.actions import bill_chunk

    bill_chunk(chunk_id)
    return chunk_id


# --- Celery workers ---------------------------------------------------------------------------


def _execute_on_broker(chunk_ids: Sequence[int], broker: str) -> Iterator[int]:
    """Send one task per chunk and yield each chunk's id once a worker has billed it."""
    from django.conf import settings
    from kombu.exceptions import OperationalError
    from kombu.utils.url import maybe_sanitize_url

    from kvit.billing.tasks import bill_chunk
    from kvit.config.celery import app

    if connection.in_atomic_block:
        raise RuntimeError(
            "A distributed bill run cannot run inside a transaction: the workers would not "
            "see its chunks."
        )
    if not chunk_ids:
        return
    shown = maybe_sanitize_url(broker)
    waiting = set(chunk_ids)
    run = BillRunChunk.objects.get(pk=chunk_ids[0]).run_id  # the chunks of one run
    error_before = _error(run)
    queue = app.amqp.queues[app.conf.task_default_queue]
    timeout = settings.BILL_RUN_WORKER_TIMEOUT
    # Once every task is taken, a chunk still unfinished after this long is lost: it is
    # longer than any chunk takes (a Redis worker that died gives its task back by then).
    lost_after = max(timeout, app.conf.broker_transport_options.get("visibility_timeout", 0))
    with app.connection_for_write(broker) as broker_connection:
        # what `apply_async(connection=…)` does, with the producer made once
        producer = app.amqp.Producer(broker_connection, auto_declare=False)
        try:
            for chunk_id in chunk_ids:
                bill_chunk.apply_async((chunk_id,), producer=producer)
            queued = _queued(queue, broker_connection)
        except OperationalError as error:
            raise BrokerError(f"cannot reach the broker {shown}: {error}") from error
        changed = time.monotonic()
        while waiting:
            done = _done(waiting)
            for chunk_id in sorted(done):
                waiting.discard(chunk_id)
                yield chunk_id
            failure = _error(run)
            if failure != error_before:  # a failed task writes its own, naming the task
                raise BrokerError(f"a worker failed: {failure}")
            if not waiting:
                break
            now = time.monotonic()
            still_queued = _queued(queue, broker_connection)
            if done or still_queued != queued:
                changed, queued = now, still_queued
            elif still_queued and now - changed >= timeout:
                raise BrokerError(
                    f"no Celery worker took a chunk from the queue '{queue.name}' on {shown} "
                    f"within {timeout} s: start one with `KVIT_BROKER_URL={shown} celery -A "
                    "kvit.config.celery worker` (pointed at this database), then run the bill "
                    "run again to finish it"
                )
            elif now - changed >= lost_after:
                raise BrokerError(
                    f"the workers took every chunk but {len(waiting)} did not finish within "
                    f"{lost_after} s: see the workers' logs, then run the bill run again"
                )
            time.sleep(POLL_SECONDS)


def _done(chunk_ids: set[int]) -> set[int]:
    ids = sorted(chunk_ids)
    done: set[int] = set()
    for start in range(0, len(ids), IDS_PER_QUERY):
        done.update(
            BillRunChunk.objects.filter(
                pk__in=ids[start : start + IDS_PER_QUERY], status=BillRunChunk.Status.DONE
            ).values_list("pk", flat=True)
        )
    return done


def _error(run_id: int) -> str:
    return BillRun.objects.filter(pk=run_id).values_list("error", flat=True).get()


def _queued(queue: Any, broker_connection: Any) -> int:
    """How many tasks wait in the queue, not yet taken by a worker."""
    declared = queue(broker_connection.default_channel).queue_declare()
    return int(declared.message_count)
