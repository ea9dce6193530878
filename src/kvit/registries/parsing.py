"""Bank registries as text (spec 6.2): bytes and a layout in, payment lines and problems out.

Pure: the standard library and `kvit.core` only (no Django, no database, no clock), so the
rules of a file can be read and tested on their own. Problems are values, not exceptions
(Beancount's habit): each names its line (0: the file), its field, the value as read and a
code; `kvit.registries.problems` words them in the user's language.

* **Layout.** Where each canonical field is (a column number, or a header row naming the
  fields), the separator, whether fields may be quoted (then the csv module reads them,
  quoted separators and line breaks included), the encoding (windows-1251, UTF-8 with or
  without a byte-order mark, KOI8-R), the decimal mark, the date, time and period formats
  (`strftime` codes), lines to skip at the top, the column where meter readings begin, and
  the footer rule. Two presets: `sberbank` (spec 6.2) and `csv` (a header row names the
  fields).
* **Streaming.** `Reader` decodes and parses one line at a time and keeps only running
  totals: a 150 MB file is never held as Python objects. A line that cannot be decoded is
  reported with its number and the byte.
* **Strict numbers.** Amounts are decimals with the layout's mark and at most two decimals
  (kopecks), never floats; no exponent, no digit grouping.
* **What invalidates a line** (reported, not posted, the rest goes on): an unreadable or
  missing date, amount or operation number, a zero or negative amount, a fee that is
  negative or above the amount, an unreadable period or time, bytes that do not decode.
  An empty account number is not a problem here: the payment goes to suspense.
* **What rejects the file** (nothing of it is posted): a missing or malformed header row or
  footer, text after the footer, a footer whose count or totals (amount, transferred, fee)
  differ from the lines, a line whose amount is not the transferred amount plus the fee
  (spec 6.2: "a failed check rejects the whole file"), and, with a footer, a line whose
  money cannot be read — its amount cannot be summed, so the totals cannot be checked.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

from kvit.core.periods import Period

# --- the layout ---------------------------------------------------------------------------

FIELDS = (
    "paid_on",
    "paid_time",
    "branch",
    "sub_branch",
    "cashier",
    "external_id",
    "account_number",
    "payer_name",
    "address",
    "period",
    "amount",
    "transferred",
    "fee",
)
"""The canonical fields of a registry line (spec 6.2, columns 1–13)."""
REQUIRED = ("paid_on", "external_id", "account_number", "amount")
READINGS = "readings"
"""The header name (CSV) of the column where meter id / value pairs begin."""

ENCODINGS = ("windows-1251", "utf-8", "koi8-r")
DECIMAL_MARKS = (".", ",")
FOOTER_NONE, FOOTER_SBERBANK = "none", "sberbank"
FOOTERS = (FOOTER_NONE, FOOTER_SBERBANK)
FOOTER_MARK = "="

_CELLS = (
    "paid_on",
    "paid_time",
    "external_id",
    "account_number",
    "payer_name",
    "address",
    "period",
    "amount",
    "transferred",
    "fee",
)
"""The fields a line is read from, in the order `Reader._record` unpacks their indexes."""
ZERO = Decimal("0.00")
MIDNIGHT = time()  # the time of a line without one
_MONEY = re.compile(r"[+-]?[0-9]+(?:\.[0-9]{1,2})?")
"""Strict money: optional sign, digits, at most two decimals (kopecks); no exponent, no
digit grouping (a `Decimal` built from it is exact, never a float)."""
_PLAIN_MONEY = _MONEY.fullmatch
_READING = re.compile(r"[0-9]+(?:\.[0-9]{1,6})?")


@dataclass(frozen=True)
class Layout:
    """How one bank contract writes its registries. `columns` maps a canonical field to its
    column number (from 1); with `header_names` the first line after `header_lines` names
    the fields instead."""

    columns: Mapping[str, int] = field(default_factory=dict)
    separator: str = ";"
    encoding: str = "windows-1251"
    decimal_mark: str = "."
    date_format: str = "%d-%m-%Y"
    time_format: str = "%H-%M-%S"
    period_format: str = "%m%y"
    header_lines: int = 0
    header_names: bool = False
    quoting: bool = False
    readings_from: int | None = None
    footer: str = FOOTER_NONE


SBERBANK = Layout(
    columns={name: number for number, name in enumerate(FIELDS, start=1)},
    readings_from=len(FIELDS) + 1,
    footer=FOOTER_SBERBANK,
)
CSV = Layout(
    separator=",",
    encoding="utf-8",
    date_format="%Y-%m-%d",
    time_format="%H:%M:%S",
    period_format="%Y-%m",
    header_names=True,
    quoting=True,
)
PRESETS = {"sberbank": SBERBANK, "csv": CSV}
"""Built-in layouts, available to every organisation without configuration."""


# --- what comes out -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a line (`line` ≥ 1) or with the file (`line` 0). `value` is what
    was read, `expected` what the rule wanted (a format, the footer's figure)."""

    code: str
    line: int = 0
    field: str = ""
    value: str = ""
    expected: str = ""


