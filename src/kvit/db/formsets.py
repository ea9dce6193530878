"""Inline formsets that validate the submitted rows as a set, which a single row cannot.

An inline row's own validation skips `NoOverlap` (the parent key is excluded from per-form
validation), and a standalone row is checked only against rows already saved. Here the rows
of one parent are checked together: the submitted ones, plus saved ones not in the formset
(on other pages of a paginated inline).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from unfold.forms import PaginationInlineFormSet

from kvit.core.dating import DateRange, find_overlaps
from kvit.db.effective import NoOverlap


def _span(start: Any, end: Any) -> DateRange | None:
    """The row's dates, or None when they are missing or inverted (the CHECK names those)."""
    if start is None or (end is not None and end <= start):
        return None
    return DateRange(start, end)


class Row:
    """A row of the set: a submitted form (numbered as shown) or a saved row off the form."""

    def __init__(self, values: dict[str, Any], form: Any = None, number: int = 0) -> None:
        self.values, self.form, self.number = values, form, number

    def __str__(self) -> str:
        if self.form is not None:
            return _("row %(number)s") % {"number": self.number}
        return _("the saved row %(start)s – %(end)s") % {
            "start": self.values["effective_from"],
            "end": self.values["effective_to"] or _("open-ended"),
        }


class SetValidatedInlineFormSet(PaginationInlineFormSet):  # type: ignore[misc]  # untyped
    """Base for inline formsets with rules over all of a parent's rows."""

    def rows(self, fields: list[str]) -> Iterator[Row]:
        """The rows the parent will have after saving: submitted forms that are valid and not
        being deleted, then the saved rows that are not in the formset."""
        for number, form in enumerate(self.forms, start=1):
            if not form.is_valid() or (self.can_delete and self._should_delete_form(form)):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue  # an untouched extra form
            yield Row({f: _value(form.cleaned_data.get(f)) for f in fields}, form, number)
        if self.instance.pk is None:
            return
        shown = [form.instance.pk for form in self.initial_forms]
        saved = self.model._default_manager.filter(**{self.fk.name: self.instance})
        for obj in saved.exclude(pk__in=shown):
            yield Row({f: _value(getattr(obj, f)) for f in fields})


def _value(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


class EffectiveDatedInlineFormSet(SetValidatedInlineFormSet):
    """A parent's effective-dated rows with the same key (the model's `NoOverlap` fields)
    may not overlap in time."""

    forms: list[Any]  # Django's cached property; declared for mypy (the base is untyped)

    def clean(self) -> None:
        super().clean()
        constraint = next(c for c in self.model._meta.constraints if isinstance(c, NoOverlap))
        key = [name for name in constraint.fields if name != self.fk.name]
        groups: dict[tuple[Any, ...], list[tuple[Row, DateRange]]] = defaultdict(list)
        for row in self.rows([*key, "effective_from", "effective_to"]):
            span = _span(row.values["effective_from"], row.values["effective_to"])
            if span is not None:
                groups[tuple(row.values[name] for name in key)].append((row, span))
        names = ", ".join(str(self.model._meta.get_field(n).verbose_name) for n in key)
        names = names or str(self.fk.verbose_name)
        errors = []
        for items in groups.values():
            for clash in find_overlaps(items):
                first, second = sorted((clash.first, clash.second), key=_row_order)
                errors.append(self._overlap_error(first, second, names))
        if errors:
            raise ValidationError(errors)

    def save_existing_objects(self, commit: bool = True) -> list[Any]:
        # Rows are saved one by one and the database refuses even a passing overlap, so
        # moving the boundary between two rows works only if the row giving up days goes
        # first: deleted rows, then shrunk ones, then the rest (new rows come after all).
        forms = self.forms
        initial = sorted(self.initial_forms, key=self._save_order)
        self.forms = [*initial, *forms[len(initial) :]]
        try:
            return list(super().save_existing_objects(commit))
        finally:
            self.forms = forms

    def _save_order(self, form: Any) -> int:
        if self.can_delete and self._should_delete_form(form):
            return 0
        old = _span(form.initial.get("effective_from"), form.initial.get("effective_to"))
        new = _span(form.cleaned_data.get("effective_from"), form.cleaned_data.get("effective_to"))
        if old is None or new is None:
            return 2
        within = new.start >= old.start and (
            old.end is None or (new.end is not None and new.end <= old.end)
        )
        return 1 if within else 2

    def _overlap_error(self, first: Row, second: Row, key_names: str) -> ValidationError:
        for row, other in ((first, second), (second, first)):
            if row.form is not None:
                row.form.add_error(
                    "effective_from",
                    _("Overlaps %(other)s.") % {"other": other},
                )
        return ValidationError(
            _(
                "%(first)s and %(second)s overlap: the periods “effective from” – “effective "
                "to” of rows with the same %(key)s may not overlap."
            ),
            code="overlap",
            params={"first": str(first).capitalize(), "second": second, "key": key_names},
        )


def _row_order(row: Row) -> tuple[int, int]:
    return (0, row.number) if row.form is not None else (1, 0)
