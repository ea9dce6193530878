"""Django's field validation, run only where a cheap check cannot vouch for the value.

`Model.clean_fields` converts and validates every field (about 4 µs a field): a tenth of a
bank registry's import. `clean_fields(instance, exclude)` first checks each value the way
the field's own validators would, on the plain types only (a `str` within its length,
without NUL and among the choices; a finite `Decimal` within its digits; a `date`, a
`datetime`, a `bool`; or an empty value of a field that may be blank), and leaves the
fields it cannot vouch for — any other type or field, any field with validators of its own —
to `Model.clean_fields`, so the errors are Django's, word for word. A text with a NUL
character, which a model field takes and PostgreSQL refuses, is refused as Django's form
fields refuse it (`ProhibitNullCharactersValidator`, its words).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models

NO_NUL = ProhibitNullCharactersValidator()


def clean_fields(instance: models.Model, exclude: Collection[str] = ()) -> None:
    """`instance.clean_fields(exclude)`, with the plainly valid fields skipped."""
    doubtful = {
        name: value
        for name, attname, check in _checks(type(instance))
        if name not in exclude and not check(value := getattr(instance, attname))
    }
    if not doubtful:
        return
    errors: dict[str, list[ValidationError]] = {}
    try:
        instance.clean_fields(
            exclude=[f.name for f in instance._meta.concrete_fields if f.name not in doubtful]
        )
    except ValidationError as error:
        errors = error.error_dict
    for name, value in doubtful.items():
        if name not in errors and isinstance(value, str) and "\x00" in value:
            errors[name] = [ValidationError(NO_NUL.message, code=NO_NUL.code)]
    if errors:
        raise ValidationError(errors)


def plainly_valid(field: models.Field[Any, Any], value: Any) -> bool:
    """Whether `Field.clean` would accept `value` unchanged (False when unsure)."""
    return _check(field)(value)


@cache
def _checks(model: type[models.Model]) -> tuple[tuple[str, str, Callable[[Any], bool]], ...]:
    return tuple((f.name, f.attname, _check(f)) for f in model._meta.concrete_fields)


@cache
def _check(field: models.Field[Any, Any]) -> Callable[[Any], bool]:
    """The test of `plainly_valid` for one field, worked out once."""
    empty, blank = field.empty_values, bool(field.blank)
    plain: Callable[[Any], bool] = lambda value: False  # noqa: E731
    if getattr(field, "_validators", ()) or field.default_validators:  # model's, subclass's
        pass
    elif isinstance(field, models.CharField):
        limit = field.max_length
        choices = frozenset(value for value, _label in field.flatchoices) if field.choices else None
        plain = lambda value: (  # noqa: E731
            isinstance(value, str)
            and (limit is None or len(value) <= limit)
            and "\x00" not in value
            and (choices is None or value in choices)
        )
    elif isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        plain = lambda value: type(value) is Decimal and _fits(value, digits, places)  # noqa: E731
    elif isinstance(field, models.DateTimeField):
        plain = lambda value: type(value) is datetime  # noqa: E731
    elif isinstance(field, models.DateField):
        plain = lambda value: type(value) is date  # noqa: E731
    elif isinstance(field, models.BooleanField):
        plain = lambda value: type(value) is bool  # noqa: E731

    def check(value: Any) -> bool:
        # `value == ""`, without asking a Decimal or a date to compare itself with a str
        if value is None or (isinstance(value, str) and not value):
            return blank and value in empty  # skipped by `clean_fields`, or reported
        return plain(value)

    return check


def _fits(value: Decimal, max_digits: int | None, decimal_places: int | None) -> bool:
    """`DecimalValidator`'s test, for a finite value with no more places than allowed: its
    exponent is one of 0, -1 … -decimal_places (a positive one is left to Django), and its
    whole digits (`adjusted() + 1`) are at most max_digits - decimal_places. Without
    `as_tuple`, which builds a tuple of the digits (a registry checks three million)."""
    if not value.is_finite() or max_digits is None or decimal_places is None:
        return False
    quanta = _quanta(decimal_places)
    return any(value.same_quantum(q) for q in quanta) and (
        value.adjusted() < max_digits - decimal_places
    )


@cache
def _quanta(places: int) -> tuple[Decimal, ...]:
    """The units with 0 to `places` decimal places, the most used first: 0.01, 0.1, 1."""
    return tuple(Decimal(1).scaleb(-n) for n in range(places, -1, -1))
