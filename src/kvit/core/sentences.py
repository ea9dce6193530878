"""The sentences of the building- and person-related rules (spec 2.8, 2.9, 2.14–2.16), in
Russian and English; `explain.render` calls them with its sentence builder. Each names the
rule and the inputs it used, from the line's explanation values only:

«Электроэнергия СОИ: дом 12 500 − 10 870 − 830 = 800 кВт·ч; 800 кВт·ч × 54,30 м² /
4 250,60 м² = 10,220 кВт·ч, не более норматива 447,052 кВт·ч × 54,30 м² / 4 250,60 м² =
5,711 кВт·ч = 5,711 кВт·ч × 6,43 ₽ = 36,72 ₽»
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from kvit.core.codes import Resource, Unit

if TYPE_CHECKING:
    from kvit.core.explain import _Sentence

RU, EN = "ru", "en"

WORDS: dict[str, dict[str, str]] = {
    RU: {
        "house": "дом",
        "house_norm": "дом по нормативу",
        "carried": "перенос",
        "negative": "меньше нуля, к оплате 0",
        "cap": "не более норматива",
        "house_meter": "ОДПУ",
        "absence": "временное отсутствие с {} по {} (полных дней: {})",
        "absence_short": "временное отсутствие",
        "household_norm": "норматив по числу проживающих",
        "persons": "{} чел.",
        "person_days": "{} чел.-дн.",
        "beneficiary_days": "{} дн. льготы",
        "quality": "снижение платы за перерывы",
        "quality_body": "перерывы {} при допустимых {} ч → превышение {} ч × {} % × {} = {}",
        "capped": "не более платы за период",
        "hours": "{} ч {:02d} мин",
        "benefit": "льгота «{}» {} %",
        "social": "{} на {}",
        "base": "база",
        "segment": "доля периода",
    },
    EN: {
        "house": "house",
        "house_norm": "house by norm",
        "carried": "carried",
        "negative": "below zero, 0 to pay",
        "cap": "capped at the norm",
        "house_meter": "house meter",
        "absence": "temporary absence from {} to {} ({} full days)",
        "absence_short": "temporary absence",
        "household_norm": "norm by household size",
        "persons": "{} persons",
        "person_days": "{} person-days",
        "beneficiary_days": "{} benefit days",
        "quality": "reduction for interruptions",
        "quality_body": "interruptions {}, {} h allowed → {} h over × {} % × {} = {}",
        "capped": "at most the period's charge",
        "hours": "{} h {:02d} min",
        "benefit": "benefit “{}” {} %",
        "social": "{} for {}",
        "base": "base",
        "segment": "share for the period",
    },
}


def _word(s: _Sentence, key: str) -> str:
    return WORDS[s.lang][key]


def _m2(s: _Sentence, value: object) -> str:
    assert isinstance(value, Decimal)
    return f"{s.num(value, 2)} {_units(s)}"


def _units(s: _Sentence) -> str:
    return "м²" if s.lang == RU else "m²"


def _premise(s: _Sentence) -> str:
    values = s.values
    text = _m2(s, values["area"])
    if "share" in values:
        text += f" × {values['share']}"
    return text


def _vol(s: _Sentence, key: str) -> str:
    """A derived volume at the unit's scale."""
    return f"{s.qty(s.values[key])} {s.unit}"


def _given(s: _Sentence, key: str) -> str:
    """A volume as it was given (a house meter, a house balance): its own digits."""
    return f"{s.num(s.values[key])} {s.unit}"


def _tariffed(s: _Sentence, expression: str) -> str:
    """`… × T = P` when the expression ends with the line's quantity, else `… = V × T = P`."""
    values = s.values
    if "days" in values or "volume" in values:
        return s.priced(expression)
    return f"{expression} × {s.money_tariff()} = {s.money(s.line.amount)}"


def _split(s: _Sentence, expression: str) -> str:
    """How a tariff segment's piece was taken from the whole volume (2.13)."""
    values = s.values
    if "volume" not in values:
        return expression
    whole = f"{expression} = {_vol(s, 'volume')}; "
    if "others" in values:
        return f"{whole}{s.qty(values['volume'])} − {s.qty(values['others'])}"
    return f"{whole}{s.qty(values['volume'])} × {values['segment_days']}/{values['whole_days']}"


def _days(s: _Sentence) -> str:
    values = s.values
    return f" × {values['days']}/{values['period_days']}" if "days" in values else ""


