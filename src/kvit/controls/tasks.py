"""The nightly reconciliation as a Celery task (`CELERY_BEAT_SCHEDULE` in the settings;
`celery -A kvit.config.celery beat` sends it). `kvit reconcile` does the same from cron."""

from __future__ import annotations

from kvit.config.celery import app
from kvit.controls import actions


@app.task(name="kvit.controls.reconcile")
def reconcile() -> dict[str, int]:
    """Every organisation checked; how many differences each has."""
    return {summary.tenant: len(summary.found) for summary in actions.reconcile_all()}
