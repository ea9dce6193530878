"""A charge line's explanation as one readable sentence, in Russian or English.

«Холодная вода: 352,870 − 345,120 = 7,750 м³ × 48,95 ₽ = 379,36 ₽ (показание от 25.07.2025)»
"Cold water: 352.870 − 345.120 = 7.750 m³ × 48.95 RUB = 379.36 RUB (reading of 25.07.2025)"

Russian uses a decimal comma and a no-break space between thousands, English a point and a
comma. Quantities keep their scale (3 decimals for m³ and kWh, 6 for Gcal), readings the
meter's own decimals, money 2 decimals, tariffs and norms their published digits. The
service is named by the tenant's name in Russian and by a standard English name for the
usual codes in English (falling back to the tenant's name). Only formatting happens here:
every number comes from the line and its explanation.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from kvit.core import estimate_sentences, sentences
from kvit.core.codes import Resource, Rule, Unit
from kvit.core.context import period_span
from kvit.core.issues import Value
from kvit.core.lines import ChargeLine, RegisterVolume

NBSP = "\u00a0"
RU, EN = "ru", "en"

SERVICE_NAMES: dict[str, dict[str, str]] = {
    "cold_water": {RU: "Холодная вода", EN: "Cold water"},
    "hot_water": {RU: "Горячая вода", EN: "Hot water"},
    "sewerage": {RU: "Водоотведение", EN: "Sewerage"},
    "electricity": {RU: "Электроэнергия", EN: "Electricity"},
    "heating": {RU: "Отопление", EN: "Heating"},
    "gas": {RU: "Газ", EN: "Gas"},
    "maintenance": {RU: "Содержание жилого помещения", EN: "Maintenance"},
    "current_repair": {RU: "Текущий ремонт", EN: "Current repair"},
    "capital_repair": {RU: "Взнос на капитальный ремонт", EN: "Capital repair contribution"},
    "solid_waste": {RU: "Обращение с ТКО", EN: "Solid waste"},
    "intercom": {RU: "Домофон", EN: "Intercom"},
}

_UNITS = {
    RU: {
        Unit.M3: "м³",
        Unit.KWH: "кВт·ч",
        Unit.GCAL: "Гкал",
        Unit.M2: "м²",
        Unit.PERSON: "чел.",
        Unit.ACCOUNT: "л/с",
    },
    EN: {
        Unit.M3: "m³",
        Unit.KWH: "kWh",
        Unit.GCAL: "Gcal",
        Unit.M2: "m²",
        Unit.PERSON: "person",
        Unit.ACCOUNT: "account",
    },
}
_CURRENCIES = {RU: {"RUB": "₽", "UZS": "сум"}, EN: {}}
_SCALES = {Unit.M3: 3, Unit.KWH: 3, Unit.GCAL: 6}

_WORDS = {
    RU: {
        "reading": "показание от {}",
        "readings": "показания от {}",
        "span": "за {}–{}",
        "zone": {
            "total": "",
            "day": "день",
            "night": "ночь",
            "peak": "пик",
            "semipeak": "полупик",
        },
        "tier": "ступень {}",
        "above": "свыше {}",
        "of": "{} из {}",
        "zone_share": "доля зоны по ступеням",
        "zone_rest": "остаток зоны после других ступеней",
        "persons": "{} чел.",
        "person_days": "{} чел.-дн. / {}",
        "household_norm": "норматив по числу проживающих",
        "owners": "по числу собственников",
        "coefficient": "повышающий коэффициент",
        "share_of": "доля периода",
        "corrects": "перерасчёт за {}",
    },
    EN: {
        "reading": "reading of {}",
        "readings": "readings of {}",
        "span": "for {}–{}",
        "zone": {
            "total": "",
            "day": "day",
            "night": "night",
            "peak": "peak",
            "semipeak": "semi-peak",
        },
        "tier": "tier {}",
        "above": "above {}",
        "of": "{} of {}",
        "zone_share": "the zone's share by tiers",
        "zone_rest": "the zone's rest after the other tiers",
        "persons": "{} persons",
        "person_days": "{} person-days / {}",
        "household_norm": "norm by household size",
        "owners": "by the number of owners",
        "coefficient": "increasing coefficient",
        "share_of": "share for the period",
        "corrects": "recalculation for {}",
    },
}


def trim(value: Decimal, places: int) -> Decimal:
    """`value` with at least `places` decimals and no trailing zeros beyond them."""
    short = value.normalize()
    exponent = short.as_tuple().exponent
    assert isinstance(exponent, int)  # values here are finite
    if exponent > -places:
        return short.quantize(Decimal(1).scaleb(-places))
    return short


def number(value: Decimal, language: str, places: int = 0) -> str:
    """The number as the language writes it, with at least `places` decimals."""
    text = f"{trim(value, places):,f}"
    if language == RU:
        return text.replace(",", NBSP).replace(".", ",").replace("-", "−")
    return text


def render(line: ChargeLine, language: str = RU, currency: str = "RUB") -> str:
    """One sentence saying how `line.amount` came about."""
    lang = language if language in _WORDS else EN
    return _Sentence(line, lang, currency).text()


class _Sentence:
    __slots__ = ("cur", "lang", "line", "unit", "values", "words")

    def __init__(self, line: ChargeLine, lang: str, currency: str) -> None:
        self.line = line
        self.lang = lang
        self.words = _WORDS[lang]
        self.values = line.explanation.values
        self.unit = _UNITS[lang][line.unit]
        self.cur = _CURRENCIES[lang].get(currency, currency)

    # --- pieces --------------------------------------------------------------------------

    def num(self, value: Value, places: int = 0) -> str:
        assert isinstance(value, Decimal | int)
        return number(Decimal(value), self.lang, places)

    def qty(self, value: Value) -> str:
        return self.num(value, _SCALES.get(self.line.unit, 2))

    def money(self, value: Value) -> str:
        return f"{self.num(value, 2)} {self.cur}"

    def word(self, key: str) -> str:
        text = self.words[key]
        assert isinstance(text, str)
        return text

    def label(self) -> str:
        line = self.line
        names = SERVICE_NAMES.get(line.service, {})
        tenant_name = line.explanation.service_name
        if self.lang == RU:
            name = tenant_name or names.get(RU) or line.service
        else:
            name = names.get(EN) or tenant_name or line.service
        if line.explanation.rule is Rule.BENEFIT:  # a benefit line's zone is the category
            return name
        zones = self.words["zone"]
        assert isinstance(zones, dict)
        zone = zones.get(line.zone, line.zone)
        return f"{name}, {zone}" if zone else name

    def priced(self, quantity_text: str) -> str:
        """`… = V unit × T = P`."""
        line = self.line
        return (
            f"{quantity_text} = {self.qty(line.quantity)} {self.unit} × "
            f"{self.money_tariff()} = {self.money(line.amount)}"
        )

    def money_tariff(self) -> str:
        return f"{self.num(self.line.tariff, 2)} {self.cur}"

    def days(self) -> str:
        values = self.values
        if "days" in values:
            return f" × {values['days']}/{values['period_days']}"
        return ""

    def split(self, expression: str) -> str:
        """The expression of a volume, and how this segment's share was taken from it."""
        values = self.values
        if "volume" not in values:
            return expression
        whole = f"{expression} = {self.qty(values['volume'])} {self.unit}; "
        if "others" in values:
            return f"{whole}{self.qty(values['volume'])} − {self.qty(values['others'])}"
        if "days" in values:
            return f"{whole}{self.qty(values['volume'])} × {values['days']}/{values['whole_days']}"
        return whole + self.word("share_of")

    def register(self, source: RegisterVolume, several: bool) -> str:
        def show(value: Decimal) -> str:
            return number(value, self.lang, source.fraction_digits)

        start, end = show(source.start.value), show(source.end.value)
        if source.rollovers == 1:
            text = f"{show(source.capacity)} − {start} + {end}"
        elif source.rollovers:
            text = f"{end} − {start} + {source.rollovers} × {show(source.capacity)}"
        else:
            text = f"{end} − {start}"
        if source.ratio != 1:
            return f"({text}) × {self.num(source.ratio)}"
        return f"({text})" if several else text

    def notes(self, *extra: str) -> str:
        line = self.line
        found = [text for text in extra if text]
        sources = line.explanation.sources
        if sources:
            ends = sorted({source.end.taken_on for source in sources})
            key = "reading" if len(ends) == 1 else "readings"
            found.append(self.word(key).format(", ".join(_date(day) for day in ends)))
        span = line.span
        if span != period_span(line.period):
            assert span.end is not None  # a line's span lies inside its period
            last = span.end - timedelta(days=1)
            found.append(self.word("span").format(_date(span.start), _date(last)))
        corrects = line.explanation.corrects
        if corrects is not None:
            found.append(self.word("corrects").format(corrects))
        reason = line.explanation.reason
        if reason:
            found.append(estimate_sentences.reason(self, reason))
        return f" ({'; '.join(found)})" if found else ""

    # --- sentences -----------------------------------------------------------------------

    def text(self) -> str:
        if "corrected_kind" in self.values:  # a correction of recompute and diff
            return f"{self.label()}{sentences.correction(self)}"
        rule = self.line.explanation.rule
        body = _BODIES[rule](self)
        return f"{self.label()}{body}"

    def metered(self) -> str:
        sources = self.line.explanation.sources
        several = len(sources) > 1
        expression = " + ".join(self.register(source, several) for source in sources)
        return f": {self.priced(self.split(expression))}{self.notes()}"

    def tier(self) -> str:
        values = self.values
        lower, upper = values["lower"], values["upper"]
        if upper is None:
            bounds = self.word("above").format(self.num(lower))
        else:
            bounds = f"{self.num(lower)}–{self.num(upper)}"
        tier = self.word("tier").format(values["tier"])
        line = self.line
        note = ""
        if "zone_volume" in values:  # a zone's share of the block (2.11 with zones)
            quantity = self.qty(line.quantity)
            if "block" in values:
                share = (
                    f"{self.qty(values['zone_volume'])} {self.unit} × "
                    f"{self.qty(values['block'])} / {self.qty(values['total'])} = {quantity}"
                )
                note = self.word("zone_share")
            else:
                others = values["zone_others"]
                assert isinstance(others, Decimal)
                subtrahend = f"({self.qty(others)})" if others < 0 else self.qty(others)
                share = f"{self.qty(values['zone_volume'])} − {subtrahend} = {quantity}"
                note = self.word("zone_rest")
        else:
            share = self.word("of").format(self.qty(line.quantity), self.qty(values["total"]))
        amount = f"{share} {self.unit} × {self.money_tariff()} = {self.money(line.amount)}"
        return f", {tier} ({bounds} {self.unit}): {amount}{self.notes(note)}"

    def sewerage(self) -> str:
        parts = [self.qty(self.values[r.value]) for r in Resource if r.value in self.values]
        return f": {self.priced(self.split(' + '.join(parts)))}{self.notes()}"

    def norm_per_person(self) -> str:
        values = self.values
        if "persons" in values:
            persons = self.word("persons").format(values["persons"])
        else:
            persons = self.word("person_days").format(values["person_days"], values["period_days"])
        if "norm" in values:
            expression = f"{self.num(values['norm'])} {self.unit} × {persons}"
        else:
            expression = f"{self.word('household_norm')}, {persons}"
        owners = self.word("owners") if "persons_from" in values else ""
        return f": {self.priced(expression)}{self.notes(owners)}"

    def norm_coefficient(self) -> str:
        line = self.line
        values = self.values
        coefficient = self.num(values["coefficient"])
        tiers = sorted(int(key[12:]) for key in values if key.startswith("tier_volume_"))
        if tiers:  # over the blocks of a tiered tariff (2.5 with 2.11)
            blocks = [
                f"{self.qty(values[f'tier_volume_{index}'])} {self.unit} × "
                f"{self.num(values[f'tier_tariff_{index}'], 2)} {self.cur}"
                for index in tiers
            ]
            base = " + ".join(blocks)
            if len(blocks) > 1:
                base = f"({base})"
        else:
            base = f"{self.qty(line.quantity)} {self.unit} × {self.money_tariff()}"
        return (
            f", {self.word('coefficient')}: {base} × ({coefficient} − 1) = "
            f"{self.money(line.amount)}{self.notes()}"
        )

    def area(self) -> str:
        values = self.values
        text = f"{self.num(values['area'], 2)} {_UNITS[self.lang][Unit.M2]}"
        if "share" in values:
            text += f" × {values['share']}"
        return text

    def norm_per_area(self) -> str:
        norm = f"{self.num(self.values['norm'])} {self.unit}/{_UNITS[self.lang][Unit.M2]}"
        return f": {self.priced(f'{norm} × {self.area()}{self.days()}')}{self.notes()}"

    def per_area(self) -> str:
        line = self.line
        return (
            f": {self.area()} × {self.money_tariff()}{self.days()} = {self.money(line.amount)}"
            f"{self.notes()}"
        )

    def fixed(self) -> str:
        line = self.line
        return f": {self.money_tariff()}{self.days()} = {self.money(line.amount)}{self.notes()}"


_BODIES = {
    Rule.METERED: _Sentence.metered,
    Rule.TIER: _Sentence.tier,
    Rule.SEWERAGE: _Sentence.sewerage,
    Rule.NORM_PER_PERSON: _Sentence.norm_per_person,
    Rule.NORM_COEFFICIENT: _Sentence.norm_coefficient,
    Rule.NORM_PER_AREA: _Sentence.norm_per_area,
    Rule.PER_AREA: _Sentence.per_area,
    Rule.FIXED: _Sentence.fixed,
    Rule.COMMON_HOUSE: sentences.common_house,
    Rule.HEATING_BY_HOUSE_METER: sentences.heating_by_house_meter,
    Rule.ABSENCE: sentences.absence,
    Rule.QUALITY_REDUCTION: sentences.quality_reduction,
    Rule.BENEFIT: sentences.benefit,
    Rule.PENALTY: sentences.penalty,
    Rule.AVERAGE: estimate_sentences.average,
    Rule.TRUE_UP: estimate_sentences.true_up,
}


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")
