"""Reading parameters: a tenant's override in force on a date, else the spec's default."""

from __future__ import annotations

from datetime import date
from typing import Any

from kvit.core.parameters import SPECS
from kvit.parameters.models import Parameter


def parameter_value(tenant_id: int, name: str, on: date) -> Any:
    spec = SPECS[name]
    row = (
        Parameter.objects.filter(tenant_id=tenant_id, name=name, effective_from__lte=on)
        .exclude(effective_to__lte=on)
        .first()
    )
    return spec.parse(row.value if row else spec.default_on(on))
