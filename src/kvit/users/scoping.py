"""What a user may read: the one place that decides it.

Every tenant-owned model names the path to its tenant in `tenant_path` and, where a consumer
may see it, the path to its account in `account_path`. Staff of a tenant see that tenant's
rows; a consumer sees only rows of the accounts linked to them; a superuser sees everything;
anyone else sees nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def tenant_path(model: type[models.Model]) -> str:
    path = getattr(model, "tenant_path", None)
    if path is None:
        raise TypeError(f"{model.__name__} does not declare tenant_path")
    return str(path)


def visible(user: Any, queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """The part of `queryset` that `user` may read."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if user.tenant_id is None:
        return queryset.none()
    model = queryset.model
    scoped = queryset.filter(**{tenant_path(model): user.tenant_id})
    if not user.is_consumer:
        return scoped
    account_path = getattr(model, "account_path", None)
    if account_path is None:
        return queryset.none()
    account_ids = user.accounts.values("pk")
    return scoped.filter(**{f"{account_path}__in": account_ids}).distinct()


def can_see(user: Any, obj: models.Model) -> bool:
    return visible(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()
