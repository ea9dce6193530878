"""`kvit purge_idempotency_keys`: delete the stored API requests whose `Idempotency-Key`
has expired (older than `kvit.api.idempotency.RETENTION`). Run it daily (cron, a Celery
beat task): each online payment's steps store their responses, and nothing else removes
them. A key in use is never touched: only keys that may already be used again go."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kvit.api.idempotency import RETENTION, purge


class Command(BaseCommand):
    help = "Delete the stored API requests whose Idempotency-Key has expired."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge()
        self.stdout.write(
            _("Deleted %(count)s stored request(s) older than %(hours)s hours.")
            % {"count": deleted, "hours": int(RETENTION.total_seconds() // 3600)}
        )
