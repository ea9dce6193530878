"""Tenants (the organisations running Kvit) and the hierarchy inside each (spec 1.1)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from kvit.db.history import History


class Tenant(models.Model):
    class Kind(models.TextChoices):
        MANAGEMENT_COMPANY = "management_company", _("management company")
        HOA = "hoa", _("homeowners' association")
        SETTLEMENT_CENTRE = "settlement_centre", _("settlement centre")
        RESOURCE_SUPPLIER = "resource_supplier", _("resource supplier")
        ENERGY_SALES = "energy_sales", _("energy sales company")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")

    tenant_path = "pk"
    history = History()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HierarchyNode(models.Model):
    """A node of the tenant's tree: region, district, feeder, building, entrance …

    `path` is the chain of ancestor ids, "/1/5/17/", so a subtree is one prefix query.
    """

    tenant = models.ForeignKey(Tenant, models.CASCADE, verbose_name=_("organisation"))
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    kind = models.CharField(
        _("kind"), max_length=40, help_text=_("For example region, district, feeder, entrance.")
    )
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    path = models.CharField(_("path"), max_length=500, editable=False, db_index=True)

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("hierarchy node")
        verbose_name_plural = _("hierarchy nodes")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="tenants_node_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        parent = self.parent
        path = f"{parent.path if parent else '/'}{self.pk}/"
        if path != self.path:
            old, self.path = self.path, path
            HierarchyNode.objects.filter(pk=self.pk).update(path=path)
            if old:  # moved: rewrite the descendants' paths in one statement
                HierarchyNode.objects.filter(path__startswith=old).exclude(pk=self.pk).update(
                    path=Concat(Value(path), Substr("path", len(old) + 1))
                )

    def clean(self) -> None:
        parent = self.parent
        if parent is None:
            return
        if parent.tenant_id != self.tenant_id:
            raise ValidationError({"parent": _("The parent belongs to another organisation.")})
        if self.pk is not None and f"/{self.pk}/" in parent.path:
            raise ValidationError({"parent": _("A node cannot be moved under its own subtree.")})

    def descendants(self) -> models.QuerySet[HierarchyNode]:
        return HierarchyNode.objects.filter(path__startswith=self.path)
