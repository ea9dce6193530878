"""Reading a YAML node tree with the place of every value, so a mistake is reported as
`file:line:column: path: message`.

The file is composed into nodes (`yaml.compose` with the safe loader) and never constructed
into Python objects: every scalar is read from its **source text**. A number such as
`48.95` therefore becomes `Decimal("48.95")` exactly, never a float, whether it is quoted or
not; `2025-07-25` is read as a date by us, not by YAML's timestamp rules, and `no` stays the
text "no" where a text is expected.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

import yaml

from kvit.core.money import to_decimal
from kvit.core.periods import Period

NULL_TAG = "tag:yaml.org,2002:null"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?")
_FRACTION = re.compile(r"[0-9]+/[0-9]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")

T = TypeVar("T")
D = TypeVar("D")
E = TypeVar("E", bound=StrEnum)


class ScenarioError(ValueError):
    """A mistake in a scenario file: `file:line:column: path: message`."""

    def __init__(self, source: str, line: int, column: int, path: str, message: str) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a scenario file (1-based line and column)."""

    source: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


def compose(path: Path) -> Item:
    """The document of `path` as an `Item`; YAML syntax errors become `ScenarioError`."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(str(path), 1, 1, "", f"cannot read the file: {error}") from None
    return compose_text(text, source)


def compose_text(text: str, source: str) -> Item:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise ScenarioError(source, line, column, "", f"not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(source, 1, 1, "", f"not valid YAML: {error}") from None
    if node is None:
        raise ScenarioError(source, 1, 1, "", "the file is empty")
    return Item(node, "", source)


class Item:
    """One node of the document with its path (`services.cold_water.tariffs[0].value`)."""

    __slots__ = ("node", "path", "source")

    def __init__(self, node: yaml.Node, path: str, source: str) -> None:
        self.node = node
        self.path = path
        self.source = source

    @property
    def where(self) -> Where:
        mark = self.node.start_mark
        return Where(self.source, mark.line + 1, mark.column + 1)

    def error(self, message: str) -> ScenarioError:
        where = self.where
        return ScenarioError(self.source, where.line, where.column, self.path, message)

    def child(self, node: yaml.Node, step: str) -> Item:
        if step.startswith("["):
            return Item(node, f"{self.path}{step}", self.source)
        return Item(node, f"{self.path}.{step}" if self.path else step, self.source)

    @property
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == NULL_TAG

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.node, yaml.SequenceNode)

    # --- containers ------------------------------------------------------------------------

    def entries(self) -> list[tuple[str, Item, Item]]:
        """A mapping's (key text, key, value) in file order; a key given twice is refused."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"expected a mapping (key: value lines), got {_shape(self.node)}")
        seen: set[str] = set()
        found = []
        for key_node, value_node in self.node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise Item(key_node, self.path, self.source).error("a key must be a plain value")
            key = str(key_node.value)
            key_item = self.child(key_node, key)
            if key in seen:
                raise key_item.error(f"the key '{key}' is given twice")
            seen.add(key)
            found.append((key, key_item, self.child(value_node, key)))
        return found

    def fields(self, *allowed: str) -> Fields:
        return Fields(self, allowed)

    def items(self) -> list[Item]:
        """A sequence's items."""
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error(f"expected a list (lines starting with '- '), got {_shape(self.node)}")
        return [self.child(node, f"[{index}]") for index, node in enumerate(self.node.value)]

    def listed(self) -> list[Item]:
        """A list, or a single value taken as a list of one."""
        return self.items() if self.is_sequence else [self]

    # --- scalars ---------------------------------------------------------------------------

    def text(self) -> str:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error(f"expected a single value, got {_shape(self.node)}")
        if self.is_null:
            raise self.error("a value is required here")
        return str(self.node.value)

    def decimal(self) -> Decimal:
        text = self.text().strip()
        try:
            return to_decimal(text)
        except ValueError:
            hint = " (use a dot)" if "," in text else ""
            raise self.error(f"'{text}' is not a number{hint}") from None

    def integer(self, minimum: int | None = None, maximum: int | None = None) -> int:
        text = self.text().strip()
        if not _INTEGER.fullmatch(text):
            raise self.error(f"'{text}' is not a whole number")
        value = int(text)
        if minimum is not None and value < minimum:
            raise self.error(f"{value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise self.error(f"{value} is above the maximum {maximum}")
        return value

    def boolean(self) -> bool:
        text = self.text().strip().lower()
        if text not in {"true", "false"}:
            raise self.error(f"'{self.text()}' must be true or false")
        return text == "true"

    def day(self) -> date:
        text = self.text().strip()
        if _DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise self.error(f"'{text}' is not a date: write YYYY-MM-DD, e.g. 2025-07-25")

    def moment(self) -> datetime:
        text = self.text().strip()
        if _MOMENT.fullmatch(text):
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        raise self.error(f"'{text}' is not a date and time: write YYYY-MM-DD HH:MM")

    def period(self) -> Period:
        try:
            return Period.parse(self.text().strip())
        except ValueError as error:
            raise self.error(str(error)) from None

    def share(self) -> Fraction:
        """A share of a premise: "1/2", "1/3" or a decimal, more than 0 and at most 1."""
        text = self.text().strip()
        if _FRACTION.fullmatch(text) and not text.endswith("/0"):
            value = Fraction(text)
        else:
            value = Fraction(self.decimal())
        if not 0 < value <= 1:
            raise self.error(f"the share {text} must be more than 0 and at most 1")
        return value

    def choice(self, enum: type[E], what: str) -> E:
        text = self.text().strip()
        try:
            return enum(text)
        except ValueError:
            options = [member.value for member in enum]
            raise self.error(f"'{text}' is not {what}{_suggest(text, options)}") from None


class Fields:
    """A mapping read by name: unknown keys are refused with a suggestion, and a null value
    counts as not given."""

    __slots__ = ("item", "values")

    def __init__(self, item: Item, allowed: Sequence[str]) -> None:
        self.item = item
        self.values: dict[str, Item] = {}
        previous: Item | None = None
        for key, key_item, value in item.entries():
            if key not in allowed:
                if _split_by_comma(previous, key, value):
                    assert previous is not None
                    raise previous.error(
                        f"'{previous.text()},{key}' is not a number (use a dot): inside {{ }} "
                        "a comma separates entries"
                    )
                raise key_item.error(f"unknown key '{key}'{_suggest(key, allowed)}")
            self.values[key] = value
            previous = value

    def get(self, key: str) -> Item | None:
        value = self.values.get(key)
        return None if value is None or value.is_null else value

    def require(self, key: str) -> Item:
        value = self.get(key)
        if value is None:
            raise self.item.error(f"'{key}' is required")
        return value

    def read(self, key: str, reader: Callable[[Item], T], default: D) -> T | D:
        value = self.get(key)
        return default if value is None else reader(value)

    def one_of(self, *keys: str) -> None:
        """At most one of `keys` may be given."""
        given = [key for key in keys if self.get(key) is not None]
        if len(given) > 1:
            later = self.values[given[1]]
            raise later.error(f"give either '{given[0]}' or '{given[1]}', not both")


def _split_by_comma(previous: Item | None, key: str, value: Item) -> bool:
    """`{value: 48,95}`: YAML reads "48" and a key "95" without a value."""
    return (
        previous is not None
        and isinstance(previous.node, yaml.ScalarNode)
        and _INTEGER.fullmatch(str(previous.node.value)) is not None
        and key.isdigit()
        and value.is_null
    )


def _suggest(text: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(text, options, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{hint} (expected one of: {', '.join(options)})"


def _shape(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value '{node.value}'"