@dataclass(frozen=True, slots=True)
class ReadingPair:
    """A meter id and its value as given in the line; `problem` when the value is unusable."""

    meter: str
    value: Decimal | None
    text: str
    problem: Problem | None = None


class Line(NamedTuple):
    """A valid payment line, in the canonical fields (spec 6.1). (Named tuples: a million
    of them are built in a registry, three times faster than frozen dataclasses.)"""

    number: int
    external_id: str
    account_number: str
    payer_name: str
    address: str
    paid_on: date
    paid_time: time | None
    period: Period | None
    amount: Decimal
    transferred: Decimal
    fee: Decimal
    readings: tuple[ReadingPair, ...] = ()

    def paid_at(self, zone: tzinfo | None = None) -> datetime:
        """The payment's date and time (midnight when the line has no time) in `zone`:
        the file's times are the organisation's local time."""
        return datetime.combine(self.paid_on, self.paid_time or MIDNIGHT, zone)


class Record(NamedTuple):
    """One line of the file as read: `line` when it is valid, else its `problems` and its
    `text` (its cells joined by the separator). `amount` is the amount as read (also of an
    invalid line; None when it cannot be read)."""

    number: int
    text: str
    line: Line | None
    problems: tuple[Problem, ...] = ()
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Footer:
    """The footer of a Sberbank-style registry (spec 6.2)."""

    count: int
    amount: Decimal
    transferred: Decimal
    fee: Decimal
    order_number: str
    order_date: date | None


@dataclass
class Totals:
    """What the lines add up to, for the footer check: every payment line counts, valid or
    not; the money of the lines whose money could be read."""

    count: int = 0
    amount: Decimal = Decimal("0.00")
    transferred: Decimal = Decimal("0.00")
    fee: Decimal = Decimal("0.00")
    unreadable: list[int] = field(default_factory=list)  # lines whose money is unreadable


# --- checks that need no file -------------------------------------------------------------

_BINARY_STARTS = (
    b"PK\x03\x04",  # zip, xlsx, docx
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",  # jpeg
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xd0\xcf\x11\xe0",  # old Office documents
    b"MZ",  # executables
    b"\x7fELF",
)
SNIFFED = 64 * 1024
BLOCK = 1 << 20


def sniff(content: bytes) -> Problem | None:
    """A problem when `content` is plainly not a text registry: empty, binary (a NUL byte or
    a known file signature in its first bytes) or markup (HTML, XML, SVG)."""
    head = content[:SNIFFED]
    if not head.strip():
        return Problem("empty")
    if b"\x00" in head or head.startswith(_BINARY_STARTS):
        return Problem("binary")
    if head.removeprefix(UTF8_BOM).lstrip().startswith(b"<"):
        return Problem("markup")
    return None


UTF8_BOM = b"\xef\xbb\xbf"
REPLACEMENT = "\ufffd"
"""What a NUL becomes in the text kept of its line (as a byte that does not decode does)."""


def layout_problems(layout: Layout) -> list[Problem]:
    """What is wrong with a layout itself (a bank contract's settings)."""
    problems = []
    if layout.encoding not in ENCODINGS:
        problems.append(Problem("layout_encoding", field="encoding", value=layout.encoding))
    if layout.decimal_mark not in DECIMAL_MARKS:
        problems.append(Problem("layout_mark", field="decimal_mark", value=layout.decimal_mark))
    if len(layout.separator) != 1 or layout.separator in "\r\n\"'" or layout.separator.isalnum():
        problems.append(Problem("layout_separator", field="separator", value=layout.separator))
    elif layout.separator == layout.decimal_mark:
        problems.append(Problem("layout_separator_mark", field="separator", value=layout.separator))
    if layout.footer not in FOOTERS:
        problems.append(Problem("layout_footer", field="footer", value=layout.footer))
    for name in ("date_format", "time_format", "period_format"):
        fmt = getattr(layout, name)
        if not _round_trips(fmt, name):
            problems.append(Problem("layout_format", field=name, value=fmt))
    if not layout.header_names:
        problems += _column_problems(layout.columns, layout.readings_from)
    return problems


@lru_cache(maxsize=4096)
def _month(text: str, fmt: str) -> Period | None:
    day = _day(text, fmt)
    return None if day is None else Period.of(day)


_SAMPLE = datetime(2024, 12, 31, 23, 59, 58)


def _round_trips(fmt: str, name: str) -> bool:
    """Whether a date (a time, a month) written in `fmt` reads back the same."""
    if not fmt:
        return False
    try:
        back = datetime.strptime(_SAMPLE.strftime(fmt), fmt)
    except ValueError:
        return False
    if name == "time_format":
        return back.time() == _SAMPLE.time()
    if name == "period_format":
        return back.date() == _SAMPLE.date().replace(day=1)
    return back.date() == _SAMPLE.date()


def _column_problems(columns: Mapping[str, int], readings_from: int | None) -> list[Problem]:
    problems = []
    unknown = sorted(set(columns) - set(FIELDS))
    problems += [Problem("layout_unknown_field", field=name) for name in unknown]
    missing = [name for name in REQUIRED if name not in columns]
    problems += [Problem("layout_missing_field", field=name) for name in missing]
    numbers = list(columns.values())
    if readings_from is not None:
        numbers.append(readings_from)
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in numbers):
        problems.append(Problem("layout_column_number"))
    elif len(set(numbers)) != len(numbers):
        problems.append(Problem("layout_column_twice"))
    elif readings_from is not None and readings_from <= max(columns.values(), default=0):
        problems.append(Problem("layout_readings_first", value=str(readings_from)))
    return problems


# --- reading a file -----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _day(text: str, fmt: str) -> date | None:
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        return None


@lru_cache(maxsize=100_000)
def _money(text: str) -> Decimal | None:
    """Strict money read from `text` (with a point), or None. Cached: a registry's lines
    repeat their amounts and fees, and a regular expression and a Decimal cost about 1 µs."""
    return Decimal(text) if _PLAIN_MONEY(text) else None


@lru_cache(maxsize=100_000)
def _clock(text: str, fmt: str) -> time | None:
    try:
        return datetime.strptime(text, fmt).time()
    except ValueError:
        return None


def closing_footer(content: bytes, layout: Layout) -> Footer | None:
    """The footer the file ends with, read ahead of its lines: its payment order dates the
    payments (their value date). None without one, or when it does not read — the `Reader`
    then rejects the file."""
    if layout.footer != FOOTER_SBERBANK:
        return None
    last = content.rstrip().rsplit(b"\n", 1)[-1]
    reader = Reader(last + b"\n", replace(layout, header_lines=0))
    for _record in reader:
        pass  # a line that is not the footer: a record, nothing else
    return reader.footer


