"""Inputs → charge lines with explanations, plus issues: the heart of the engine.

`rate(inputs, book)` bills every service connected to the account over the days of the
period it is both open and connected, by the service's method:

| method | rule |
|---|---|
| `per_area` | `round2(S × T × d / D)`, `S = area × share` exact (2.10, 2.13) |
| `fixed` | `round2(T × d / D)` per account |
| `norm_per_person` | `round3(N × person-days / D) × T` (1.6, 2.6) |
| `norm_per_area` | `round(N × S × d / D) × T` (2.6) |
| `heating_by_area` | in the heating season: by norm as above, or `round6(V_odpu × S / S_total)` |
| | with a house heat meter (2.9, `heating.py`) |
| `common_house_by_area` | `round3(V_house × S / S_total)`, norm cap (2.8, `common_house.py`) |
| `metered`, `time_of_use`, `tiered` | readings → volume → flat / zone / tier prices (2.1–2.3, |
| | 2.11–2.13); norm × K without a meter (2.5); sewerage = cold + hot (2.1) |

After every base charge come the adjustments (`adjustments.py`): temporary absence (2.14),
quality reductions (2.15), benefits (2.16).

Anything it cannot compute becomes an `Issue` and the rest is still computed. The same
inputs always give the same lines in the same order: services by catalogue order, then
code, then connection date; sewerage-like services after the volumes they add up.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from itertools import pairwise

from kvit.core.adjustments import adjust
from kvit.core.codes import Method, Resource, Rule
from kvit.core.common_house import common_house
from kvit.core.context import (
    METHOD_NOT_SUPPORTED,
    UNKNOWN_SERVICE,
    Job,
    Run,
    clip,
    days,
    period_span,
    share_text,
)
from kvit.core.heating import heating
from kvit.core.inputs import ConnectedService, PeriodInputs, Service
from kvit.core.issues import Issue, Severity, Value
from kvit.core.lines import ChargeLine, Explanation, Rating
from kvit.core.metered import metered
from kvit.core.money import prorate, quantize, round2
from kvit.core.norms import norm_per_area, norm_per_person
from kvit.core.tariffs import TariffBook, times

__all__ = ["ChargeLine", "Issue", "Rating", "Staged", "rate", "rate_all"]


def rate(inputs: PeriodInputs, book: TariffBook | None = None) -> Rating:
    """Charge lines and issues for one account and period.

    Pass one `TariffBook` to every call of a bill run: tariff and norm lookups are then
    done once per service and period instead of once per account.
    """
    staged = Staged(inputs, book or TariffBook())
    staged.bill(lambda service: True)
    return staged.finish()


class Staged:
    """One account's rating in steps: `bill(chosen)` bills the connected services whose
    catalogue entry `chosen` accepts (an unknown service counts as accepted), in the
    order `rate` bills them; `bill_rest(inputs)` bills the others with new inputs; `finish`
    adds the adjustments. The lines and issues come out in the order `rate` gives.

    The house balance (2.8, `house_balance.rate_building`) needs every premise's own
    volumes (`volumes`, after the first step) before the common-house services of any of
    them can be billed; billing the rest afterwards rates each service once.
    """

    __slots__ = ("_billed", "_ordered", "run")

    def __init__(self, inputs: PeriodInputs, book: TariffBook) -> None:
        account = inputs.account
        active = clip(period_span(inputs.period), account.opened_on, account.closed_on)
        self.run = None if active is None else Run(inputs, book, active)
        self._ordered = _ordered(inputs) if self.run is not None else []
        # per connected service billed: its place in `rate`'s order, its job, and where
        # its lines and issues begin and end in the run's lists
        self._billed: list[tuple[int, Job | None, int, int, int, int]] = []

    @property
    def volumes(self) -> Mapping[Resource, Decimal]:
        return {} if self.run is None else self.run.volumes

    def bill(self, chosen: Callable[[Service], bool]) -> None:
        run = self.run
        if run is None:
            return
        services = run.inputs.services
        for index, connected in enumerate(self._ordered):
            service = services.get(connected.service)
            if service is None or chosen(service):
                self._bill(index, connected)

    def bill_rest(self, inputs: PeriodInputs) -> None:
        """Bill the services `bill` left, with `inputs` (the same account and period, e.g.
        its building's figures filled in)."""
        run = self.run
        if run is None:
            return
        run.inputs, run.account = inputs, inputs.account
        done = {index for index, *_ in self._billed}
        for index, connected in enumerate(self._ordered):
            if index not in done:
                self._bill(index, connected)

    def _bill(self, index: int, connected: ConnectedService) -> None:
        run = self.run
        assert run is not None
        lines, issues = len(run.lines), len(run.issues)
        job = _bill(run, connected)
        self._billed.append((index, job, lines, len(run.lines), issues, len(run.issues)))

    def finish(self) -> Rating:
        run = self.run
        if run is None:
            return Rating((), ())
        billed = self._billed
        if any(later[0] < earlier[0] for earlier, later in pairwise(billed)):
            billed = sorted(billed, key=lambda part: part[0])
            run.lines = [line for *_, a, b, _, _ in billed for line in run.lines[a:b]]
            run.issues = [issue for *_, a, b in billed for issue in run.issues[a:b]]
        adjust(run, [job for _, job, *_ in billed if job is not None])
        return Rating(
            tuple(run.lines),
            tuple(run.issues),
            tuple(run.carried),
            tuple(run.reported),
            run.volumes,
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a chunk is rated.

    The engine makes no reference cycles, so it reclaims nothing here; but a chunk allocates
    hundreds of thousands of small objects, and every 700 of them would start a collection
    that walks what the process already holds (the loaded inputs, the lines so far): a third
    of the time at 20,000 accounts, growing with the chunk. Reference counting still frees
    everything at once. Also a decorator: the bulk paths around the engine (a chunk's fetch
    and posting, a registry's batch) pause it too, for the same reason.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def rate_all(batch: Iterable[PeriodInputs], book: TariffBook | None = None) -> list[Rating]:
    """`rate` for every account of a chunk with one `TariffBook`, in order, with the
    collector paused (`collector_paused`)."""
    shared = book or TariffBook()
    with collector_paused():
        return [rate(inputs, shared) for inputs in batch]


def _ordered(inputs: PeriodInputs) -> list[ConnectedService]:
    services = inputs.services

    def order(connected: ConnectedService) -> tuple[bool, int, str, object]:
        service = services.get(connected.service)
        summed = service is not None and bool(service.summed_resources)
        sort_order = service.sort_order if service is not None else 0
        return summed, sort_order, connected.service, connected.effective_from

    return sorted(inputs.account.services, key=order)


def _bill(run: Run, connected: ConnectedService) -> Job | None:
    """Bill one connected service; the job when its rule ran (for the adjustments)."""
    service = run.inputs.services.get(connected.service)
    if service is None:
        run.issues.append(
            Issue(UNKNOWN_SERVICE, Severity.ERROR, run.account.number, "", connected.service)
        )
        return None
    span = clip(run.active, connected.effective_from, connected.effective_to)
    if span is None:
        return None
    job = Job(service, connected, span)
    method = service.method
    rule = _RULES.get(method)
    if rule is None:
        run.issue(METHOD_NOT_SUPPORTED, job, method=method.value)
        return None
    rule(run, job)
    return job


def per_area(run: Run, job: Job) -> None:
    """`round2(S × T × d / D)`, `S = area × share` exact, one line per tariff segment
    (2.10, 2.13); the line's quantity is `S` (to 6 decimals when the share makes it
    non-terminating)."""
    account = run.account
    share = account.share
    area = account.area
    quantity = area if share == 1 else _area(prorate(area, share.numerator, share.denominator, 6))
    period_days = run.period_days
    for span, version in run.tariff_pieces(job):
        if version is None or version.value is None:
            run.no_tariff(job, span)
            continue
        tariff = version.value
        span_days = days(span)
        exact = times(area, tariff)
        if share == 1 and span_days == period_days:
            amount = round2(exact)
        else:
            amount = prorate(exact, share.numerator * span_days, share.denominator * period_days)
        values: dict[str, Value] = {"area": area}
        if share != 1:
            values["share"] = share_text(share)
        if span_days != period_days:
            values["days"] = span_days
            values["period_days"] = period_days
        run.line(
            job,
            span,
            quantity,
            tariff,
            amount,
            Explanation(Rule.PER_AREA, job.service.name, values),
        )


def fixed(run: Run, job: Job) -> None:
    """`round2(T × d / D)` for the account, one line per tariff segment (2.13)."""
    period_days = run.period_days
    for span, version in run.tariff_pieces(job):
        if version is None or version.value is None:
            run.no_tariff(job, span)
            continue
        tariff = version.value
        span_days = days(span)
        values: dict[str, Value] = {}
        if span_days == period_days:
            amount = round2(tariff)
        else:
            amount = prorate(tariff, span_days, period_days)
            values["days"] = span_days
            values["period_days"] = period_days
        run.line(job, span, _ONE, tariff, amount, Explanation(Rule.FIXED, job.service.name, values))


def _area(value: Decimal) -> Decimal:
    """An area share at 2 decimals when that is exact, else at the 6 it was rounded to."""
    short = quantize(value, 2)
    return short if short == value else value


_ONE = Decimal(1)


_RULES: dict[Method, Callable[[Run, Job], None]] = {
    Method.PER_AREA: per_area,
    Method.FIXED: fixed,
    Method.NORM_PER_PERSON: norm_per_person,
    Method.NORM_PER_AREA: norm_per_area,
    Method.HEATING_BY_AREA: heating,
    Method.COMMON_HOUSE_BY_AREA: common_house,
    Method.METERED: metered,
    Method.TIME_OF_USE: metered,
    Method.TIERED: metered,
}
