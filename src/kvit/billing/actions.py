"""The bill run: start (checks, chunks), bill each chunk (fetch → rate → diff → post), finish.

`bill()` is the one entry point the CLI, the admin and the tests use. A chunk is billed in
one transaction that also marks it done (`bill_chunk`), so whatever stops a run — a killed
worker, a lost connection — leaves every chunk either fully posted or not at all; starting
the run again resumes it with the pending chunks, and recompute-and-diff posts nothing for
what already stands. Accounts whose rating has errors are skipped and reported; the rest of
the chunk is posted.

Refused with a readable `BillRunRefused`: a closed, unopened or future period; a tariff
missing on some day of the period for a service the scope uses; another run of the
organisation that is still alive (its last sign of life is younger than `STALE_AFTER`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.accounts.models import Account
from kvit.billing.mapping import Catalogue
from kvit.billing.models import BillRun, BillRunChunk
from kvit.billing.recompute import Outcome, recompute
from kvit.core.periods import Period
from kvit.core.rebilling import RECALCULATED
from kvit.core.tariffs import TariffBook
from kvit.db.bulk import plan_for_few_rows
from kvit.ledger.models import BillingPeriod
from kvit.tenants.models import HierarchyNode, Tenant

DEFAULT_CHUNK = 2_000
STREAMED = 20_000  # accounts read at a time when a run is cut into chunks
CHUNKS_PER_INSERT = 50
STALE_AFTER = timedelta(minutes=2)
"""A running run without a chunk finished for this long is taken as interrupted."""
ERROR_SHOWN = 200  # characters of a stopped run's error in its refusal


class BillRunRefused(Exception):
    """A bill run that must not start; the message says why and what to do."""


SKIPPED_KEPT = 20  # skipped accounts a summary lists; all of them stay on the chunks


@dataclass
class Summary:
    """What a run did, for the CLI's last lines and the tests. The skipped accounts are
    counted by issue code; the first `SKIPPED_KEPT` are listed (every one is kept on its
    chunk, `BillRunChunk.skipped`)."""

    run: BillRun
    chunks: int = 0
    lines: int = 0
    entries: int = 0
    amount: Decimal = Decimal(0)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    skipped_count: int = 0
    issue_codes: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    resumed: bool = False

    def add_skipped(self, found: list[dict[str, Any]]) -> None:
        self.skipped_count += len(found)
        self.issue_codes.update(issue["code"] for item in found for issue in item["issues"])
        self.skipped.extend(found[: SKIPPED_KEPT - len(self.skipped)])


# --- starting --------------------------------------------------------------------------------


def start_run(
    tenant: Tenant,
    period: Period,
    *,
    node: HierarchyNode | None = None,
    user: Any = None,
    chunk_size: int = DEFAULT_CHUNK,
    today: date | None = None,
) -> tuple[BillRun, bool]:
    """The run to work on and whether it is an interrupted one being resumed."""
    if chunk_size < 1:
        raise BillRunRefused(_("A chunk holds at least one account."))
    day = today or timezone.localdate()
    _check_period(tenant, period, day)
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()  # one start at a time
        running = BillRun.objects.filter(tenant=tenant, status=BillRun.Status.RUNNING).first()
        if running is not None:
            resumed = _resume(running, period, node)
            if resumed.error:  # it was reported when it stopped; this start goes on from there
                BillRun.objects.filter(pk=resumed.pk).update(error="")
                resumed.error = ""
            return resumed, True
        scope = _scope(tenant, node)
        _check_tariffs(Catalogue.load(tenant.pk, period), scope)
        run = BillRun.objects.create(
            tenant=tenant,
            node=node,
            period=period.first_day,
            chunk_size=chunk_size,
            started_by=user if getattr(user, "pk", None) else None,
        )
        # Streamed: a million accounts are never held at once.
        accounts = scope.order_by("premise__building_id", "pk").values_list(
            "pk", "premise__building_id"
        )
        rows = (
            BillRunChunk(run=run, index=index, account_ids=ids)
            for index, ids in enumerate(chunked(accounts.iterator(STREAMED), chunk_size))
        )
        while batch := list(islice(rows, CHUNKS_PER_INSERT)):
            BillRunChunk.objects.bulk_create(batch)
            run.accounts += sum(len(chunk.account_ids) for chunk in batch)
        BillRun.objects.filter(pk=run.pk).update(accounts=run.accounts)
    return run, False


def _check_period(tenant: Tenant, period: Period, today: date) -> None:
    if period.first_day > today:
        raise BillRunRefused(
            _("The period %(period)s has not begun yet (today is %(today)s).")
            % {"period": period, "today": today.isoformat()}
        )
    status = (
        BillingPeriod.objects.filter(tenant=tenant, period=period.first_day)
        .values_list("status", flat=True)
        .first()
    )
    if status is None:
        raise BillRunRefused(
            _("The period %(period)s is not open: open it first.") % {"period": period}
        )
    if status != BillingPeriod.Status.OPEN:
        raise BillRunRefused(
            _(
                "The period %(period)s is closed: its changes are billed as recalculations "
                "in the open period."
            )
            % {"period": period}
        )


def _resume(running: BillRun, period: Period, node: HierarchyNode | None) -> BillRun:
    last = (
        running.chunks.filter(status=BillRunChunk.Status.DONE)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    ) or running.started_at
    same = running.period == period.first_day and running.node_id == (node.pk if node else None)
    if not same and timezone.now() - last >= STALE_AFTER:
        raise BillRunRefused(
            _(
                "Bill run #%(run)s for %(period)s of this organisation was interrupted; run "
                "it again for %(period)s to finish it first."
            )
            % {"run": running.pk, "period": Period.of(running.period)}
        )
    if timezone.now() - last < STALE_AFTER and running.error:
        raise BillRunRefused(
            _(
                "Bill run #%(run)s for %(period)s of this organisation stopped with an error "
                "(%(error)s). What it billed is kept: run it again from %(when)s to finish "
                "it (until then a worker may still be finishing a chunk)."
            )
            % {
                "run": running.pk,
                "period": Period.of(running.period),
                "error": running.error.splitlines()[0][:ERROR_SHOWN],
                "when": timezone.localtime(last + STALE_AFTER).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    if timezone.now() - last < STALE_AFTER:
        raise BillRunRefused(
            _(
                "Bill run #%(run)s for %(period)s of this organisation is in progress (last "
                "activity %(when)s); wait for it to finish."
            )
            % {
                "run": running.pk,
                "period": Period.of(running.period),
                "when": timezone.localtime(last).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return running


def _scope(tenant: Tenant, node: HierarchyNode | None) -> QuerySet[Account]:
    """The accounts of the run: the tenant's, or those under `node` (by the account's own
    node or its premise's). Listed in building order, so that a building's accounts share a
    chunk (the house rules need them together)."""
    accounts = Account.objects.filter(tenant=tenant)
    if node is not None:
        accounts = accounts.filter(
            Q(node__path__startswith=node.path) | Q(premise__node__path__startswith=node.path)
        )
    return accounts


def chunked(accounts: Iterable[tuple[int, int | None]], size: int) -> Iterator[list[int]]:
    """Chunks of about `size` accounts, cut only between buildings (a building larger than
    `size` is one chunk)."""
    current: list[int] = []
    building: int | None = None
    for pk, house in accounts:
        if len(current) >= size and (house is None or house != building):
            yield current
            current = []
        current.append(pk)
        building = house
    if current:
        yield current


def used_tariffs(scope: QuerySet[Account], period: Period) -> set[tuple[int, str]]:
    """The (service, tariff group) pairs connected to the scope's accounts during `period`,
    each once, in one query (the scope as a subquery: a million ids stay out)."""
    from kvit.accounts.models import AccountService

    return set(
        AccountService.objects.filter(account__in=scope)
        .filter(effective_from__lt=period.end)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=period.first_day))
        .values_list("service_id", "tariff_group")
        # The model's ordering would join the DISTINCT: a row per connection, 1.4 GB for
        # the demo's 600,000 accounts.
        .order_by()
        .distinct()
    )


def _check_tariffs(catalogue: Catalogue, scope: QuerySet[Account]) -> None:
    """Refuse when a service connected in the scope has a day of the period without a
    tariff: every account using it would be skipped."""
    period = catalogue.period
    book = TariffBook()
    gaps = []
    for service_id, group in used_tariffs(scope, period):
        code = catalogue.service_codes.get(service_id)
        if code is None:
            continue
        service = catalogue.services[code]
        for piece in book.tariffs(service, group, period):
            if piece.version is None:
                last = piece.span.end - timedelta(days=1) if piece.span.end else piece.span.start
                gaps.append(f"{service.name} ({piece.span.start:%d.%m}–{last:%d.%m.%Y})")
    if gaps:
        raise BillRunRefused(
            _("No tariff for some days of %(period)s: %(gaps)s. Enter the tariffs first.")
            % {"period": period, "gaps": "; ".join(sorted(set(gaps)))}
        )


# --- billing a chunk ----------------------------------------------------------------------------


# Per process: a run's shared data, loaded once (keyed by the run and its start, so a
# reused id never picks up another run's catalogue).
_CATALOGUES: dict[tuple[int, Any], Catalogue] = {}


def bill_chunk(chunk_id: int) -> Outcome | None:
    """Bill one chunk, or nothing when it is already done (or being done by another worker:
    on PostgreSQL its row lock is skipped)."""
    with transaction.atomic():
        pending = BillRunChunk.objects.select_related("run").filter(
            pk=chunk_id, status=BillRunChunk.Status.PENDING
        )
        if connection.vendor == "postgresql":
            pending = pending.select_for_update(skip_locked=True, of=("self",))
        chunk = pending.first()
        if chunk is None:
            return None
        run = chunk.run
        catalogue = _catalogue(run)
        plan_for_few_rows(connection)
        # A real-time change of one of these accounts diffs after this chunk, not beside it.
        lock_accounts(run.tenant_id, chunk.account_ids)
        outcome = recompute(
            catalogue,
            chunk.account_ids,
            posting_period=catalogue.period,
            reason=RECALCULATED,
            source=("bill_run", str(run.pk)),
            run_id=run.pk,
        )
        chunk.status = BillRunChunk.Status.DONE
        chunk.lines = outcome.lines
        chunk.entries = outcome.entries
        chunk.amount = outcome.amount
        chunk.skipped = outcome.skipped
        chunk.warnings = outcome.warnings
        chunk.seconds = outcome.seconds
        chunk.finished_at = timezone.now()
        chunk.save()
    return outcome


def _catalogue(run: BillRun) -> Catalogue:
    key = (run.pk, run.started_at)
    found = _CATALOGUES.get(key)
    if found is None:
        _CATALOGUES.clear()
        found = _CATALOGUES[key] = Catalogue.load(run.tenant_id, Period.of(run.period))
    return found


# --- the whole run ------------------------------------------------------------------------------

Progress = Callable[[int, int], None]  # (chunks done, chunks in all)


def bill(
    tenant: Tenant,
    period: Period,
    *,
    node: HierarchyNode | None = None,
    user: Any = None,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 1,
    today: date | None = None,
    progress: Progress | None = None,
    broker: str | None = None,
) -> Summary:
    """Start (or resume) the run and bill every pending chunk, in this process, in a pool
    of `workers` processes or by the Celery workers of `broker` (a URL); then finish it."""
    run, resumed = start_run(
        tenant, period, node=node, user=user, chunk_size=chunk_size, today=today
    )
    pending = list(
        run.chunks.filter(status=BillRunChunk.Status.PENDING)
        .order_by("index")
        .values_list("pk", flat=True)
    )
    total = run.chunks.count()
    done = total - len(pending)
    if progress:
        progress(done, total)
    try:
        from kvit.billing.workers import execute

        for _result in execute(pending, workers, broker=broker):
            done += 1
            if progress:
                progress(done, total)
    except BaseException as error:
        BillRun.objects.filter(pk=run.pk).update(error=str(error)[:2000])
        raise
    return finish_run(run, resumed)


def finish_run(run: BillRun, resumed: bool = False) -> Summary:
    """Mark the run completed once every chunk is done, and sum up what it did."""
    summary = Summary(run, resumed=resumed)
    complete = True
    for status, lines, entries, amount, skipped, warnings in (
        run.chunks.order_by("index")
        .values_list("status", "lines", "entries", "amount", "skipped", "warnings")
        .iterator(CHUNKS_PER_INSERT)
    ):
        summary.chunks += 1
        summary.lines += lines
        summary.entries += entries
        summary.amount += amount
        summary.add_skipped(skipped)
        summary.warnings += warnings
        complete = complete and status == BillRunChunk.Status.DONE
    if complete:
        BillRun.objects.filter(pk=run.pk).update(
            status=BillRun.Status.COMPLETED, finished_at=timezone.now()
        )
        run.refresh_from_db()
    return summary


# --- real time and past periods -------------------------------------------------------------


def posting_period_of(tenant_id: int, period: Period) -> Period | None:
    """Where changes to `period` are posted: the period itself while it is open, else the
    tenant's earliest open period after it (None: nothing open to post into)."""
    found = (
        BillingPeriod.objects.filter(
            tenant_id=tenant_id, status=BillingPeriod.Status.OPEN, period__gte=period.first_day
        )
        .order_by("period")
        .values_list("period", flat=True)
        .first()
    )
    return None if found is None else Period.of(found)


