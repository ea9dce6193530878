"""Effective-dated rows: [effective_from, effective_to), and rows of the same thing never overlap.

`EffectiveDated` gives the two fields; `effective_dating(prefix, *key)` gives the constraints a
concrete model lists in its Meta: the dates are ordered (CHECK), and rows with the same key do
not overlap (`NoOverlap`: validation everywhere, an exclusion constraint on PostgreSQL,
triggers on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kvit.core.dating import DateRange


class EffectiveDated(models.Model):
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(
        _("effective to"),
        null=True,
        blank=True,
        help_text=_("The first day the row no longer applies; empty means open-ended."),
    )

    class Meta:
        abstract = True

    @property
    def span(self) -> DateRange:
        return DateRange(self.effective_from, self.effective_to)

    def is_effective_on(self, day: Any) -> bool:
        return self.span.contains(day)


def overlapping(queryset: models.QuerySet[Any], start: Any, end: Any) -> models.QuerySet[Any]:
    """Rows of `queryset` whose [effective_from, effective_to) overlaps [start, end)."""
    queryset = queryset.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=start))
    return queryset if end is None else queryset.filter(effective_from__lt=end)


def concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field


class NoOverlap(models.BaseConstraint):
    """Rows with equal `fields` must not have overlapping effective date ranges."""

    def __init__(self, *, fields: tuple[str, ...] | list[str], name: str, **kwargs: Any) -> None:
        self.fields = tuple(fields)
        super().__init__(name=name, **kwargs)

    # --- DDL: PostgreSQL only ("" means no DDL); SQLite gets triggers after migrate ---

    def _exclusion(self, model: type[models.Model], schema_editor: Any) -> str:
        quote = schema_editor.quote_name
        keys = [f"{quote(concrete_field(model, f).column)} WITH =" for f in self.fields]
        dates = "daterange(effective_from, effective_to, '[)') WITH &&"
        return f"CONSTRAINT {quote(self.name)} EXCLUDE USING gist ({', '.join([*keys, dates])})"

    def constraint_sql(self, model: Any, schema_editor: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        return self._exclusion(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        table = schema_editor.quote_name(model._meta.db_table)
        return f"ALTER TABLE {table} ADD {self._exclusion(model, schema_editor)}"

    def remove_sql(self, model: Any, schema_editor: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        table = schema_editor.quote_name(model._meta.db_table)
        return f"ALTER TABLE {table} DROP CONSTRAINT {schema_editor.quote_name(self.name)}"

    # --- validation, the same on every database ---

    def validate(
        self, model: type[models.Model], instance: Any, exclude: Any = None, using: Any = None
    ) -> None:
        exclude = set(exclude or ())
        if exclude & {*self.fields, "effective_from", "effective_to"}:
            return
        start, end = instance.effective_from, instance.effective_to
        if start is None or (end is not None and end <= start):
            return  # the CHECK constraint's message covers inverted dates
        key = {}
        for name in self.fields:
            attname = concrete_field(model, name).attname
            key[attname] = getattr(instance, attname)
            if key[attname] is None:
                return  # the parent is not saved yet; the formset checks siblings
        others = overlapping(model._default_manager.using(using).filter(**key), start, end)
        if instance.pk is not None:
            others = others.exclude(pk=instance.pk)
        clash = others.order_by("effective_from").first()
        if clash is not None:
            raise ValidationError(
                {
                    "effective_from": ValidationError(
                        _(
                            "Overlaps the row effective %(start)s – %(end)s: effective-dated "
                            "rows with the same %(key)s may not overlap."
                        ),
                        code="overlap",
                        params={
                            "start": clash.effective_from,
                            "end": clash.effective_to or _("open-ended"),
                            "key": ", ".join(
                                str(concrete_field(model, f).verbose_name) for f in self.fields
                            ),
                        },
                    )
                }
            )

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs["fields"] = self.fields
        return path, args, kwargs

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NoOverlap):
            return self.name == other.name and self.fields == other.fields
        return super().__eq__(other)

    __hash__ = models.BaseConstraint.__hash__


def effective_dating(prefix: str, *key: str) -> list[models.BaseConstraint]:
    """The constraints of an effective-dated model whose rows are unique per `key`."""
    return [
        models.CheckConstraint(
            condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
            name=f"{prefix}_dates_ordered",
            violation_error_message=_("“Effective to” must be later than “effective from”."),
        ),
        NoOverlap(fields=key, name=f"{prefix}_no_overlap"),
    ]
