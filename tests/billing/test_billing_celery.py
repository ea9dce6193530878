"""Distributed bill runs: Celery workers over Redis bill the chunks, with the same ledger as a
run in one process; a chunk task run twice at once posts once (reliability R11).

The workers are real `celery worker` processes on the test database: they get its name in
DATABASE_URL (after pytest-django's setup, `connection.settings_dict["NAME"]` is the test
database, a file on SQLite). Redis at KVIT_TEST_REDIS_URL (default 127.0.0.1:6379, db 15);
when it does not answer these tests are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from test_billing_run import JULY, TODAY, housing, ledger_of

from kvit.billing import actions
from kvit.billing.actions import bill, start_run
from kvit.billing.models import BillRun, BillRunChunk
from kvit.billing.workers import BrokerError
from kvit.config.celery import app
from kvit.ledger.models import LedgerEntry

REDIS_URL = os.environ.get("KVIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WORKER_START_SECONDS = 60


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires it.")
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def queue(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue of this test's own, so that no other worker on the same Redis takes its
    tasks; its keys are removed afterwards."""
    import redis

    name = f"kvit-test-{uuid.uuid4().hex}"
    monkeypatch.setitem(app.conf, "task_default_queue", name)
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


def database_url() -> str:
    """DATABASE_URL of the test database, for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'])}"


@dataclass
class Workers:
    broker: str
    logs: list[Path] = field(default_factory=list)

    def received(self) -> list[int]:
        """How many tasks each worker received."""
        return [log.read_text().count("] received") for log in self.logs]


@pytest.fixture
def celery_workers(
    redis_url: str, queue: str, tmp_path: Path, purge_append_only: None
) -> Iterator[Workers]:
    """Two `celery worker` processes (solo pool: one task at a time each) on the test
    database, taking tasks from this test's queue; terminated afterwards."""
    workers = Workers(redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "kvit.config.test_settings",
        "KVIT_BROKER_URL": redis_url,
    }
    names = [f"{queue}-{n}@localhost" for n in (1, 2)]
    processes = []
    try:
        for name in names:
            log = tmp_path / f"{name}.log"
            workers.logs.append(log)
            command = [
                sys.executable, "-m", "celery", "-A", "kvit.config.celery", "worker",
                "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--queues", queue, "--hostname", name, "--loglevel", "INFO",
            ]  # fmt: skip
            with log.open("w") as output:
                processes.append(
                    subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
                )
        _wait_until_ready(processes, workers.logs)
        yield workers
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    """Until every worker has logged that it is ready (consuming its queue): both must be,
    or the first could take every task."""
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                pytest.fail(f"a Celery worker stopped at start:\n{log.read_text()[-3000:]}")
        if all(" ready." in log.read_text() for log in logs):
            return
        time.sleep(0.1)
    pytest.fail(f"the Celery workers were not ready within {WORKER_START_SECONDS} s")


# --- the distributed run --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_celery_workers_post_the_ledger_of_a_run_in_one_process(
    make: Any, celery_workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # here only: a lost chunk fails the test within a minute, not after an hour
    monkeypatch.setitem(app.conf, "broker_transport_options", {"visibility_timeout": 60})
    golden = housing(make, accounts=6, code="golden")
    tenant = housing(make, accounts=6, code="distributed")
    bill(golden, JULY, today=TODAY)
    seen: list[tuple[int, int]] = []
    summary = bill(
        tenant,
        JULY,
        chunk_size=1,
        today=TODAY,
        broker=celery_workers.broker,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert summary.run.status == BillRun.Status.COMPLETED
    assert (summary.chunks, summary.entries, summary.skipped) == (6, 12, [])
    assert seen == [(done, 6) for done in range(7)]  # 0 before the first, then one per chunk
    assert ledger_of(tenant) == ledger_of(golden)
    received = celery_workers.received()
    assert sum(received) == 6 and all(received), received  # one task per chunk, both worked

    again = bill(tenant, JULY, chunk_size=1, today=TODAY, broker=celery_workers.broker)
    assert again.entries == 0
    assert ledger_of(tenant) == ledger_of(golden)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
def test_no_worker_on_the_queue_is_a_clear_error(make: Any, queue: str, settings: Any) -> None:
    settings.BILL_RUN_WORKER_TIMEOUT = 1
    tenant = housing(make, accounts=2)
    with pytest.raises(
        BrokerError, match=rf"no Celery worker took a chunk from the queue '{queue}'"
    ):
        bill(tenant, JULY, chunk_size=1, today=TODAY, broker=REDIS_URL)
    run = BillRun.objects.get(tenant=tenant)
    assert run.status == BillRun.Status.RUNNING and "no Celery worker" in run.error
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
def test_an_unreachable_broker_is_a_clear_error(make: Any) -> None:
    tenant = housing(make, accounts=1)
    with pytest.raises(BrokerError, match=r"cannot reach the broker redis://127\.0\.0\.1:9/0"):
        bill(tenant, JULY, today=TODAY, broker="redis://127.0.0.1:9/0")


@pytest.mark.django_db
def test_inside_a_transaction_the_workers_would_not_see_the_chunks(make: Any) -> None:
    tenant = housing(make, accounts=1)
    with pytest.raises(RuntimeError, match="inside a transaction"):
        bill(tenant, JULY, today=TODAY, broker="redis://127.0.0.1:9/0")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379/0", "127.0.0.1:6379", "redis://", "sqs://x", "redis:///0"]
)
def test_the_command_accepts_only_redis_and_rabbitmq_urls(url: str) -> None:
    with pytest.raises(CommandError, match="expected a broker URL starting with redis://"):
        call_command("billrun", "--period", "2025-07", "--broker", url)


