"""Rows point only at rows of their own tenant (spec 1.1: tenants are isolated)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kvit.db.effective import concrete_field


def foreign_tenant_errors(
    instance: models.Model, tenant_id: Any, *fields: str
) -> dict[str, ValidationError]:
    """An error for each of `fields` (foreign keys) that points at another tenant's row.

    Nothing is checked while `tenant_id` or the reference is empty: the field validation
    names those.
    """
    errors: dict[str, ValidationError] = {}
    if tenant_id is None:
        return errors
    for name in fields:
        field = concrete_field(type(instance), name)
        if getattr(instance, field.attname) is None:
            continue
        if getattr(instance, name).tenant_id != tenant_id:
            errors[name] = ValidationError(
                _("The %(field)s belongs to another organisation."),
                code="other_tenant",
                params={"field": field.verbose_name},
            )
    return errors
