"""The sentences of the building- and person-related rules (spec 2.8, 2.9, 2.14–2.16), in
Russian and English; `explain.render` calls them with its sentence builder. Each names the
rule and the inputs it used, from the line's explanation values only:

«Электроэнергия СОИ: дом 12 500 − 10 870 − 830 = 800 кВт·ч; 800 кВт·ч × 54,30 м² /
4 250,60 м² = 10,220 кВт·ч, не более норматива 447,052 кВт·ч × 54,30 м² / 4 250,60 м² =
5,711 кВт·ч = 5,711 кВт·ч × 6,43 ₽ = 36,72 ₽»

And the penalty lines of a bill run (spec 3.2, 3.3):

«Холодная вода, пени: май 2025: 1 511,60 ₽ × 31 дн. × 9,5 % × 1/300 = 14,84 ₽
(01.08.2025–31.08.2025)»

Also the correction lines of recompute and diff (`rebilling.py`), whatever their rule:

«Холодная вода, перерасчёт за июль 2025: было 379,36 ₽, стало 401,12 ₽, разница +21,76 ₽
(поздние показания)»
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from kvit.core import estimate_sentences
from kvit.core.codes import Resource, Rule, Unit
from kvit.core.periods import Period

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
        "quality_event_body": "перерывы {} при допустимых {} ч в месяц, из них {} сверх "
        "допустимого подряд → превышение {} ч × {} % × {} = {}",
        "event_limit": "не более {} ч подряд",
        "dead_end": "авария на тупиковой магистрали: первые 24 ч не учитываются",
        "capped": "не более платы за период",
        "hours": "{} ч {:02d} мин",
        "benefit": "льгота «{}» {} %",
        "social": "{} на {}",
        "base": "база",
        "segment": "доля периода",
        "penalty": "пени",
        "penalty_days": "{} дн.",
        "moratorium": "мораторий, пени не начисляются",
        "penalty_limit": "с учётом предела {}: {}",
        "penalty_total": "итого {}",
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
        "quality_event_body": "interruptions {}, {} h a month allowed, {} of them beyond the "
        "limit at a time → {} h over × {} % × {} = {}",
        "event_limit": "at most {} h at a time",
        "dead_end": "an accident on a dead-end main: its first 24 h not counted",
        "capped": "at most the period's charge",
        "hours": "{} h {:02d} min",
        "benefit": "benefit “{}” {} %",
        "social": "{} for {}",
        "base": "base",
        "segment": "share for the period",
        "penalty": "penalty",
        "penalty_days": "{} d",
        "moratorium": "moratorium, no penalty accrues",
        "penalty_limit": "limited to {} in total: {}",
        "penalty_total": "total {}",
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
    """2.15: the hours above the allowed total × the percentage × the period's charge; with
    `excess_mode = per_event` also the hours beyond the single-event limits."""
    values = s.values
    amount = s.line.amount
    tail = (
        values["excess_hours"],
        s.num(values["percent"]),
        s.money(values["charge"]),
        s.money(amount),
    )
    notes: list[str] = []
    if "beyond_minutes" in values:
        beyond = _hours(s, "beyond_minutes")
        body = _word(s, "quality_event_body").format(
            _hours(s, "minutes"), values["allowed"], beyond, *tail
        )
        if "event_limit" in values:
            notes.append(_word(s, "event_limit").format(values["event_limit"]))
        if "dead_end" in values:
            notes.append(_word(s, "dead_end"))
    else:
        body = _word(s, "quality_body").format(_hours(s, "minutes"), values["allowed"], *tail)
    if -amount == values["charge"]:
        notes.append(_word(s, "capped"))
    return f", {_word(s, 'quality')}: {body}{s.notes(*notes)}"


def _hours(s: _Sentence, key: str) -> str:
    minutes = s.values[key]
    assert isinstance(minutes, int)
    return _word(s, "hours").format(minutes // 60, minutes % 60)


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


def penalty(s: _Sentence) -> str:
    """3.2, 3.3: each row of each overdue period, base × days × rate × fraction
    (`penalties.penalty_lines` names the values)."""
    values = s.values
    rows = []
    for k in range(1, int(str(values["rows"])) + 1):
        days = _word(s, "penalty_days").format(values[f"days_{k}"])
        base = s.money(values[f"base_{k}"])
        amount = s.money(values[f"amount_{k}"])
        if f"moratorium_{k}" in values:
            formula = f"{base} × {days}: {_word(s, 'moratorium')} = {amount}"
        else:
            rate = values[f"rate_{k}"]
            assert isinstance(rate, Decimal)
            factors = [base, days, f"{s.num(rate.scaleb(2))} %"]
            fraction = str(values[f"fraction_{k}"])
            if fraction != "1":  # a contractual rate per day has no fraction
                factors.append(fraction)
            if f"limit_{k}" in values:
                limited = _word(s, "penalty_limit").format(s.money(values[f"limit_{k}"]), amount)
                formula = f"{' × '.join(factors)} = {s.money(values[f'formula_{k}'])}, {limited}"
            else:
                formula = f"{' × '.join(factors)} = {amount}"
        first, last = values[f"from_{k}"], values[f"to_{k}"]
        assert isinstance(first, date) and isinstance(last, date)
        origin = Period.parse(str(values[f"period_{k}"]))
        rows.append(f"{month(origin, s.lang)}: {formula} ({_day(first)}–{_day(last)})")
    total = ""
    if len(rows) > 1:
        total = f"; {_word(s, 'penalty_total').format(s.money(s.line.amount))}"
    return f", {_word(s, 'penalty')}: {'; '.join(rows)}{total}"


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


# --- corrections (recompute and diff, rebilling.py) ----------------------------------------

CORRECTION_WORDS: dict[str, dict[str, str]] = {
    RU: {
        "correction": "перерасчёт",
        "correction_for": "перерасчёт за {}",
        "amounts": "было {}, стало {}, разница {}",
        "priced": "{} на {}",
        "both": "{} и {}",
        "span": "за {}–{}",
        "benefit": "льгота «{}»",
        "tier": "ступень {}",
    },
    EN: {
        "correction": "recalculation",
        "correction_for": "recalculation for {}",
        "amounts": "was {}, now {}, difference {}",
        "priced": "{} for {}",
        "both": "{} and {}",
        "span": "for {}–{}",
        "benefit": "benefit “{}”",
        "tier": "tier {}",
    },
}

# What a corrected line of these rules was, said after the service's name.
SUBJECTS: dict[str, dict[Rule, str]] = {
    RU: {
        Rule.NORM_COEFFICIENT: "повышающий коэффициент",
        Rule.AVERAGE: "по среднему",
        Rule.TRUE_UP: "по фактическим показаниям",
        Rule.ABSENCE: "временное отсутствие",
        Rule.QUALITY_REDUCTION: "снижение платы за перерывы",
        Rule.PENALTY: "пени",
    },
    EN: {
        Rule.NORM_COEFFICIENT: "increasing coefficient",
        Rule.AVERAGE: "by average",
        Rule.TRUE_UP: "true-up by actual readings",
        Rule.ABSENCE: "temporary absence",
        Rule.QUALITY_REDUCTION: "reduction for interruptions",
        Rule.PENALTY: "penalty",
    },
}

MONTHS: dict[str, tuple[str, ...]] = {
    RU: (
        "январь",
        "февраль",
        "март",
        "апрель",
        "май",
        "июнь",
        "июль",
        "август",
        "сентябрь",
        "октябрь",
        "ноябрь",
        "декабрь",
    ),
    EN: (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

# Why a period was recalculated (`rebilling.REASONS`); other codes as `estimate_sentences`
# words them, unknown ones as they are.
REASONS: dict[str, dict[str, str]] = {
    RU: {
        "late_reading": "поздние показания",
        "tariff_corrected": "исправлен тариф",
        "benefit_confirmed": "подтверждена льгота",
        "benefit_ended": "прекращена льгота",
        "residents_changed": "изменился состав зарегистрированных",
        "absence_documented": "подтверждено временное отсутствие",
        "premise_changed": "изменились данные помещения",
        "building_changed": "изменились данные дома",
        "meter_changed": "изменились данные счётчика",
        "recalculated": "изменились данные расчёта",
    },
    EN: {
        "late_reading": "late reading",
        "tariff_corrected": "tariff corrected",
        "benefit_confirmed": "benefit confirmed",
        "benefit_ended": "benefit ended",
        "residents_changed": "registered residents changed",
        "absence_documented": "temporary absence documented",
        "premise_changed": "premise data changed",
        "building_changed": "building data changed",
        "meter_changed": "meter data changed",
        "recalculated": "calculation data changed",
    },
}


def month(period: Period, language: str) -> str:
    """«июль 2025», "July 2025"."""
    return f"{MONTHS[language][period.month - 1]} {period.year}"


def _fix_word(s: _Sentence, key: str) -> str:
    return CORRECTION_WORDS[s.lang][key]


def _signed(text: str, value: Decimal) -> str:
    return f"+{text}" if value > 0 else text


def _subject(s: _Sentence) -> str:
    """What of the service the corrected line was, when the label does not say it."""
    line = s.line
    rule = line.explanation.rule
    if rule is Rule.BENEFIT:  # its zone is the category
        return f", {_fix_word(s, 'benefit').format(line.zone)}"
    parts = [SUBJECTS[s.lang].get(rule, "")]
    if line.tier:
        parts.append(_fix_word(s, "tier").format(line.tier))
    return "".join(f", {part}" for part in parts if part)


def correction(s: _Sentence) -> str:
    """A correction of recompute and diff: what was posted, what is due now, the difference;
    the corrected period, the days when not the whole period, and why."""
    line = s.line
    values = s.values
    corrects = line.explanation.corrects
    if corrects is None:
        title = _fix_word(s, "correction")
        period = line.period
    else:
        title = _fix_word(s, "correction_for").format(month(corrects, s.lang))
        period = corrects
    was, now = values["was_amount"], values["now_amount"]
    was_quantity, now_quantity = values["was_quantity"], values["now_quantity"]
    difference = _signed(s.money(line.amount), line.amount)
    if was_quantity == now_quantity:
        was_text, now_text = s.money(was), s.money(now)
    else:
        priced = _fix_word(s, "priced")
        was_text = priced.format(f"{s.qty(was_quantity)} {s.unit}", s.money(was))
        now_text = priced.format(f"{s.qty(now_quantity)} {s.unit}", s.money(now))
        moved = _signed(f"{s.qty(line.quantity)} {s.unit}", line.quantity)
        difference = _fix_word(s, "both").format(moved, difference)
    notes = []
    span = line.span
    if span != period.span:
        assert span.end is not None  # a line's days lie inside its period
        last = span.end - timedelta(days=1)
        notes.append(_fix_word(s, "span").format(_day(span.start), _day(last)))
    reason = line.explanation.reason
    if reason:
        words = REASONS[s.lang].get(reason) or estimate_sentences.REASONS[s.lang].get(reason)
        notes.append(words or reason)
    body = _fix_word(s, "amounts").format(was_text, now_text, difference)
    tail = f" ({'; '.join(notes)})" if notes else ""
    return f"{_subject(s)}, {title}: {body}{tail}"


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")