def common_house(s: _Sentence) -> str:
    """2.8: the house volume, the premise's share, the cap."""
    values = s.values
    total = _m2(s, values["total_area"])
    if "house_meter" in values:
        parts = [s.num(values[key]) for key in ("house_meter", "individual", "nonresidential")]
        house = " − ".join(parts)
        if "carried" in values:
            house += f" + ({s.num(values['carried'])}, {_word(s, 'carried')})"
        house = f"{_word(s, 'house')}: {house} = {_given(s, 'house_volume')}"
    elif "norm" in values:
        house = (
            f"{_word(s, 'house')}: {s.num(values['norm'])} {s.unit}/{_units(s)} × "
            f"{_m2(s, values['common_area'])} = {_given(s, 'house_volume')}"
        )
    else:
        house = f"{_word(s, 'house_norm')}: {_given(s, 'house_volume')}"
    house_volume = values["house_volume"]
    assert isinstance(house_volume, Decimal)
    if house_volume < 0:
        expression = f"{house}, {_word(s, 'negative')}"
        return f": {s.priced(_split(s, expression + _days(s)))}{s.notes()}"
    share = f"{_given(s, 'house_volume')} × {_premise(s)} / {total} = {_vol(s, 'share_volume')}"
    if "cap" in values:
        share += (
            f", {_word(s, 'cap')} {_given(s, 'norm_volume')} × {_premise(s)} / {total} = "
            f"{_vol(s, 'cap')}"
        )
    expression = _split(s, f"{house}; {share}{_days(s)}")
    return f": {_tariffed(s, expression)}{s.notes()}"


def heating_by_house_meter(s: _Sentence) -> str:
    """2.9 with a house heat meter: the meter's volume shared by area."""
    values = s.values
    expression = (
        f"{_word(s, 'house_meter')} {_given(s, 'house_meter')} × {_premise(s)} / "
        f"{_m2(s, values['total_area'])} = {_vol(s, 'share_volume')}{_days(s)}"
    )
    return f": {_tariffed(s, _split(s, expression))}{s.notes()}"


def absence(s: _Sentence) -> str:
    """2.14: the absent persons' norm over the absent days."""
    values = s.values
    if "departure" in values:
        departure, arrival = values["departure"], values["arrival"]
        assert not isinstance(departure, Decimal | int | str | None)
        assert not isinstance(arrival, Decimal | int | str | None)
        what = _word(s, "absence").format(
            departure.strftime("%d.%m.%Y"), arrival.strftime("%d.%m.%Y"), values["full_days"]
        )
    else:
        what = _word(s, "absence_short")
    persons = _word(s, "persons").format(values["persons"])
    summed = [s.qty(values[r.value]) for r in Resource if r.value in values]
    if summed:
        expression = " + ".join(summed)
        if "volume" in values:
            expression = f"({expression}) = {_vol(s, 'volume')}, {_word(s, 'segment')}"
    elif "norm" in values:
        expression = f"{s.num(values['norm'])} {s.unit} × {persons}{_days(s)}"
    else:
        expression = f"{_word(s, 'household_norm')}, {persons}{_days(s)}"
    return f", {what}: {s.priced(expression)}{s.notes()}"


def quality_reduction(s: _Sentence) -> str:
    """2.15: the hours above the allowed total × the percentage × the period's charge."""
    values = s.values
    minutes = values["minutes"]
    assert isinstance(minutes, int)
    hours = _word(s, "hours").format(minutes // 60, minutes % 60)
    amount = s.line.amount
    body = _word(s, "quality_body").format(
        hours,
        values["allowed"],
        values["excess_hours"],
        s.num(values["percent"]),
        s.money(values["charge"]),
        s.money(amount),
    )
    capped = _word(s, "capped") if -amount == values["charge"] else ""
    return f", {_word(s, 'quality')}: {body}{s.notes(capped)}"


def benefit(s: _Sentence) -> str:
    """2.16: the base (area within the social norm, or volume within the norm) × rate."""
    values = s.values
    rate = values["rate"]
    assert isinstance(rate, Decimal)
    title = _word(s, "benefit").format(values["category"], s.num(rate * 100))
    tail = f"{s.money(values['base_charge'])} × {s.num(rate * 100)} % = {s.money(s.line.amount)}"
    if "base_area" in values:
        social = _word(s, "social").format(
            _m2(s, values["social_area"]), _word(s, "persons").format(values["persons"])
        )
        base = (
            f"min({_premise(s)}, {social}) × {values['beneficiaries']}/{values['persons']} "
            f"= {_m2(s, values['base_area'])}"
        )
        if s.line.unit is not Unit.M2:
            base += f" = {s.qty(s.line.quantity)} {s.unit}"
    elif "base_volume" in values:
        base = f"min({_vol(s, 'volume')} / {_people(s)}, {_norm(s)}) × {_beneficiaries(s)}"
        base += f" = {_vol(s, 'base_volume')}"
    else:
        base = _word(s, "base")
    return f", {title}: {base} → {tail}{s.notes()}"


def _people(s: _Sentence) -> str:
    values = s.values
    if "persons" in values:
        return _word(s, "persons").format(values["persons"])
    return _word(s, "person_days").format(values["person_days"])


def _beneficiaries(s: _Sentence) -> str:
    values = s.values
    if "beneficiaries" in values:
        return str(values["beneficiaries"])
    return _word(s, "beneficiary_days").format(values["beneficiary_days"])


def _norm(s: _Sentence) -> str:
    values = s.values
    norm = f"{s.num(values['norm'])} {s.unit}" if "norm" in values else _word(s, "household_norm")
    if "person_days" in values:
        return f"{norm} / {values['period_days']}"
    return f"{norm}{_days(s)}"
