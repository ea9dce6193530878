"""Bank statements in the 1C client-bank exchange format (spec 6.2): bytes in, the credits
to the organisation's accounts and problems out.

Pure, as `kvit.registries.parsing` is (no Django, no database, no clock); problems are the
same `Problem` values, worded by `kvit.registries.problems`.

The format (version 1.02/1.03, the one Russian banks export): lines of `key=value`; a header
(`1CClientBankExchange` first, then `Кодировка=Windows` or `DOS`, `ДатаНачала`, `ДатаКонца`,
`РасчСчет`…), a section per account (`СекцияРасчСчет` … `КонецРасчСчет`), a section per
document (`СекцияДокумент=Платежное поручение` … `КонецДокумента`) and `КонецФайла`.

* **Encoding.** UTF-8 (with or without a byte-order mark), windows-1251 (`Windows`) or
  CP866 (`DOS`): the one in which the section names read. A byte that does not decode
  there becomes U+FFFD (a stray byte in a purpose of payment does not cost the file).
  The end-of-file marks DOS-era exporters add (Ctrl-Z, NUL) are ignored.
* **A credit** is a document whose recipient account (`ПолучательСчет`, or
  `ПолучательРасчСчет` when the money came through a correspondent account) is one of the
  statement's accounts (`РасчСчет` in the header or an account section), or, when the
  statement names none, one with a credit date (`ДатаПоступило`). The others (debits)
  are left out. Every kind of document counts (`Платежное поручение`, `Банковский
  ордер`…); the kind is kept.
* **What invalidates a document** (reported with its first line; the others are kept): a
  missing or unreadable number, date or amount, or an amount that is not positive.
* **What rejects the file** (nothing of it is kept): no `1CClientBankExchange` first line,
  section names that read in none of the encodings, no `КонецФайла` (a truncated file), a
  document section that does not end, text after `КонецФайла`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from kvit.registries.parsing import UTF8_BOM, Problem

MAGIC = "1CClientBankExchange"
REJECTING = frozenset(
    {
        "statement_magic",
        "statement_encoding",
        "statement_end",
        "statement_section",
        "statement_after_end",
    }
)
_AMOUNT = re.compile(r"[0-9]{1,14}(\.[0-9]{1,2})?")  # a money column: 16 digits, 2 places; ASCII
_END_MARKS = b"\x00\x1a \t\r\n"


@dataclass(frozen=True)
class Credit:
    """Money the bank credited to the organisation: a payment order (`number` of `dated`)."""

    line: int
    kind: str
    number: str
    dated: date
    amount: Decimal
    received_on: date | None = None
    payer_name: str = ""
    payer_inn: str = ""
    payer_account: str = ""
    recipient_account: str = ""
    purpose: str = ""


@dataclass
class Statement:
    """What a statement file holds: its period and accounts, its credits (valid documents
    paid to those accounts), the documents it skipped as debits, and problems. With one
    of `REJECTING` the file is rejected whole."""

    starts_on: date | None = None
    ends_on: date | None = None
    accounts: list[str] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    debits: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(problem.code in REJECTING for problem in self.problems)


def read_statement(content: bytes) -> Statement:
    """Read a statement file (see the module doc)."""
    statement = Statement()
    content = content.removeprefix(UTF8_BOM).rstrip(_END_MARKS)
    if content.split(b"\n", 1)[0].strip() != MAGIC.encode():
        statement.problems.append(Problem("statement_magic", value=MAGIC))
        return statement
    text = _decoded(content)
    if text is None:
        statement.problems.append(Problem("statement_encoding"))
        return statement
    lines = text.splitlines()
    documents: list[tuple[int, dict[str, str]]] = []
    document: dict[str, str] | None = None
    started = 0
    ended = in_account = False
    for number, raw in enumerate(lines[1:], start=2):
        key, _sign, value = raw.strip().partition("=")
        key, value = key.strip(), value.strip()
        if ended and key:
            statement.problems.append(Problem("statement_after_end", number))
            break
        if key == "КонецФайла":
            ended = True
        elif key == "СекцияДокумент":
            if document is not None:
                break  # the previous document did not end: reported below
            document, started = {key: value}, number  # the kind of document
        elif key in ("СекцияРасчСчет", "КонецРасчСчет"):
            in_account = key == "СекцияРасчСчет"
        elif key == "КонецДокумента" and document is not None:
            documents.append((started, document))
            document = None
        elif document is not None:
            document.setdefault(key, value)
        elif key in ("ДатаНачала", "ДатаКонца") and not in_account:
            day = _day(value)
            name = "starts_on" if key == "ДатаНачала" else "ends_on"
            if day is None:
                statement.problems.append(Problem("statement_date", number, name, value))
            else:
                setattr(statement, name, day)
        elif key == "РасчСчет" and value and value not in statement.accounts:
            statement.accounts.append(value)
    if document is not None:
        statement.problems.append(Problem("statement_section", value=str(started)))
    elif not ended:
        statement.problems.append(Problem("statement_end"))
    for started, fields in documents:
        _document(statement, started, fields)
    return statement


def _decoded(content: bytes) -> str | None:
    """The text in the encoding its section names read in, or None."""
    for encoding in ("utf-8", "windows-1251", "cp866"):
        text = content.decode(encoding, errors="replace")
        if "КонецФайла" in text or "СекцияДокумент" in text or "Кодировка" in text:
            return text
    return None


def _document(statement: Statement, line: int, fields: dict[str, str]) -> None:
    recipient = fields.get("ПолучательСчет", "")
    if recipient not in statement.accounts:
        recipient = fields.get("ПолучательРасчСчет") or recipient
    received = _day(fields.get("ДатаПоступило", ""))
    credited = recipient in statement.accounts if statement.accounts else received is not None
    if not credited:
        statement.debits += 1
        return
    problems = []
    number = fields.get("Номер", "")
    if not number:
        problems.append(Problem("missing", line, "order_number"))
    dated = _day(fields.get("Дата", ""))
    if dated is None:
        problems.append(Problem("statement_date", line, "order_date", fields.get("Дата", "")))
    text = fields.get("Сумма", "").replace(",", ".")
    amount = Decimal(text) if _AMOUNT.fullmatch(text) else None
    if amount is None or amount <= 0:
        problems.append(Problem("statement_amount", line, "amount", fields.get("Сумма", "")))
    if problems:
        statement.problems += problems
        return
    assert dated is not None and amount is not None
    statement.credits.append(
        Credit(
            line=line,
            kind=fields["СекцияДокумент"],
            number=number,
            dated=dated,
            amount=amount,
            received_on=received,
            payer_name=fields.get("Плательщик1") or fields.get("Плательщик", ""),
            payer_inn=fields.get("ПлательщикИНН", ""),
            payer_account=fields.get("ПлательщикСчет", ""),
            recipient_account=recipient,
            purpose=fields.get("НазначениеПлатежа", ""),
        )
    )


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%d.%m.%Y").date()
    except ValueError:
        return None
