"""The Celery app: a bill run's chunks billed by worker processes, over Redis or RabbitMQ.

KVIT_BROKER_URL=redis://127.0.0.1:6379/0 celery -A kvit.config.celery worker --concurrency 2
kvit billrun --period 2025-07 --broker redis://127.0.0.1:6379/0

Configured from Django's settings, the `CELERY_` ones (`kvit.config.settings`); the tasks
are the apps' `tasks.py` modules.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvit.config.settings")

app = Celery("kvit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _refuse_without_broker(sender: Any = None, **kwargs: Any) -> None:
    # Celery's default broker is a RabbitMQ on localhost: a worker started without
    # KVIT_BROKER_URL would wait there for tasks that are sent elsewhere. (SystemExit, as
    # Celery logs and swallows a signal handler's exceptions.)
    if not app.conf.broker_url:
        sys.exit(
            "no broker: set KVIT_BROKER_URL (redis://… or amqp://…) or run celery --broker URL"
        )