@pytest.mark.django_db
def test_the_command_refuses_local_workers_with_a_broker() -> None:
    with pytest.raises(CommandError, match="--workers counts local processes"):
        call_command("billrun", "--period", "2025-07", "--broker", REDIS_URL, "--workers", "2")


# --- a task delivered twice (R11) -----------------------------------------------------------


def test_celery_settings_make_a_second_delivery_safe_and_rare() -> None:
    assert app.conf.task_acks_late is True  # acknowledged after the chunk committed
    assert app.conf.task_reject_on_worker_lost is True  # a killed worker's task comes back
    assert app.conf.worker_prefetch_multiplier == 1  # no chunk waits behind a slow one
    # Redis gives an unacknowledged task to another worker after the visibility timeout:
    # longer than any chunk takes (a 2,000-account chunk bills in seconds).
    assert app.conf.broker_transport_options["visibility_timeout"] >= 3600
    assert app.conf.task_ignore_result is True  # completion is the chunk's status


def _first_delivery(chunk_id: int, inside: Any, second_started: Any, results: Any) -> None:
    """Bill the chunk and hold its transaction open until the second delivery has begun."""
    from kvit.billing import tasks

    real = actions.recompute

    def held(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)  # entries written, not committed
        inside.set()
        second_started.wait(30)
        time.sleep(0.5)  # the second delivery is at the chunk's row by now
        return outcome

    actions.recompute = held  # type: ignore[assignment]
    results.put(("first", tasks.bill_chunk(chunk_id)))


def _second_delivery(chunk_id: int, inside: Any, second_started: Any, results: Any) -> None:
    from kvit.billing import tasks

    inside.wait(30)
    second_started.set()
    results.put(("second", tasks.bill_chunk(chunk_id)))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
def test_a_chunk_task_run_twice_at_once_posts_once(make: Any) -> None:
    golden = housing(make, accounts=1, code="golden")
    tenant = housing(make, accounts=1, code="twice")
    bill(golden, JULY, today=TODAY)
    run, _ = start_run(tenant, JULY, today=TODAY)
    chunk = run.chunks.get()
    connections.close_all()  # each child opens its own connection
    context = multiprocessing.get_context("fork")
    inside, second_started, results = context.Event(), context.Event(), context.Queue()
    children = [
        context.Process(target=target, args=(chunk.pk, inside, second_started, results))
        for target in (_first_delivery, _second_delivery)
    ]
    for child in children:
        child.start()
    outcomes = dict(results.get(timeout=60) for _ in children)
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    assert inside.is_set() and second_started.is_set()  # the two ran at the same time
    assert outcomes["first"] == {"chunk": chunk.pk, "lines": 2, "entries": 2}
    assert outcomes["second"] is None  # on PostgreSQL it skipped the locked row; on SQLite
    # it waited for the first to commit and found the chunk done
    assert BillRunChunk.objects.get(pk=chunk.pk).status == BillRunChunk.Status.DONE
    assert ledger_of(tenant) == ledger_of(golden)
    assert LedgerEntry.objects.filter(tenant=tenant).count() == 2


@pytest.mark.django_db
def test_a_failed_task_tells_its_run(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kvit.billing import tasks

    tenant = housing(make, accounts=1)
    run, _ = start_run(tenant, JULY, today=TODAY)
    chunk = run.chunks.get()

    def broken(chunk_id: int) -> None:
        raise ValueError("the engine broke")

    monkeypatch.setattr(actions, "bill_chunk", broken)
    with pytest.raises(ValueError, match="the engine broke"):
        tasks.bill_chunk(chunk.pk)
    run.refresh_from_db()
    assert f"chunk #{chunk.pk}: ValueError('the engine broke')" in run.error

    monkeypatch.undo()
    with pytest.raises(LookupError, match="no chunk #0 in this worker's database"):
        tasks.bill_chunk(0)
