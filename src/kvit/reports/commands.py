"""What the report commands (`kvit turnover`, `kvit debt_ageing`) share: the organisation,
node and provider from their codes, the output format, and writing the file whole or not
at all (into a temporary file next to it, renamed when complete)."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import translation

from kvit.providers.models import Provider
from kvit.reports.exports import Table, write_csv, write_xlsx
from kvit.tenants.commands import tenant_of
from kvit.tenants.models import HierarchyNode, Tenant

FORMATS = ("csv", "xlsx")


def day_argument(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not '{text}'") from None


def add_common_arguments(parser: CommandParser) -> None:
    parser.add_argument("--tenant", required=True, help="organisation code")
    parser.add_argument("--node", help="hierarchy node code: only the accounts under it")
    parser.add_argument("--provider", help="provider INN, or INN/KPP: only what it is owed")
    parser.add_argument(
        "--format", choices=FORMATS, help="csv or xlsx (default: from the output's suffix)"
    )
    parser.add_argument("--output", required=True, type=Path, help="the file to write")
    parser.add_argument(
        "--language",
        choices=[code for code, _name in settings.LANGUAGES],
        default=settings.LANGUAGE_CODE,
        help=f"language of the headings (default {settings.LANGUAGE_CODE})",
    )


def node_of(tenant: Tenant, code: str | None) -> HierarchyNode | None:
    if code is None:
        return None
    node = HierarchyNode.objects.filter(tenant=tenant, code=code).first()
    if node is None:
        raise CommandError(f"no hierarchy node '{code}' in {tenant.code}")
    return node


def provider_of(tenant: Tenant, text: str | None) -> Provider | None:
    if text is None:
        return None
    inn, _slash, kpp = text.partition("/")
    found = Provider.objects.filter(tenant=tenant, inn=inn)
    if kpp:
        found = found.filter(kpp=kpp)
    providers = list(found[:2])
    if not providers:
        raise CommandError(f"no provider with INN {text} in {tenant.code}")
    if len(providers) > 1:
        raise CommandError(f"several providers have INN {inn} in {tenant.code}: give INN/KPP")
    return providers[0]


def output_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise CommandError(f"cannot tell the format from '{path.name}': give --format csv or xlsx")
    return suffix


def write_report(
    build: Callable[[], Table], path: Path, fmt: str, language: str
) -> tuple[int, float]:
    """Build the table (in `language`) and write it to `path` in `fmt`: (rows, seconds).
    The rows stream from one transaction (PostgreSQL reads them through a server-side
    cursor); `path` appears only once the file is complete."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise CommandError(f"the folder {folder} does not exist")
    started = time.perf_counter()
    scratch = folder / f".{path.name}.{os.getpid()}.part"  # created with the usual mode
    try:
        with translation.override(language), transaction.atomic():
            table = build()
            if fmt == "csv":
                with open(scratch, "w", encoding="utf-8-sig", newline="") as stream:
                    rows = write_csv(table, stream)
            else:
                rows = write_xlsx(table, scratch)
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    return rows, time.perf_counter() - started


def report_options(options: dict[str, Any]) -> tuple[Tenant, HierarchyNode | None, Provider | None]:
    tenant = tenant_of(options["tenant"])
    return tenant, node_of(tenant, options["node"]), provider_of(tenant, options["provider"])
