"""The sentences of estimated volumes and true-ups (spec 2.3, 2.4, 2.7), in Russian and
English; `explain.render` calls them with its sentence builder, and `reason` for the note a
line's `Explanation.reason` adds. Every number comes from the line and its explanation:

«Холодная вода, по среднему: 12,500 м³ × 22/31 = 8,871 м³ × 50,00 ₽ = 443,55 ₽ (среднее за
6 мес.: 2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 2025-06; 1-й период из 3; за
10.07.2025–31.07.2025; счётчик вышел из строя)»
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from kvit.core.lines import Estimate
from kvit.core.periods import Period

if TYPE_CHECKING:
    from kvit.core.explain import _Sentence

RU, EN = "ru", "en"

WORDS: dict[str, dict[str, str]] = {
    RU: {
        "average": "по среднему",
        "average_of": "среднее за {} мес.: {}",
        "number": "{}-й период из {}",
        "unlimited": "{}-й период, до замены счётчика",
        "true_up": "перерасчёт по фактическим показаниям",
        "estimated_for": "начислено расчётно за {}",
        "spread_to": "распределено на {}",
        "rerated": "пересчитано",
        "billed": "начислено",
        "limit": "по нормативу: по среднему можно начислять не более {} периодов подряд",
        "history": "по нормативу: фактические показания есть только за {} мес., "
        "для среднего нужно не меньше {}",
    },
    EN: {
        "average": "by average",
        "average_of": "average of {} months: {}",
        "number": "period {} of {}",
        "unlimited": "period {}, until the meter is replaced",
        "true_up": "true-up by actual readings",
        "estimated_for": "estimated for {}",
        "spread_to": "spread over {}",
        "rerated": "re-rated",
        "billed": "billed",
        "limit": "by norm: the average is allowed for at most {} periods in a row",
        "history": "by norm: actual readings for only {} months, the average needs at least {}",
    },
}

REASONS: dict[str, dict[str, str]] = {
    RU: {
        "no_reading": "показания не переданы",
        "meter_failed": "счётчик вышел из строя",
        "verification_expired": "истёк срок поверки счётчика",
        "replacement_gap": "дни без счётчика при замене",
        "actual_reading": "получены фактические показания после расчётных периодов",
        "refused_access": "потребитель дважды не допустил к проверке счётчика",
    },
    EN: {
        "no_reading": "no reading submitted",
        "meter_failed": "the meter failed",
        "verification_expired": "the meter's verification expired",
        "replacement_gap": "days without a meter during its replacement",
        "actual_reading": "an actual reading after estimated periods",
        "refused_access": "access to check the meter was refused twice",
    },
}


def _word(s: _Sentence, key: str) -> str:
    return WORDS[s.lang][key]


def _periods(periods: tuple[Period, ...]) -> str:
    return ", ".join(str(period) for period in periods)


def reason(s: _Sentence, code: str) -> str:
    """A line's reason as a note: the known codes in words (others as they are), and why
    a metered service fell back to the norm (`fallback` value, 2.4)."""
    text = REASONS[s.lang].get(code, code)
    values = s.values
    fallback = values.get("fallback")
    if fallback == "limit":
        text += f"; {_word(s, 'limit').format(values['limit'])}"
    elif fallback == "history":
        text += f"; {_word(s, 'history').format(values['months'], values['min_months'])}"
    return text


def _estimate(s: _Sentence, estimate: Estimate, several: bool) -> str:
    text = f"{s.qty(estimate.average)} {s.unit}"
    if estimate.days != estimate.period_days:
        text += f" × {estimate.days}/{estimate.period_days}"
        if several:
            text = f"({text})"
    return text


def average(s: _Sentence) -> str:
    """2.3, 2.4: the average (prorated by days), the months it came from, which period."""
    explanation = s.line.explanation
    estimates = explanation.estimates
    several = len(estimates) > 1
    expression = " + ".join(_estimate(s, estimate, several) for estimate in estimates)
    first = estimates[0]
    if several or first.days != first.period_days or "volume" in s.values:
        body = s.priced(s.split(expression))
    else:
        line = s.line
        body = f"{s.qty(line.quantity)} {s.unit} × {s.money_tariff()} = {s.money(line.amount)}"
    periods = explanation.average_periods
    notes = [_word(s, "average_of").format(len(periods), _periods(periods))]
    if first.number:
        if first.limit is None:
            notes.append(_word(s, "unlimited").format(first.number))
        else:
            notes.append(_word(s, "number").format(first.number, first.limit))
    return f", {_word(s, 'average')}: {body}{s.notes(*notes)}"


def _registers(s: _Sentence) -> str:
    sources = s.line.explanation.sources
    several = len(sources) > 1
    return " + ".join(s.register(source, several) for source in sources)


def _volume(s: _Sentence, key: str) -> str:
    value = s.values[key]
    assert isinstance(value, Decimal)
    return f"{s.qty(value)} {s.unit}"


def true_up(s: _Sentence) -> str:
    """2.7: this period's `V_true − V_est`, a past period re-rated, or this period's share
    of a true volume spread over the periods."""
    line = s.line
    explanation = line.explanation
    values = s.values
    estimated = _periods(explanation.estimated)
    true = f"{_registers(s)} = {_volume(s, 'true_volume')}"
    if explanation.corrects is not None:
        share = (
            f"{_volume(s, 'true_volume')} × {values['days']}/{values['whole_days']} = "
            f"{_volume(s, 'allocated')}"
        )
        body = (
            f"{share}, {_word(s, 'rerated')} {s.money(values['rerated'])} − "
            f"{_word(s, 'billed')} {s.money(values['billed'])} = {s.money(line.amount)}"
        )
        return f", {_word(s, 'true_up')}: {body}{s.notes()}"
    if "allocated" in values:
        before = _word(s, "spread_to").format(estimated)
        expression = f"{true} − {_volume(s, 'allocated_before')} ({before})"
        return f": {s.priced(s.split(expression))}{s.notes()}"
    billed = _word(s, "estimated_for").format(estimated)
    expression = f"{true} − {_volume(s, 'estimated_volume')} ({billed})"
    if "tier" in values:
        return f", {_word(s, 'true_up')}: {expression}; {s.tier()[2:]}"
    return f", {_word(s, 'true_up')}: {s.priced(s.split(expression))}{s.notes()}"