def billed_since(tenant_id: int, first: Period) -> list[Period]:
    """The tenant's billing periods from `first` on, closed or open: the ones a change of
    inputs from `first` on reaches. The later ones too, since their penalties, averages and
    true-ups read what the earlier ones charged."""
    return [
        Period.of(day)
        for day in BillingPeriod.objects.filter(tenant_id=tenant_id, period__gte=first.first_day)
        .order_by("period")
        .values_list("period", flat=True)
    ]


def recalculate(
    account: Account,
    periods: Sequence[Period],
    *,
    reason: str = RECALCULATED,
    source: tuple[str, str] = ("recalculation", ""),
    user: Any = None,
) -> list[Outcome]:
    """Rate `account` again for each of `periods` with what is known now and post only the
    differences: in the period itself while it is open, else as recalculations in the open
    period that name the period they correct and `reason`. Running it again posts nothing.
    The real-time path: recording a reading, a move, a benefit or a payment calls this (or
    `recalculate_accounts`, for several accounts at once)."""
    outcomes = recalculate_accounts(
        account.tenant_id, [account.pk], periods, reason=reason, source=source, user=user
    )
    return list(outcomes.values())


def recalculate_accounts(
    tenant_id: int,
    account_ids: Iterable[int],
    periods: Sequence[Period],
    *,
    reason: str = RECALCULATED,
    source: tuple[str, str] = ("recalculation", ""),
    user: Any = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> dict[Period, Outcome]:
    """`recalculate` for many accounts of a tenant: what each period posted, its chunks
    added up (nothing when no account is given).

    Only `account_ids` are rated: the house balance of a building with a common-house meter
    counts its other accounts as posted (`recompute(whole_buildings=False)`), so an account
    gets the share the bill run would give it; the neighbours' own shares follow at the
    period's bill run (for a closed period they are not reopened, as everywhere in the house
    balance). The accounts are locked first (FOR NO KEY UPDATE in id order, as payments
    lock them), so two changes of one account diff one after the other; then each period is
    rated chunk by chunk through `recompute`, a fixed number of queries per chunk whatever
    its size.
    """
    outcomes: dict[Period, Outcome] = {}
    with transaction.atomic():
        plan_for_few_rows(connection)
        targets = lock_accounts(tenant_id, set(account_ids))
        if not targets:
            return outcomes
        accounts = sorted(targets)
        for period in sorted(set(periods)):
            posting_period = posting_period_of(tenant_id, period)
            if posting_period is None:
                raise BillRunRefused(
                    _("No open period to post the recalculation of %(period)s into.")
                    % {"period": period}
                )
            catalogue = Catalogue.load(tenant_id, period)
            outcomes[period] = Outcome.total(
                [
                    recompute(
                        catalogue,
                        accounts[start : start + chunk_size],
                        posting_period=posting_period,
                        reason=reason,
                        source=source,
                        user=user,
                        whole_buildings=False,
                    )
                    for start in range(0, len(accounts), chunk_size)
                ]
            )
    return outcomes


def lock_accounts(tenant_id: int, account_ids: Collection[int]) -> set[int]:
    """The tenant's accounts among `account_ids`, locked until the transaction ends (FOR
    NO KEY UPDATE, in id order, as payments lock them): whatever rates and posts for an
    account — a bill-run chunk, a real-time change, a payment — diffs after the others."""
    return set(
        Account.objects.filter(tenant_id=tenant_id, pk__any_of=list(account_ids))
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )
