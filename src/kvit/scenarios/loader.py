"""A scenario file (YAML, docs/scenarios.md) → `model.Scenario`, or a `ScenarioError` that
names the file, line, column and path of the first mistake.

Dates without a start (`from`, `opened_on`, `installed_on`) mean "always" (`date.min`). An
effective-dated list without `to` runs each row until the next one of the same kind starts.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from kvit.core import allocation, penalties
from kvit.core.codes import (
    ZONES_BY_COUNT,
    CommonMeter,
    ConsumerKind,
    HeatingScheme,
    LineKind,
    MeterKind,
    MeterStatus,
    Method,
    NormKind,
    PenaltyScheme,
    PremiseKind,
    ReadingKind,
    RegistrationKind,
    Resource,
    Rule,
    Unit,
    Zone,
)
from kvit.core.config import Config, ParameterRow, config_on, overrides_on
from kvit.core.due_dates import DueDayRule, due_date
from kvit.core.inputs import (
    Absence,
    AccessRefusal,
    Account,
    BenefitGrant,
    Building,
    CommonHouseVolume,
    ConnectedService,
    Interruption,
    Meter,
    NormVersion,
    Reading,
    Registration,
    Service,
    TariffVersion,
    Tier,
    ZonePrice,
)
from kvit.core.parameters import SPECS, Kind
from kvit.core.penalty_tables import KeyRates, parse_moratoria, parse_rate_caps
from kvit.core.periods import Period
from kvit.core.statements import Entry, EntryKind
from kvit.scenarios.model import (
    AccountExpectation,
    AccountPayment,
    AccountPlan,
    AllocationCase,
    AllocationKey,
    BuildingPlan,
    ExpectedIssue,
    ExpectedLine,
    ExpectedPenaltyRow,
    PenaltyCase,
    Provider,
    QrCase,
    QrInput,
    QrRejection,
    Scenario,
    StatementCase,
)
from kvit.scenarios.nodes import Fields, Item, Where, compose, compose_text

DEFAULT_PROVIDER = "provider"
"""The provider code used when the file defines no provider."""

T = TypeVar("T")


class Language(StrEnum):
    RU = "ru"
    EN = "en"


TOP_KEYS = (
    "scenario",
    "description",
    "language",
    "currency",
    "config",
    "providers",
    "services",
    "building",
    "buildings",
    "accounts",
    "periods",
    "expect",
    "penalties",
    "allocations",
    "qr_codes",
    "statements",
)
SERVICE_KEYS = (
    "name",
    "unit",
    "method",
    "resource",
    "summed_resources",
    "absence_recalc_allowed",
    "increase_coefficient_applies",
    "penalty_scheme",
    "part_of_maintenance",
    "sort_order",
    "tariff",
    "tariffs",
    "norm",
    "norms",
)
ACCOUNT_KEYS = (
    "area",
    "share",
    "rooms",
    "building",
    "premise_kind",
    "consumer_kind",
    "opened_on",
    "closed_on",
    "owners",
    "persons",
    "registrations",
    "meter_impossible",
    "services",
    "absences",
    "benefits",
    "interruptions",
    "access_refusals",
    "opening_balance",
    "payments",
    "meters",
)
METER_KEYS = (
    "resource",
    "installed_on",
    "zones",
    "kind",
    "integer_digits",
    "fraction_digits",
    "transform_ratio",
    "removed_on",
    "verification_due",
    "status",
    "failed_on",
    "readings",
)
LINE_KEYS = (
    "service",
    "kind",
    "rule",
    "zone",
    "tier",
    "provider",
    "first_day",
    "last_day",
    "quantity",
    "unit",
    "tariff",
    "amount",
    "explanation",
)
PROVIDER_KEYS = ("name", "inn", "kpp", "bank_name", "bic", "corr_account", "settlement_account")
QR_KEYS = ("account", "amount", "purpose", "period", "tech_code", "encoding")
ACT_FIGURES = ("turnover_debit", "turnover_credit", "closing_balance")
ROW_FIGURES = (
    "opening_debit",
    "opening_credit",
    "charged",
    "recalculations",
    "benefits",
    "penalties",
    "paid_principal",
    "paid_penalties",
    "write_offs",
    "closing_debit",
    "closing_credit",
)
_UNITS = {
    Resource.COLD_WATER: Unit.M3,
    Resource.HOT_WATER: Unit.M3,
    Resource.GAS: Unit.M3,
    Resource.ELECTRICITY: Unit.KWH,
    Resource.HEAT: Unit.GCAL,
}
_ZONE_NAMES = tuple(zone.value for zone in Zone)


def load(path: Path | str) -> Scenario:
    """The scenario in the file at `path`; `ScenarioError` for the first mistake found."""
    return _Loader(compose(Path(path))).scenario()


def load_text(text: str, source: str = "<scenario>") -> Scenario:
    """The scenario written in `text` (`source` names it in messages)."""
    return _Loader(compose_text(text, source)).scenario()


def _sequence(item: Item, read: Callable[[Item], T]) -> tuple[T, ...]:
    return tuple(read(entry) for entry in item.items())


def _choice(enum: type[Any], what: str) -> Callable[[Item], Any]:
    return lambda item: item.choice(enum, what)


def _closed(
    versions: Sequence[tuple[Item, T]], group: Callable[[T], object], what: str
) -> tuple[T, ...]:
    """Effective-dated rows with each open row closed where the next row of its group
    starts; rows of one group that overlap are refused."""
    result: list[T] = []
    groups: dict[object, list[tuple[Item, Any]]] = {}
    for item, version in versions:
        groups.setdefault(group(version), []).append((item, version))
    for rows in groups.values():
        rows.sort(key=lambda row: row[1].effective_from)
        for index, (_item, version) in enumerate(rows):
            following = rows[index + 1] if index + 1 < len(rows) else None
            if following is not None:
                start = following[1].effective_from
                if version.effective_to is None and start > version.effective_from:
                    version = replace(version, effective_to=start)
                if version.effective_to is None or version.effective_to > start:
                    raise following[0].error(
                        f"this {what} overlaps the one from {_show(version.effective_from)}"
                    )
            result.append(version)
    return tuple(result)


def _show(day: date) -> str:
    return "the beginning" if day == date.min else day.isoformat()


class _Loader:
    def __init__(self, root: Item) -> None:
        self.root = root
        self.source = root.source
        self.config_rows: tuple[ParameterRow, ...] = ()
        self.providers: dict[str, Provider] = {}
        self.services: dict[str, Service] = {}
        self.buildings: dict[str, BuildingPlan] = {}
        self.accounts: dict[str, AccountPlan] = {}
        self.periods: tuple[Period, ...] = ()
        self.language = Language.RU

    def scenario(self) -> Scenario:
        top = self.root.fields(*TOP_KEYS)
        title = top.read("scenario", Item.text, self.source)
        self.language = top.read("language", _choice(Language, "a language"), Language.RU)
        currency = top.read("currency", Item.text, "RUB")
        self.config_rows = top.read("config", self.config, ())
        self.providers = top.read("providers", self.provider_map, {})
        if not self.providers:
            self.providers = {DEFAULT_PROVIDER: Provider(DEFAULT_PROVIDER)}
        self.services = top.read("services", self.service_map, {})
        top.one_of("building", "buildings")
        single = top.get("building")
        if single is not None:
            self.buildings = {"building": self.building("building", single)}
        self.buildings.update(top.read("buildings", self.building_map, {}))
        self.accounts = top.read("accounts", self.account_map, {})
        self.periods = top.read("periods", self.period_list, ())
        expectations = top.read("expect", self.expectations, {})
        return Scenario(
            source=self.source,
            title=title,
            language=self.language.value,
            currency=currency,
            config_rows=self.config_rows,
            providers=self.providers,
            services=self.services,
            accounts=tuple(self.accounts.values()),
            periods=self.periods,
            expectations=expectations,
            penalties=top.read("penalties", lambda i: _sequence(i, self.penalty_case), ()),
            allocations=top.read("allocations", lambda i: _sequence(i, self.allocation_case), ()),
            qr_codes=top.read("qr_codes", lambda i: _sequence(i, self.qr_case), ()),
            statements=top.read("statements", lambda i: _sequence(i, self.statement_case), ()),
        )

    # --- configuration ---------------------------------------------------------------------

    def config(self, item: Item) -> tuple[ParameterRow, ...]:
        rows: list[ParameterRow] = []
        for name, key, value in item.entries():
            if name not in SPECS:
                close = difflib.get_close_matches(name, SPECS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise key.error(f"unknown configuration parameter '{name}'{hint}")
            if value.is_mapping:  # dated steps: {2025-09-01: false, …}
                steps = sorted(
                    ((step.day(), given) for _text, step, given in value.entries()),
                    key=lambda step: step[0],
                )
                for index, (start, given) in enumerate(steps):
                    end = steps[index + 1][0] if index + 1 < len(steps) else None
                    rows.append(ParameterRow(name, self.parameter(name, given), start, end))
            else:
                rows.append(ParameterRow(name, self.parameter(name, value), date.min))
        return tuple(rows)

    def parameter(self, name: str, item: Item) -> str:
        """The stored text of a parameter value, checked by the parameter's own parser."""
        spec = SPECS[name]
        if spec.kind is Kind.WINDOWS:
            text = json.dumps([self.window(window) for window in item.items()])
        else:
            text = item.text().strip()
        try:
            spec.parse(text)
            if name == "penalty_rate_cap":
                parse_rate_caps(text)
            elif name == "penalty_moratoria":
                parse_moratoria(text)
        except ValueError as error:
            raise item.error(str(error)) from None
        return text

    def window(self, item: Item) -> dict[str, str | None]:
        fields = item.fields("from", "to", "mode", "rate", "applies_to_obligations_before")
        window: dict[str, str | None] = {
            "from": fields.require("from").day().isoformat(),
            "to": fields.require("to").day().isoformat(),
        }
        if fields.get("mode") is not None:
            window["mode"] = fields.require("mode").text()
        if fields.get("rate") is not None:
            window["rate"] = str(fields.require("rate").decimal())
        before = fields.get("applies_to_obligations_before")
        if before is not None:
            window["applies_to_obligations_before"] = before.day().isoformat()
        return window

    def config_at(self, day: date) -> Config:
        return config_on(day, overrides_on(self.config_rows, day))

    def due_date(self, period: Period) -> date:
        config = self.config_at(period.first_day)
        rule = DueDayRule(steps=((date.min, config.due_day),))
        return due_date(period, rule, config.shift_due_date_to_business_day)

    # --- providers, services, buildings ----------------------------------------------------

    def provider_map(self, item: Item) -> dict[str, Provider]:
        found = {}
        for code, _key, value in item.entries():
            if value.is_null:
                found[code] = Provider(code)
                continue
            fields = value.fields(*PROVIDER_KEYS)
            texts = {key: fields.read(key, Item.text, "") for key in PROVIDER_KEYS}
            found[code] = Provider(code, **{k: v for k, v in texts.items() if v})
        return found

    def provider(self, item: Item | None, where: Item) -> str:
        """A provider code given at `item`, or the only provider when none is given."""
        if item is None:
            if len(self.providers) > 1:
                raise where.error(
                    f"name the provider: the file has several ({', '.join(self.providers)})"
                )
            return next(iter(self.providers))
        code = item.text()
        if code not in self.providers:
            raise item.error(f"no provider '{code}' in providers ({', '.join(self.providers)})")
        return code

    def service_code(self, item: Item) -> str:
        code = item.text()
        if code not in self.services:
            known = ", ".join(self.services) or "none"
            raise item.error(f"no service '{code}' in services ({known})")
        return code

    def service_map(self, item: Item) -> dict[str, Service]:
        return {
            code: self.service(code, value, index)
            for index, (code, _key, value) in enumerate(item.entries())
        }

    def service(self, code: str, item: Item, index: int) -> Service:
        fields = item.fields(*SERVICE_KEYS)
        resource: Resource | None = fields.read("resource", _choice(Resource, "a resource"), None)
        method: Method | None = fields.read("method", _choice(Method, "a method"), None)
        summed: tuple[Resource, ...] = fields.read(
            "summed_resources",
            lambda i: tuple(entry.choice(Resource, "a resource") for entry in i.listed()),
            (),
        )
        if method is None:
            if resource is None and not summed:
                raise item.error(
                    "'method' is required (or a 'resource' or 'summed_resources' for a "
                    "metered service)"
                )
            method = Method.METERED
        unit: Unit | None = fields.read("unit", _choice(Unit, "a unit"), None)
        if unit is None:
            unit = self.default_unit(method, resource, summed)
            if unit is None:
                raise item.error(f"'unit' is required for a {method.value} service")
        fields.one_of("tariff", "tariffs")
        fields.one_of("norm", "norms")
        tariffs: tuple[TariffVersion, ...] = ()
        single = fields.get("tariff")
        if single is not None:
            tariffs = (self.tariff_version(single),)
        tariffs = fields.read("tariffs", self.tariff_versions, tariffs)
        norms: tuple[NormVersion, ...] = ()
        norm = fields.get("norm")
        if norm is not None:
            norms = (NormVersion(NormKind.PER_PERSON, norm.decimal(), date.min),)
        norms = fields.read("norms", self.norm_versions, norms)
        return Service(
            code=code,
            name=fields.read("name", Item.text, ""),
            unit=unit,
            method=method,
            resource=resource,
            summed_resources=summed,
            absence_recalc_allowed=fields.read("absence_recalc_allowed", Item.boolean, False),
            increase_coefficient_applies=fields.read(
                "increase_coefficient_applies", Item.boolean, False
            ),
            penalty_scheme=fields.read(
                "penalty_scheme",
                _choice(PenaltyScheme, "a penalty scheme"),
                PenaltyScheme.HOUSING_RF,
            ),
            part_of_maintenance=fields.read("part_of_maintenance", Item.boolean, False),
            sort_order=fields.read("sort_order", Item.integer, (index + 1) * 10),
            tariffs=tariffs,
            norms=norms,
        )

    @staticmethod
    def default_unit(
        method: Method, resource: Resource | None, summed: tuple[Resource, ...]
    ) -> Unit | None:
        if resource is not None:
            return _UNITS[resource]
        if summed:
            return _UNITS[summed[0]]
        return {Method.PER_AREA: Unit.M2, Method.FIXED: Unit.ACCOUNT}.get(method)

    def tariff_versions(self, item: Item) -> tuple[TariffVersion, ...]:
        versions = [(entry, self.tariff_version(entry)) for entry in item.items()]
        return _closed(versions, lambda version: version.group, "tariff")

    def tariff_version(self, item: Item) -> TariffVersion:
        if not item.is_mapping:
            return TariffVersion(date.min, value=item.decimal())
        fields = item.fields("from", "to", "value", "tiers", "zones", "group", "vat_included")
        start, end = self.dates(fields)
        value = fields.read("value", Item.decimal, None)
        tiers = fields.read("tiers", self.tiers, ())
        zones = fields.read("zones", self.zone_prices, ())
        if value is None and not tiers and not zones:
            raise item.error("a tariff needs a 'value', 'tiers' or 'zones'")
        if tiers and (value is not None or zones):
            raise item.error("a tiered tariff has only 'tiers' (no 'value' or 'zones')")
        return TariffVersion(
            effective_from=start,
            effective_to=end,
            value=value,
            tiers=tiers,
            zones=zones,
            group=fields.read("group", Item.text, ""),
            vat_included=fields.read("vat_included", Item.boolean, True),
        )

    @staticmethod
    def dates(fields: Fields) -> tuple[date, date | None]:
        """`from` (default: always) and `to` (exclusive; default: open)."""
        start = fields.read("from", Item.day, date.min)
        end = fields.read("to", Item.day, None)
        if end is not None and end <= start:
            raise fields.require("to").error(
                f"'to' ({end}) must be after 'from' ({_show(start)}): 'to' is the first day "
                "that no longer counts"
            )
        return start, end

    def tiers(self, item: Item) -> tuple[Tier, ...]:
        found: list[Tier] = []
        entries = item.items()
        for index, entry in enumerate(entries):
            fields = entry.fields("upto", "value", "zones")
            bound = fields.read("upto", Item.decimal, None)
            last = index == len(entries) - 1
            if bound is None and not last:
                raise entry.error("only the last tier may be open (without 'upto')")
            previous = found[-1].upper_bound if found else None
            if bound is not None and previous is not None and bound <= previous:
                raise fields.require("upto").error(
                    f"tier bounds must increase: {bound} is not above {previous}"
                )
            zones = fields.read("zones", self.zone_prices, ())
            found.append(Tier(bound, fields.require("value").decimal(), zones))
        if not found:
            raise item.error("a tiered tariff needs at least one tier")
        return tuple(found)

    @staticmethod
    def zone_prices(item: Item) -> tuple[ZonePrice, ...]:
        return tuple(
            ZonePrice(key.choice(Zone, "a zone"), value.decimal())
            for _text, key, value in item.entries()
        )

    def norm_versions(self, item: Item) -> tuple[NormVersion, ...]:
        versions = []
        for entry in item.items():
            fields = entry.fields("kind", "value", "from", "to", "rooms", "persons")
            start, end = self.dates(fields)
            versions.append(
                (
                    entry,
                    NormVersion(
                        kind=fields.read(
                            "kind", _choice(NormKind, "a norm kind"), NormKind.PER_PERSON
                        ),
                        value=fields.require("value").decimal(),
                        effective_from=start,
                        effective_to=end,
                        rooms=fields.read("rooms", lambda i: i.integer(0), 0),
                        persons=fields.read("persons", lambda i: i.integer(0), 0),
                    ),
                )
            )
        return _closed(versions, lambda n: (n.kind, n.rooms, n.persons), "norm")

    def building_map(self, item: Item) -> dict[str, BuildingPlan]:
        return {code: self.building(code, value) for code, _key, value in item.entries()}

    def building(self, code: str, item: Item) -> BuildingPlan:
        fields = item.fields(
            "total_area", "common_area", "heating_scheme", "common_meters", "volumes"
        )
        common_meters = fields.read(
            "common_meters",
            lambda i: {
                key.choice(Resource, "a resource"): value.choice(CommonMeter, "a meter presence")
                for _text, key, value in i.entries()
            },
            {},
        )
        building = Building(
            total_area=fields.require("total_area").decimal(),
            common_area=fields.read("common_area", Item.decimal, Decimal(0)),
            heating_scheme=fields.read(
                "heating_scheme", _choice(HeatingScheme, "a heating scheme"), HeatingScheme.CENTRAL
            ),
            common_meters=common_meters,
        )
        volumes = fields.read("volumes", self.house_volumes, {})
        return BuildingPlan(code, building, volumes)

    @staticmethod
    def house_volumes(item: Item) -> dict[Period, tuple[CommonHouseVolume, ...]]:
        found = {}
        for _text, key, value in item.entries():
            volumes = []
            for _name, resource, figures in value.entries():
                fields = figures.fields(
                    "house_meter", "individual_residential", "nonresidential", "carried_negative"
                )
                volumes.append(
                    CommonHouseVolume(
                        resource=resource.choice(Resource, "a resource"),
                        house_meter=fields.require("house_meter").decimal(),
                        individual_residential=fields.require("individual_residential").decimal(),
                        nonresidential=fields.read("nonresidential", Item.decimal, Decimal(0)),
                        carried_negative=fields.read("carried_negative", Item.decimal, Decimal(0)),
                    )
                )
            found[key.period()] = tuple(volumes)
        return found

    # --- accounts --------------------------------------------------------------------------

    def account_map(self, item: Item) -> dict[str, AccountPlan]:
        return {number: self.account(number, value) for number, _key, value in item.entries()}

    def account(self, number: str, item: Item) -> AccountPlan:
        fields = item.fields(*ACCOUNT_KEYS)
        opened_on = fields.read("opened_on", Item.day, date.min)
        closed_on = fields.read("closed_on", Item.day, None)
        if closed_on is not None and closed_on <= opened_on:
            raise fields.require("closed_on").error(
                "'closed_on' must be after 'opened_on': it is the first day the account is closed"
            )
        fields.one_of("persons", "registrations")
        registrations: tuple[Registration, ...] = fields.read(
            "persons", lambda i: self.persons(i, opened_on), ()
        )
        registrations = fields.read(
            "registrations", lambda i: _sequence(i, self.registration), registrations
        )
        people = {registration.person for registration in registrations}
        building = self.account_building(fields)
        meters, readings = fields.read("meters", self.meters, ((), ()))
        account = Account(
            number=number,
            opened_on=opened_on,
            closed_on=closed_on,
            area=fields.require("area").decimal(),
            share=fields.read("share", Item.share, Fraction(1)),
            premise_kind=fields.read(
                "premise_kind", _choice(PremiseKind, "a premise kind"), PremiseKind.RESIDENTIAL
            ),
            consumer_kind=fields.read(
                "consumer_kind", _choice(ConsumerKind, "a consumer kind"), ConsumerKind.HOUSEHOLD
            ),
            rooms=fields.read("rooms", lambda i: i.integer(0), 1),
            registrations=registrations,
            owners=fields.read("owners", lambda i: i.integer(0), 0),
            services=fields.read("services", lambda i: _sequence(i, self.connected), ()),
            meter_impossible=fields.read(
                "meter_impossible",
                lambda i: frozenset(e.choice(Resource, "a resource") for e in i.listed()),
                frozenset(),
            ),
            absences=fields.read(
                "absences", lambda i: _sequence(i, lambda e: self.absence(e, people)), ()
            ),
            benefits=fields.read("benefits", lambda i: _sequence(i, self.benefit), ()),
            interruptions=fields.read(
                "interruptions", lambda i: _sequence(i, self.interruption), ()
            ),
            access_refusals=fields.read(
                "access_refusals", lambda i: _sequence(i, self.access_refusal), ()
            ),
        )
        return AccountPlan(
            account=account,
            building=building,
            meters=meters,
            readings=readings,
            opening_balance=fields.read("opening_balance", self.amounts_by_provider, {}),
            payments=fields.read("payments", lambda i: _sequence(i, self.account_payment), ()),
            where=item.where,
        )

    def amounts_by_provider(self, item: Item) -> dict[str, Decimal]:
        """An amount of the only provider, or `{provider: amount}`."""
        if not item.is_mapping:
            return {self.provider(None, item): item.decimal()}
        return {self.provider(key, key): value.decimal() for _text, key, value in item.entries()}

    def account_building(self, fields: Fields) -> BuildingPlan | None:
        given = fields.get("building")
        if given is None:
            return next(iter(self.buildings.values())) if len(self.buildings) == 1 else None
        code = given.text()
        if code not in self.buildings:
            raise given.error(f"no building '{code}' in buildings ({', '.join(self.buildings)})")
        return self.buildings[code]

    @staticmethod
    def persons(item: Item, opened_on: date) -> tuple[Registration, ...]:
        """`persons: 3` (person-1 … person-3) or a list of names, registered all along."""
        if item.is_sequence:
            names = [entry.text() for entry in item.items()]
        else:
            names = [f"person-{index}" for index in range(1, item.integer(0) + 1)]
        return tuple(Registration(name, opened_on) for name in names)

    def registration(self, item: Item) -> Registration:
        fields = item.fields("person", "from", "to", "kind")
        start, end = self.dates(fields)
        return Registration(
            person=fields.require("person").text(),
            effective_from=start,
            effective_to=end,
            kind=fields.read(
                "kind", _choice(RegistrationKind, "a registration kind"), RegistrationKind.PERMANENT
            ),
        )

    def connected(self, item: Item) -> ConnectedService:
        if not item.is_mapping:
            return ConnectedService(self.service_code(item), self.provider(None, item), date.min)
        fields = item.fields("service", "provider", "from", "to", "group")
        start, end = self.dates(fields)
        return ConnectedService(
            service=self.service_code(fields.require("service")),
            provider=self.provider(fields.get("provider"), item),
            effective_from=start,
            effective_to=end,
            tariff_group=fields.read("group", Item.text, ""),
        )

    def absence(self, item: Item, people: set[str]) -> Absence:
        fields = item.fields("person", "departure", "arrival", "filed_on")
        person = fields.require("person")
        if person.text() not in people:
            known = ", ".join(sorted(people)) or "nobody is registered"
            raise person.error(f"'{person.text()}' is not registered on the account ({known})")
        departure = fields.require("departure").day()
        arrival = fields.require("arrival").day()
        if arrival <= departure:
            raise fields.require("arrival").error("the arrival must be after the departure")
        return Absence(person.text(), departure, arrival, fields.read("filed_on", Item.day, None))

    def benefit(self, item: Item) -> BenefitGrant:
        fields = item.fields("person", "category", "rate", "services", "from", "to")
        start, end = self.dates(fields)
        return BenefitGrant(
            person=fields.require("person").text(),
            category=fields.read("category", Item.text, ""),
            rate=fields.require("rate").decimal(),
            services=tuple(self.service_code(e) for e in fields.require("services").listed()),
            effective_from=start,
            effective_to=end,
        )

    def interruption(self, item: Item) -> Interruption:
        fields = item.fields("service", "start", "end", "planned_shutdown", "accident_dead_end")
        start = fields.require("start").moment()
        end = fields.require("end").moment()
        if end <= start:
            raise fields.require("end").error("the end must be after the start")
        return Interruption(
            service=self.service_code(fields.require("service")),
            start=start,
            end=end,
            planned_shutdown=fields.read("planned_shutdown", Item.boolean, False),
            accident_dead_end=fields.read("accident_dead_end", Item.boolean, False),
        )

    @staticmethod
    def access_refusal(item: Item) -> AccessRefusal:
        fields = item.fields("resource", "recorded_on")
        return AccessRefusal(
            fields.require("resource").choice(Resource, "a resource"),
            fields.require("recorded_on").day(),
        )

    def account_payment(self, item: Item) -> AccountPayment:
        fields = item.fields("date", "amount", "provider")
        return AccountPayment(
            paid_on=fields.require("date").day(),
            amount=fields.require("amount").decimal(),
            provider=self.provider(fields.get("provider"), item),
        )

    # --- meters and readings ---------------------------------------------------------------

    def meters(self, item: Item) -> tuple[tuple[Meter, ...], tuple[Reading, ...]]:
        meters: list[Meter] = []
        readings: list[Reading] = []
        for serial, _key, value in item.entries():
            fields = value.fields(*METER_KEYS)
            meter = Meter(
                serial=serial,
                resource=fields.require("resource").choice(Resource, "a resource"),
                installed_on=fields.read("installed_on", Item.day, date.min),
                zones=fields.read("zones", self.meter_zones, (Zone.TOTAL,)),
                kind=fields.read("kind", _choice(MeterKind, "a meter kind"), MeterKind.INDIVIDUAL),
                integer_digits=fields.read("integer_digits", lambda i: i.integer(1, 15), 5),
                fraction_digits=fields.read("fraction_digits", lambda i: i.integer(0, 6), 3),
                transform_ratio=fields.read("transform_ratio", Item.decimal, Decimal(1)),
                removed_on=fields.read("removed_on", Item.day, None),
                verification_due=fields.read("verification_due", Item.day, None),
                status=fields.read(
                    "status", _choice(MeterStatus, "a meter status"), MeterStatus.ACTIVE
                ),
                failed_on=fields.read("failed_on", Item.day, None),
            )
            meters.append(meter)
            given = fields.get("readings")
            if given is not None:
                readings.extend(self.readings(given, meter))
        return tuple(meters), tuple(readings)

    @staticmethod
    def meter_zones(item: Item) -> tuple[Zone, ...]:
        if item.is_sequence:
            zones = tuple(entry.choice(Zone, "a zone") for entry in item.items())
            if not zones or len(set(zones)) != len(zones):
                raise item.error("list each zone of the meter once")
            return zones
        count = item.integer(1, 3)
        return ZONES_BY_COUNT[count]

    def readings(self, item: Item, meter: Meter) -> tuple[Reading, ...]:
        """`{date: value}` / `{date: {zone: value}}`, or a list of `{date, value | zones, kind}`."""
        found: list[Reading] = []
        if item.is_mapping:
            for _text, key, value in item.entries():
                day = key.day()
                found.extend(
                    Reading(meter.serial, zone, day, amount, ReadingKind.ACTUAL)
                    for zone, amount in self.register_values(value, meter)
                )
            return tuple(found)
        for entry in item.items():
            fields = entry.fields("date", "value", "kind", *_ZONE_NAMES)
            day = fields.require("date").day()
            kind = fields.read("kind", _choice(ReadingKind, "a reading kind"), ReadingKind.ACTUAL)
            given = fields.get("value")
            if given is not None:
                if any(fields.get(zone) is not None for zone in _ZONE_NAMES):
                    raise entry.error("give either 'value' or the zones' values, not both")
                values = self.register_values(given, meter)
            else:
                zoned = [(zone, fields.get(zone)) for zone in _ZONE_NAMES]
                values = [
                    (self.meter_zone(Zone(zone), meter, value), value.decimal())
                    for zone, value in zoned
                    if value is not None
                ]
                if not values:
                    raise entry.error("a reading needs a 'value' (or one value per zone)")
            found.extend(Reading(meter.serial, zone, day, amount, kind) for zone, amount in values)
        return tuple(found)

    def register_values(self, item: Item, meter: Meter) -> list[tuple[Zone, Decimal]]:
        if item.is_mapping:
            return [
                (self.meter_zone(key.choice(Zone, "a zone"), meter, key), value.decimal())
                for _text, key, value in item.entries()
            ]
        if meter.zones != (Zone.TOTAL,):
            zones = ", ".join(zone.value for zone in meter.zones)
            raise item.error(f"the meter has zones ({zones}): give one value per zone")
        return [(Zone.TOTAL, item.decimal())]

    @staticmethod
    def meter_zone(zone: Zone, meter: Meter, item: Item) -> Zone:
        if zone not in meter.zones:
            zones = ", ".join(z.value for z in meter.zones)
            raise item.error(f"the meter {meter.serial} has no zone '{zone.value}' ({zones})")
        return zone

    # --- periods and expectations ----------------------------------------------------------

    def period_list(self, item: Item) -> tuple[Period, ...]:
        """`2025-07`, `2025-06..2025-08` or a list of periods, in order."""
        if item.is_sequence:
            periods = [entry.period() for entry in item.items()]
        else:
            first_text, dots, last_text = item.text().partition("..")
            first = _period_text(item, first_text)
            last = _period_text(item, last_text) if dots else first
            if last < first:
                raise item.error(f"the range ends ({last}) before it starts ({first})")
            periods = [first]
            while periods[-1] < last:
                periods.append(periods[-1].next())
        for earlier, later in pairwise(periods):
            if later <= earlier:
                raise item.error(f"list the periods once each, in order ({later} after {earlier})")
        return tuple(periods)

    def expectations(self, item: Item) -> dict[tuple[Period, str], AccountExpectation]:
        found = {}
        for _text, key, by_account in item.entries():
            period = key.period()
            if period not in self.periods:
                raise key.error(f"{period} is not computed: add it to 'periods'")
            for number, account_key, value in by_account.entries():
                if number not in self.accounts:
                    raise account_key.error(
                        f"no account '{number}' in accounts ({', '.join(self.accounts)})"
                    )
                found[(period, number)] = self.account_expectation(period, number, value)
        return found

    def account_expectation(self, period: Period, number: str, item: Item) -> AccountExpectation:
        fields = item.fields("lines", "total", "balance", "issues")
        balance: Decimal | None = None
        balances: dict[str, Decimal] | None = None
        given = fields.get("balance")
        if given is not None and given.is_mapping:
            balances = self.amounts_by_provider(given)
        elif given is not None:
            balance = given.decimal()
        return AccountExpectation(
            where=item.where,
            period=period,
            account=number,
            lines=fields.read("lines", lambda i: _sequence(i, self.expected_line), None),
            total=fields.read("total", Item.decimal, None),
            balance=balance,
            balances=balances,
            issues=fields.read("issues", lambda i: _sequence(i, self.expected_issue), ()),
            places={
                key: value.where
                for key in ("total", "balance")
                if (value := fields.get(key)) is not None
            },
        )

    def expected_line(self, item: Item) -> ExpectedLine:
        fields = item.fields(*LINE_KEYS)
        zone = fields.read("zone", _choice(Zone, "a zone"), None)
        explanation: dict[str, str] = {}
        given = fields.get("explanation")
        if given is not None and given.is_mapping:
            for language, key, text in given.entries():
                key.choice(Language, "a language")
                explanation[language] = text.text()
        elif given is not None:
            explanation[self.language.value] = given.text()
        return ExpectedLine(
            where=item.where,
            service=self.service_code(fields.require("service")),
            kind=fields.read("kind", _choice(LineKind, "a line kind"), LineKind.CHARGE),
            amount=fields.require("amount").decimal(),
            quantity=fields.read("quantity", Item.decimal, None),
            tariff=fields.read("tariff", Item.decimal, None),
            unit=fields.read("unit", _choice(Unit, "a unit"), None),
            zone="" if zone is None or zone is Zone.TOTAL else zone.value,
            tier=fields.read("tier", lambda i: i.integer(0), 0),
            rule=fields.read("rule", _choice(Rule, "a rule"), None),
            provider=fields.read("provider", lambda i: self.provider(i, i), None),
            first_day=fields.read("first_day", Item.day, None),
            last_day=fields.read("last_day", Item.day, None),
            explanation=explanation,
        )

    @staticmethod
    def expected_issue(item: Item) -> ExpectedIssue:
        if not item.is_mapping:
            return ExpectedIssue(item.where, item.text())
        fields = item.fields("code", "severity", "meter", "service")
        return ExpectedIssue(
            where=item.where,
            code=fields.require("code").text(),
            severity=fields.read("severity", Item.text, None),
            meter=fields.read("meter", Item.text, None),
            service=fields.read("service", Item.text, None),
        )

    # --- penalties ---------------------------------------------------------------------------

    def penalty_case(self, item: Item) -> PenaltyCase:
        fields = item.fields(
            "title", "scheme", "key_rates", "obligation", "payments", "calc_date", "expect"
        )
        calc_date = fields.require("calc_date").day()
        preset = fields.read("scheme", _choice(penalties.Preset, "a penalty scheme"), "housing_rf")
        key_rates = fields.read("key_rates", self.key_rates, KeyRates())
        # the configuration was checked when it was read
        rules = penalties.rules_from_parameters(
            preset, key_rates, overrides_on(self.config_rows, calc_date)
        )
        obligation = self.obligation(fields.require("obligation"))
        payments = fields.read("payments", lambda i: _sequence(i, self.penalty_payment), ())
        expect = fields.require("expect").fields("delay_days", "rows", "total", "issues")
        return PenaltyCase(
            where=item.where,
            title=fields.read("title", Item.text, f"penalty for {obligation.period}"),
            obligation=obligation,
            payments=payments,
            calc_date=calc_date,
            rules=rules,
            delay_days=expect.read("delay_days", self.delay_days, {}),
            rows=expect.read("rows", lambda i: _sequence(i, self.penalty_row), None),
            total=expect.read("total", Item.decimal, None),
            issues=expect.read("issues", lambda i: _sequence(i, self.expected_issue), ()),
        )

    @staticmethod
    def key_rates(item: Item) -> KeyRates:
        steps = sorted(
            ((key.day(), value.decimal()) for _text, key, value in item.entries()),
            key=lambda step: step[0],
        )
        try:
            return KeyRates(tuple(steps))
        except (TypeError, ValueError) as error:
            raise item.error(str(error)) from None

    def obligation(self, item: Item) -> penalties.Obligation:
        fields = item.fields("period", "principal", "due_on", "arises_on", "service")
        period = fields.require("period").period()
        return penalties.Obligation(
            period=period,
            principal=fields.require("principal").decimal(),
            due_on=fields.read("due_on", Item.day, None) or self.due_date(period),
            arises_on=fields.read("arises_on", Item.day, None),
            service=fields.read("service", Item.text, ""),
        )

    @staticmethod
    def penalty_payment(item: Item) -> penalties.Payment:
        fields = item.fields("date", "amount")
        return penalties.Payment(fields.require("date").day(), fields.require("amount").decimal())

    @staticmethod
    def delay_days(item: Item) -> dict[int, tuple[Where, date]]:
        return {key.integer(): (value.where, value.day()) for _text, key, value in item.entries()}

    @staticmethod
    def penalty_row(item: Item) -> ExpectedPenaltyRow:
        fields = item.fields(
            "first_day", "last_day", "base", "days", "fraction", "rate", "amount", "moratorium"
        )
        return ExpectedPenaltyRow(
            where=item.where,
            first_day=fields.read("first_day", Item.day, None),
            last_day=fields.read("last_day", Item.day, None),
            base=fields.read("base", Item.decimal, None),
            days=fields.read("days", lambda i: i.integer(0), None),
            fraction=fields.read("fraction", lambda i: i.text().strip(), None),
            rate=fields.read("rate", Item.decimal, None),
            amount=fields.read("amount", Item.decimal, None),
            moratorium=fields.read("moratorium", Item.boolean, None),
        )

    # --- payment allocation ------------------------------------------------------------------

    def allocation_case(self, item: Item) -> AllocationCase:
        fields = item.fields("title", "provider", "debts", "payment", "expect")
        provider = self.provider(fields.get("provider"), item)
        obligations = self.debts(fields.require("debts"), provider)
        payment = self.allocation_payment(fields.require("payment"))
        config = self.config_at(payment.paid_on)
        services = list(self.services)
        services += [o.service for o in obligations if o.service not in services]
        expect = fields.require("expect").fields(
            "allocated", "remaining", "advance", "penalties_paid", "issues"
        )
        advance = expect.get("advance")
        return AllocationCase(
            where=item.where,
            title=fields.read("title", Item.text, f"payment of {payment.amount}"),
            payment=payment,
            obligations=obligations,
            due_dates={o.period: self.due_date(o.period) for o in obligations},
            service_order=tuple(dict.fromkeys(services)),
            config=allocation.AllocationConfig(
                allocation.SplitBasis(config.partial_split_basis), config.allocate_time_barred
            ),
            allocated=expect.read("allocated", self.by_period_and_service, None),
            remaining=expect.read("remaining", self.by_period_and_service, None),
            advance=None
            if advance is None or advance.is_mapping
            else (advance.where, advance.decimal()),
            advances=None
            if advance is None or not advance.is_mapping
            else {
                self.provider(key, key): (value.where, value.decimal())
                for _text, key, value in advance.entries()
            },
            penalties_paid=expect.read("penalties_paid", lambda i: (i.where, i.decimal()), None),
            issues=expect.read("issues", lambda i: _sequence(i, self.expected_issue), ()),
        )

    def debts(self, item: Item, provider: str) -> tuple[allocation.Obligation, ...]:
        """`{period: {service: amount}}` (billed = unpaid), or a list of
        `{period, service, billed, unpaid, provider, kind}`."""
        found: dict[allocation.Key, allocation.Obligation] = {}

        def add(where: Item, *debt: Any) -> None:
            try:
                obligation = allocation.Obligation(*debt)
            except ValueError as error:
                raise where.error(str(error)) from None
            if obligation.key in found:
                raise where.error("this debt is given twice")
            found[obligation.key] = obligation

        principal = allocation.Kind.PRINCIPAL
        if item.is_mapping:
            for _text, key, services in item.entries():
                period = key.period()
                for code, code_item, amount in services.entries():
                    value = amount.decimal()
                    add(code_item, provider, code, period, principal, value, value)
            return tuple(found.values())
        for entry in item.items():
            fields = entry.fields("period", "service", "billed", "unpaid", "provider", "kind")
            billed = fields.require("billed").decimal()
            add(
                entry,
                fields.read("provider", lambda i: self.provider(i, i), provider),
                fields.require("service").text(),
                fields.require("period").period(),
                fields.read("kind", _choice(allocation.Kind, "a debt kind"), principal),
                billed,
                fields.read("unpaid", Item.decimal, billed),
            )
        return tuple(found.values())

    def allocation_payment(self, item: Item) -> allocation.Payment:
        fields = item.fields("date", "amount", "period", "provider", "penalty_designated", "split")
        amount = fields.require("amount")
        if amount.decimal() <= 0:
            raise amount.error("a payment is a positive amount")
        return allocation.Payment(
            amount=amount.decimal(),
            paid_on=fields.require("date").day(),
            provider=fields.read("provider", lambda i: self.provider(i, i), None),
            period=fields.read("period", Item.period, None),
            split=fields.read("split", lambda i: _sequence(i, self.split_line), ()),
            penalty_designated=fields.read("penalty_designated", Item.boolean, False),
        )

    def split_line(self, item: Item) -> allocation.SplitLine:
        fields = item.fields("service", "amount", "provider")
        return allocation.SplitLine(
            provider=self.provider(fields.get("provider"), item),
            service=fields.require("service").text(),
            amount=fields.require("amount").decimal(),
        )

    @staticmethod
    def by_period_and_service(item: Item) -> dict[AllocationKey, tuple[Where, Decimal]]:
        found = {}
        for _text, key, services in item.entries():
            period = key.period()
            for code, _key, amount in services.entries():
                found[(period, code, allocation.Kind.PRINCIPAL)] = (amount.where, amount.decimal())
        return found

    # --- QR codes and statements -----------------------------------------------------------

    def qr_case(self, item: Item) -> QrCase:
        fields = item.fields("title", "provider", *QR_KEYS, "expect", "must_reject")
        payee = self.providers[self.provider(fields.get("provider"), item)].payee
        given = self.qr_input(QrInput(payee), fields)
        expect = fields.read(
            "expect", lambda i: i.fields("payload", "length_chars", "length_utf8_bytes"), None
        )

        def figure(key: str, read: Callable[[Item], T]) -> tuple[Where, T] | None:
            value = None if expect is None else expect.get(key)
            return None if value is None else (value.where, read(value))

        return QrCase(
            where=item.where,
            title=fields.read("title", Item.text, "payment QR code"),
            given=given,
            payload=figure("payload", Item.text),
            length_chars=figure("length_chars", lambda i: i.integer(0)),
            length_bytes=figure("length_utf8_bytes", lambda i: i.integer(0)),
            rejections=fields.read(
                "must_reject", lambda i: _sequence(i, lambda e: self.qr_rejection(e, given)), ()
            ),
        )

    def qr_input(self, base: QrInput, fields: Fields) -> QrInput:
        changes: dict[str, Any] = {}
        payee = {key: fields.read(key, Item.text, "") for key in PROVIDER_KEYS}
        payee = {key: value for key, value in payee.items() if value}
        if payee:
            changes["payee"] = replace(base.payee, **payee)
        readers: dict[str, tuple[str, Callable[[Item], Any]]] = {
            "account": ("payer_account", Item.text),
            "amount": ("amount", Item.decimal),
            "purpose": ("purpose", Item.text),
            "period": ("period", Item.period),
            "tech_code": ("tech_code", Item.text),
            "encoding": ("encoding", Item.text),
        }
        for key, (name, read) in readers.items():
            value = fields.get(key)
            if value is not None:
                changes[name] = read(value)
        return replace(base, **changes)

    def qr_rejection(self, item: Item, base: QrInput) -> QrRejection:
        fields = item.fields("change", "error")
        change = fields.require("change").fields(*PROVIDER_KEYS, *QR_KEYS)
        return QrRejection(item.where, self.qr_input(base, change), fields.require("error").text())

    def statement_case(self, item: Item) -> StatementCase:
        fields = item.fields(
            "title", "account", "first_day", "last_day", "opening_balance", "entries", "expect"
        )
        first_day = fields.require("first_day").day()
        last_day = fields.require("last_day").day()
        if last_day < first_day:
            raise fields.require("last_day").error("the act ends before it starts")
        expect = fields.require("expect").fields("act", "turnover_row")
        figures: dict[str, tuple[Where, Decimal]] = {}
        for group, names in (("act", ACT_FIGURES), ("turnover_row", ROW_FIGURES)):
            given = expect.get(group)
            if given is not None:
                values = given.fields(*names)
                for name in names:
                    value = values.get(name)
                    if value is not None:
                        figures[f"{group}.{name}"] = (value.where, value.decimal())
        return StatementCase(
            where=item.where,
            title=fields.read("title", Item.text, "reconciliation act"),
            account=fields.require("account").text(),
            first_day=first_day,
            last_day=last_day,
            opening=fields.read("opening_balance", Item.decimal, Decimal(0)),
            entries=_sequence(fields.require("entries"), self.entry),
            figures=figures,
        )

    @staticmethod
    def entry(item: Item) -> Entry:
        fields = item.fields("date", "document", "kind", "debit", "credit", "reverses")
        fields.one_of("debit", "credit")
        debit, credit = fields.get("debit"), fields.get("credit")
        if debit is not None:
            amount = debit.decimal()
        elif credit is not None:
            amount = credit.decimal().copy_negate()
        else:
            raise item.error("an entry needs a 'debit' or a 'credit' amount")
        try:
            return Entry(
                day=fields.require("date").day(),
                document=fields.read("document", Item.text, ""),
                kind=fields.require("kind").choice(EntryKind, "a ledger kind"),
                amount=amount,
                reverses=fields.read("reverses", _choice(EntryKind, "a ledger kind"), None),
            )
        except ValueError as error:
            raise item.error(str(error)) from None


def _period_text(item: Item, text: str) -> Period:
    try:
        return Period.parse(text.strip())
    except ValueError as error:
        raise item.error(str(error)) from None
