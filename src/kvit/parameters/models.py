"""A tenant's effective-dated overrides of the spec's configuration parameters (section 10)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kvit.core.parameters import SPECS
from kvit.db.effective import EffectiveDated, effective_dating
from kvit.db.history import History

PARAMETER_CHOICES = [(name, name) for name in sorted(SPECS)]


class Parameter(EffectiveDated):
    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    name = models.CharField(_("parameter"), max_length=60, choices=PARAMETER_CHOICES)
    value = models.TextField(_("value"))
    note = models.CharField(
        pgettext_lazy("why a value was set", "reason"), max_length=300, blank=True
    )

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("configuration parameter")
        verbose_name_plural = _("configuration parameters")
        ordering = ["name", "effective_from"]
        constraints = effective_dating("parameters_parameter", "tenant", "name")

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"

    @property
    def description(self) -> str:
        spec = SPECS.get(self.name)
        return spec.description if spec else ""

    def clean(self) -> None:
        spec = SPECS.get(self.name)
        if spec is None:
            return  # the choices validation names the field
        try:
            spec.parse(self.value)
        except ValueError as error:
            raise ValidationError({"value": str(error)}) from None
