"""The engine's codes (kvit.core.codes, standard library only) equal the models' choices.

The engine cannot import Django, so the vocabulary exists twice; this test keeps the two
copies equal, so a choice added to a model cannot silently go missing in the engine.
"""

from enum import StrEnum

import pytest
from django.db import models

from kvit.accounts.models import Account
from kvit.core import codes
from kvit.ledger.models import ENGINE_KINDS, LedgerEntry
from kvit.metering import resources
from kvit.metering.models import Meter, Reading
from kvit.people.models import Registration
from kvit.premises.models import Building, CommonMeter, Premise
from kvit.tariffs.models import Norm, Service

PAIRS: list[tuple[type[StrEnum], type[models.TextChoices]]] = [
    (codes.Resource, resources.Resource),
    (codes.Zone, resources.Zone),
    (codes.Unit, Service.Unit),
    (codes.Method, Service.Method),
    (codes.PenaltyScheme, Service.PenaltyScheme),
    (codes.NormKind, Norm.Kind),
    (codes.MeterKind, Meter.Kind),
    (codes.MeterStatus, Meter.Status),
    (codes.ReadingKind, Reading.Kind),
    (codes.RegistrationKind, Registration.Kind),
    (codes.PremiseKind, Premise.Kind),
    (codes.ConsumerKind, Account.ConsumerKind),
    (codes.CommonMeter, CommonMeter),
    (codes.HeatingScheme, Building.HeatingScheme),
]


@pytest.mark.parametrize(("engine", "model"), PAIRS, ids=lambda c: c.__qualname__)
def test_engine_codes_equal_model_choices(
    engine: type[StrEnum], model: type[models.TextChoices]
) -> None:
    assert sorted(e.value for e in engine) == sorted(model.values)


def test_zones_by_meter_zone_count_agree() -> None:
    engine = {n: tuple(z.value for z in zones) for n, zones in codes.ZONES_BY_COUNT.items()}
    model = {n: tuple(str(z) for z in zones) for n, zones in resources.ZONES_BY_COUNT.items()}
    assert engine == model


def test_the_engines_line_kinds_are_ledger_kinds_with_the_same_values() -> None:
    """The ledger has more kinds (payment, reversal …); each kind the engine proposes is the
    ledger kind of the same name and value, listed first."""
    engine = {kind.name: kind.value for kind in codes.LineKind}
    ledger = {kind.name: kind.value for kind in LedgerEntry.Kind}
    assert engine.items() <= ledger.items()
    assert list(ledger.values())[: len(engine)] == list(engine.values())
    assert frozenset(engine.values()) == ENGINE_KINDS
