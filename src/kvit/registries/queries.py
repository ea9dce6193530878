"""Reading registries: the formats an organisation may import with, and a registry's lines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kvit.registries import parsing
from kvit.registries.models import Registry, RegistryFormat, RegistryLine

PRESET_NAMES = {
    "sberbank": gettext_lazy("Sberbank text registry (spec 6.2)"),
    "csv": gettext_lazy("CSV with a header row naming the fields"),
}


@dataclass(frozen=True)
class Format:
    """A format to import with: a built-in preset or an organisation's `RegistryFormat`.
    A preset's payments have its code as their source."""

    code: str
    name: str
    source: str
    layout: parsing.Layout
    provider_id: int | None = None
    bank_inn: str = ""  # the payer of its payment orders in bank statements (any: "")


def registry_format(tenant_id: int, code: str) -> Format:
    """The format `code` of the organisation; ValidationError when there is none."""
    found = RegistryFormat.objects.filter(tenant_id=tenant_id, code=code).first()
    if found is not None:
        return Format(
            found.code,
            found.name,
            found.source,
            found.layout(),
            found.provider_id,
            found.bank_inn,
        )
    if code in parsing.PRESETS:
        return Format(code, str(PRESET_NAMES[code]), code, parsing.PRESETS[code])
    raise ValidationError(
        _("Unknown registry format “%(code)s”; the formats are: %(codes)s."),
        code="unknown_format",
        params={"code": code, "codes": ", ".join(code for code, _name in formats(tenant_id))},
    )


def formats(tenant_id: int) -> list[tuple[str, str]]:
    """(code, name) of every format the organisation may import with: the presets first."""
    own = RegistryFormat.objects.filter(tenant_id=tenant_id).order_by("code")
    return [(code, str(name)) for code, name in PRESET_NAMES.items()] + [
        (code, name) for code, name in own.values_list("code", "name")
    ]


def problem_lines(registry: Registry) -> QuerySet[RegistryLine]:
    """The lines that were not posted, in file order."""
    return (
        RegistryLine.objects.filter(registry=registry)
        .exclude(outcome=RegistryLine.Outcome.POSTED)
        .select_related("payment")
        .order_by("number")
    )


def line_report(registry: Registry) -> Iterator[RegistryLine]:
    """Every line with its payment, in file order, streamed (a million lines stay out of
    memory)."""
    return (
        RegistryLine.objects.filter(registry=registry)
        .select_related("payment")
        .order_by("number")
        .iterator(chunk_size=5_000)
    )