class Reader:
    """Reads `content` line by line in `layout`: iterate over it for the records; then
    `problems` holds what rejects the file (empty: it may be posted) and `footer` the
    footer, if the layout has one. Iterate once."""

    def __init__(self, content: bytes, layout: Layout) -> None:
        self.layout = layout
        self.content = content.removeprefix(UTF8_BOM) if layout.encoding == "utf-8" else content
        self.problems: list[Problem] = []
        self.footer: Footer | None = None
        self.totals = Totals()
        self.lines = self.content.count(b"\n") + (not self.content.endswith(b"\n"))
        self._comma = layout.decimal_mark == ","
        self._use_columns(layout.columns, layout.readings_from)
        # A physical line's own problems (a byte that does not decode, a NUL), by its number
        self._text_problems: defaultdict[int, list[Problem]] = defaultdict(list)

    def _use_columns(self, columns: Mapping[str, int], readings_from: int | None) -> None:
        """Cell indexes by field; an absent field reads the empty cell put at each row's end.
        A row with a cell at `_readings_at` (a column number) has readings."""
        self._readings_at = readings_from or sys.maxsize
        self._width = max([*columns.values(), 0])
        self._cells = tuple(columns[name] - 1 if name in columns else -1 for name in _CELLS)

    # --- the physical lines, decoded --------------------------------------------------------

    def _blocks(self) -> Iterator[list[str]]:
        """The decoded lines (each ending in a line break), a block of about `BLOCK` bytes at
        a time (decoding a block at once is many times faster than a line at a time); a
        block that does not decode is decoded line by line, to name the line and the byte.
        A NUL character (no text field holds one, and PostgreSQL refuses it in text) makes
        its line invalid and is replaced, as a byte that does not decode is."""
        encoding, content, size = self.layout.encoding, self.content, len(self.content)
        start, first = 0, 1
        while start < size:
            end = content.find(b"\n", min(start + BLOCK, size) - 1)
            end = size if end < 0 else end + 1
            block = content[start:end]
            try:
                lines = [line + "\n" for line in block.decode(encoding).split("\n")]
            except UnicodeDecodeError:
                lines = [
                    self._decoded(raw, number)
                    for number, raw in enumerate(block.split(b"\n"), start=first)
                ]
            if block.endswith(b"\n"):
                lines.pop()  # the empty piece after the last line break
            if b"\x00" in block:  # every encoding of ENCODINGS writes NUL as this byte
                lines = [self._without_nul(line, n) for n, line in enumerate(lines, start=first)]
            yield lines
            start, first = end, first + len(lines)

    def _decoded(self, raw: bytes, number: int) -> str:
        encoding = self.layout.encoding
        try:
            return raw.decode(encoding) + "\n"
        except UnicodeDecodeError as error:
            byte = raw[error.start : error.start + 1].hex()
            self._text_problems[number].append(
                Problem("decode", number, value=f"0x{byte}", expected=encoding)
            )
            return raw.decode(encoding, "replace") + "\n"

    def _without_nul(self, line: str, number: int) -> str:
        if "\x00" not in line:
            return line
        self._text_problems[number].append(Problem("nul", number))
        return line.replace("\x00", REPLACEMENT)

    # --- the rows ---------------------------------------------------------------------------

    def _rows(self) -> Iterator[tuple[int, int, list[str]]]:
        """(first line, last line, cells) of each row. Quoted fields go through the csv
        module (a quoted field may hold separators and line breaks); without quotes a line
        is split at the separator, several times faster."""
        lines = chain.from_iterable(self._blocks())
        separator = self.layout.separator
        if not self.layout.quoting:
            for number, text in enumerate(lines, start=1):
                yield number, number, text.rstrip("\r\n").split(separator)
            return
        rows = csv.reader(lines, delimiter=separator, strict=True)
        seen = 0
        try:
            for row in rows:
                yield seen + 1, rows.line_num, row
                seen = rows.line_num
        except csv.Error as error:
            self.problems.append(Problem("malformed", seen + 1, value=str(error)))

    def __iter__(self) -> Iterator[Record]:
        layout = self.layout
        skip = layout.header_lines
        header = layout.header_names
        sberbank = layout.footer == FOOTER_SBERBANK
        for number, last, row in self._rows():
            text_problems = self._text_problems and self._text_problems_of(number, last)
            if skip:
                skip -= 1
                continue
            if len(row) < 2 and not (row and row[0].strip()):
                continue  # a blank line
            if header:
                header = False
                if not self._read_header(row, number):
                    return
                continue
            if self.footer is not None:
                self.problems.append(Problem("after_footer", number))
                return
            if sberbank and row[0].startswith(FOOTER_MARK):
                self._read_footer(row, number)
                if self.footer is None:
                    return
                continue
            yield self._record(row, number, text_problems or [])
        if self.problems:
            return  # the csv module gave up on a row
        if header:
            self.problems.append(Problem("no_header"))
        self._check_totals()

    def _text_problems_of(self, first: int, last: int) -> list[Problem]:
        found = self._text_problems
        return [p for n in range(first, last + 1) if n in found for p in found.pop(n)]

    def _read_header(self, row: list[str], number: int) -> bool:
        names = [cell.strip().lower() for cell in row]
        columns: dict[str, int] = {}
        readings_from = None
        for index, name in enumerate(names, start=1):
            if name == READINGS:
                readings_from = index
                break
            if name in columns:
                self.problems.append(Problem("header_twice", number, value=name))
            elif name in FIELDS:
                columns[name] = index
            elif name:
                self.problems.append(Problem("header_unknown", number, value=name))
        for name in REQUIRED:
            if name not in columns:
                self.problems.append(Problem("header_missing", number, field=name))
        self._use_columns(columns, readings_from)
        return not self.problems

    def _read_footer(self, row: list[str], number: int) -> None:
        cells = [cell.strip() for cell in row]
        cells[0] = cells[0].removeprefix(FOOTER_MARK).strip()
        if len(cells) < 4:
            self.problems.append(Problem("footer_short", number, value=str(len(cells))))
            return
        problems = []
        count = int(cells[0]) if cells[0].isdigit() else None
        if count is None:
            problems.append(Problem("footer_field", number, "count", cells[0]))
        sums = []
        for name, text in zip(("amount", "transferred", "fee"), cells[1:4], strict=True):
            value = self._money(text)
            if value is None:
                problems.append(Problem("footer_field", number, name, text))
            sums.append(value)
        order_number = cells[4] if len(cells) > 4 else ""
        order_date = None
        if len(cells) > 5 and cells[5]:
            order_date = _day(cells[5], self.layout.date_format)
            if order_date is None:
                problems.append(
                    Problem("footer_field", number, "order_date", cells[5], self.layout.date_format)
                )
        if problems:
            self.problems += problems
            return
        amount, transferred, fee = sums
        assert count is not None and amount is not None and transferred is not None
        assert fee is not None
        self.footer = Footer(count, amount, transferred, fee, order_number, order_date)

    def _check_totals(self) -> None:
        if self.layout.footer != FOOTER_SBERBANK or self.problems:
            return
        footer = self.footer
        if footer is None:
            self.problems.append(Problem("no_footer"))
            return
        totals = self.totals
        if totals.count != footer.count:
            self.problems.append(
                Problem("footer_count", value=str(totals.count), expected=str(footer.count))
            )
        if totals.unreadable:
            self.problems.append(
                Problem(
                    "footer_unreadable",
                    totals.unreadable[0],
                    value=str(len(totals.unreadable)),
                )
            )
            return
        for name in ("amount", "transferred", "fee"):
            summed, expected = getattr(totals, name), getattr(footer, name)
            if summed != expected:
                self.problems.append(
                    Problem("footer_sum", field=name, value=str(summed), expected=str(expected))
                )

    # --- one payment line -------------------------------------------------------------------

    def _money(self, text: str) -> Decimal | None:
        """An amount in kopecks as the layout writes it, or None."""
        if self._comma:
            if "." in text:
                return None
            text = text.replace(",", ".")
        return _money(text)

    def _record(self, row: list[str], number: int, text_problems: list[Problem]) -> Record:
        layout = self.layout
        problems = text_problems
        readings = self._readings(row, number) if len(row) >= self._readings_at else ()
        if len(row) < self._width:
            row = row + [""] * (self._width - len(row))
        row.append("")  # what a field the layout does not have reads
        (
            paid_on_at,
            paid_time_at,
            external_id_at,
            account_at,
            payer_at,
            address_at,
            period_at,
            amount_at,
            transferred_at,
            fee_at,
        ) = self._cells
        totals = self.totals
        totals.count += 1
        external_id = row[external_id_at].strip()
        if not external_id:
            problems.append(Problem("missing", number, "external_id"))
        amount_text = row[amount_at].strip()
        amount = self._money(amount_text)
        if amount is None:
            code = "money" if amount_text else "missing"
            problems.append(Problem(code, number, "amount", amount_text, layout.decimal_mark))
        fee_text = row[fee_at].strip()
        fee = self._money(fee_text) if fee_text else ZERO
        if fee is None:
            problems.append(Problem("money", number, "fee", fee_text, layout.decimal_mark))
        transferred_text = row[transferred_at].strip()
        transferred = self._money(transferred_text) if transferred_text else None
        if transferred_text and transferred is None:
            problems.append(
                Problem("money", number, "transferred", transferred_text, layout.decimal_mark)
            )
        if amount is None or fee is None or (transferred_text and transferred is None):
            totals.unreadable.append(number)
        else:
            transferred = amount - fee if transferred is None else transferred
            totals.amount += amount
            totals.transferred += transferred
            totals.fee += fee
            if transferred + fee != amount:
                self.problems.append(
                    Problem("line_sum", number, "amount", str(amount), f"{transferred} + {fee}")
                )
            if amount <= 0:
                problems.append(Problem("not_positive", number, "amount", amount_text))
            elif fee < 0:
                problems.append(Problem("negative_fee", number, "fee", fee_text))
            elif fee > amount:
                problems.append(Problem("fee_over_amount", number, "fee", fee_text, amount_text))
        paid_on_text = row[paid_on_at].strip()
        paid_on = _day(paid_on_text, layout.date_format)
        if paid_on is None:
            code = "date" if paid_on_text else "missing"
            problems.append(Problem(code, number, "paid_on", paid_on_text, layout.date_format))
        time_text = row[paid_time_at].strip()
        paid_time = _clock(time_text, layout.time_format) if time_text else None
        if time_text and paid_time is None:
            problems.append(Problem("time", number, "paid_time", time_text, layout.time_format))
        period_text = row[period_at].strip()
        period = _month(period_text, layout.period_format) if period_text else None
        if period_text and period is None:
            problems.append(Problem("period", number, "period", period_text, layout.period_format))
        if problems:
            text = layout.separator.join(row[:-1])
            return Record(number, text, None, tuple(problems), amount)
        assert paid_on is not None and amount is not None and fee is not None
        assert transferred is not None
        line = Line(
            number,
            external_id,
            row[account_at].strip(),
            row[payer_at].strip(),
            row[address_at].strip(),
            paid_on,
            paid_time,
            period,
            amount,
            transferred,
            fee,
            readings,
        )
        return Record(number, "", line, (), amount)

    def _readings(self, row: list[str], number: int) -> tuple[ReadingPair, ...]:
        cells = [cell.strip() for cell in row[self._readings_at - 1 :]]
        if len(cells) % 2:
            cells.append("")
        pairs = []
        for meter, text in zip(cells[::2], cells[1::2], strict=True):
            if not meter and not text:
                continue
            value = self._reading_value(text)
            problem = None
            if not meter:
                problem = Problem("reading_meter", number, "readings", text)
            elif value is None:
                problem = Problem("reading_value", number, "readings", text, meter)
            pairs.append(ReadingPair(meter, value, text, problem))
        return tuple(pairs)

    def _reading_value(self, text: str) -> Decimal | None:
        """A meter reading: not negative, at most six decimals."""
        if self._comma:
            if "." in text:
                return None
            text = text.replace(",", ".")
        return Decimal(text) if _READING.fullmatch(text) else None
