"""The organisations a management command names with `--tenant CODE`: one place for the
look-up and its error, so every command says the same."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import QuerySet

from kvit.tenants.models import Tenant


def tenant_of(code: str) -> Tenant:
    """The organisation with this code; CommandError when there is none."""
    tenant = Tenant.objects.filter(code=code).first()
    if tenant is None:
        raise CommandError(f"no organisation with the code '{code}'")
    return tenant


def tenants_named(code: str | None) -> QuerySet[Tenant]:
    """The organisation with this code, or every organisation when none is given; in code
    order. CommandError when the code names none."""
    tenants = Tenant.objects.order_by("code")
    if code:
        tenants = tenants.filter(pk=tenant_of(code).pk)
    return tenants
