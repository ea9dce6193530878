"""What the database benchmarks share: the process's peak memory, the organisation measured."""

from __future__ import annotations

import argparse
import resource
from typing import Any


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tenant_to_measure(parser: argparse.ArgumentParser, code: str | None) -> Any:
    """The organisation `code`, or the one with most accounts; the parser's error when the
    database has none. (Call after `django.setup()`.)"""
    from django.db.models import Count

    from kvit.tenants.models import Tenant

    code = code or next(
        iter(
            Tenant.objects.annotate(n=Count("account"))
            .order_by("-n", "code")
            .values_list("code", flat=True)
        ),
        None,
    )
    if code is None:
        parser.error("the database has no organisation")
    return Tenant.objects.get(code=code)
