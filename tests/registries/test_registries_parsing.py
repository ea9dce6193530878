"""Reading registry files (kvit.registries.parsing): no database, no Django.

Each test feeds bytes in a layout and checks the lines, the per-line problems (their line
numbers, fields and codes) and what rejects the file.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, time
from decimal import Decimal

import pytest
from registry_bank import Pay, footer, sberbank

from kvit.core.periods import Period
from kvit.registries.parsing import (
    CSV,
    SBERBANK,
    Layout,
    Problem,
    Reader,
    Record,
    closing_footer,
    layout_problems,
    sniff,
)

ONE = Pay("OP-1", "000101", "1234.50", fee="12.35")


def read(content: bytes, layout: Layout = SBERBANK) -> tuple[list[Record], Reader]:
    reader = Reader(content, layout)
    return list(reader), reader


def codes(records: list[Record]) -> dict[int, list[tuple[str, str]]]:
    """The problems of the invalid records: line → [(code, field)]."""
    return {
        record.number: [(problem.code, problem.field) for problem in record.problems]
        for record in records
        if record.problems
    }


def file_codes(reader: Reader) -> list[tuple[str, int, str]]:
    return [(problem.code, problem.line, problem.field) for problem in reader.problems]


# --- the Sberbank layout (spec 6.2) ---------------------------------------------------------


def test_a_sberbank_line_reads_into_the_canonical_fields() -> None:
    records, reader = read(sberbank([ONE]))
    (record,) = records
    assert record.problems == ()
    line = record.line
    assert line is not None
    assert (line.number, line.external_id, line.account_number) == (1, "OP-1", "000101")
    assert (line.payer_name, line.address) == (
        "Иванов Иван Иванович",
        "г. Москва, ул. Ленина, д. 1",
    )
    assert (line.paid_on, line.paid_time, line.period) == (
        date(2024, 3, 5),
        time(12, 30),
        Period(2024, 2),
    )
    assert (line.amount, line.transferred, line.fee) == (
        Decimal("1234.50"),
        Decimal("1222.15"),
        Decimal("12.35"),
    )
    assert line.paid_at().isoformat() == "2024-03-05T12:30:00"
    assert line.paid_at(UTC).isoformat() == "2024-03-05T12:30:00+00:00"
    assert reader.problems == []
    assert reader.footer is not None
    assert (reader.footer.count, reader.footer.amount, reader.footer.order_number) == (
        1,
        Decimal("1234.50"),
        "4711",
    )
    assert reader.footer.order_date == date(2024, 3, 6)


@pytest.mark.parametrize("encoding", ["windows-1251", "koi8-r"])
def test_cyrillic_reads_in_the_layouts_encoding(encoding: str) -> None:
    records, reader = read(sberbank([ONE], encoding=encoding), replace(SBERBANK, encoding=encoding))
    assert records[0].line is not None
    assert records[0].line.payer_name == "Иванов Иван Иванович"
    assert reader.problems == []


def test_utf8_with_or_without_a_byte_order_mark() -> None:
    layout = replace(SBERBANK, encoding="utf-8")
    for content in (sberbank([ONE], encoding="utf-8"), sberbank([ONE], encoding="utf-8-sig")):
        records, reader = read(content, layout)
        assert records[0].line is not None
        assert records[0].line.paid_on == date(2024, 3, 5)  # the BOM is not part of the date
        assert reader.problems == []


def test_bytes_that_do_not_decode_name_the_line_and_the_byte() -> None:
    content = sberbank([ONE, Pay("OP-2", "000102")], encoding="utf-8")
    content = content.replace(b"OP-2", b"OP-\xff2")
    records, reader = read(content, replace(SBERBANK, encoding="utf-8"))
    assert records[0].line is not None
    assert codes(records) == {2: [("decode", "")]}
    problem = records[1].problems[0]
    assert (problem.value, problem.expected) == ("0xff", "utf-8")
    assert "OP-\ufffd2" in records[1].text  # kept as received, the byte replaced
    assert reader.problems == []  # its money was read: the footer still checks


@pytest.mark.parametrize("encoding", ["windows-1251", "utf-8", "koi8-r"])
def test_a_nul_makes_its_line_invalid_and_is_kept_replaced(encoding: str) -> None:
    pays = [ONE, Pay("OP-2", "000102"), Pay("OP-3", "000103")]
    content = sberbank(pays, encoding=encoding).replace(b"000102", b"000\x00102")
    records, reader = read(content, replace(SBERBANK, encoding=encoding))
    assert codes(records) == {2: [("nul", "")]}
    assert "000\ufffd102" in records[1].text and "\x00" not in records[1].text
    assert records[1].amount == Decimal("100.00")  # its money was read: the footer checks
    assert [record.line is not None for record in records] == [True, False, True]
    assert reader.problems == []


def test_a_line_that_neither_decodes_nor_is_free_of_nul_names_both() -> None:
    content = sberbank([ONE], encoding="utf-8").replace(b"OP-1", b"O\xffP\x00-1")
    records, _reader = read(content, replace(SBERBANK, encoding="utf-8"))
    assert codes(records) == {1: [("decode", ""), ("nul", "")]}
    assert "O\ufffdP\ufffd-1" in records[0].text


def test_a_decimal_comma_and_other_date_formats() -> None:
    layout = replace(SBERBANK, decimal_mark=",", date_format="%d.%m.%Y", time_format="%H:%M:%S")
    text = (
        "05.03.2024;09:15:00;1;2;3;OP-1;000101;Петров;;0224;150,5;149,00;1,50\n"
        "=1;150,50;149;1,5;1;\n"
    )
    records, reader = read(text.encode("cp1251"), layout)
    line = records[0].line
    assert line is not None
    assert (line.amount, line.fee, line.paid_time) == (
        Decimal("150.5"),
        Decimal("1.50"),
        time(9, 15),
    )
    assert reader.problems == []
    assert reader.footer is not None and reader.footer.order_date is None


@pytest.mark.parametrize(
    ("amount", "field", "code"),
    [
        ("12.345", "amount", "money"),  # a third decimal is not a kopeck
        ("1e3", "amount", "money"),
        ("1 234.00", "amount", "money"),
        ("12,50", "amount", "money"),  # the layout's mark is "."
        ("", "amount", "missing"),
    ],
)
def test_an_unreadable_amount_invalidates_the_line_and_rejects_a_footer_file(
    amount: str, field: str, code: str
) -> None:
    bad = Pay("OP-2", "000102", "100.00")
    lines = [";".join(ONE.cells()), ";".join([*bad.cells()[:10], amount, "99.00", "1.00"])]
    content = ("\n".join([*lines, footer([ONE, bad])]) + "\n").encode("cp1251")
    records, reader = read(content)
    assert codes(records) == {2: [(code, field)]}
    assert records[1].amount is None
    # Its amount cannot be summed: the footer's totals cannot be checked.
    assert file_codes(reader) == [("footer_unreadable", 2, "")]


def test_with_a_decimal_comma_a_point_is_not_read_as_one() -> None:
    layout = replace(CSV, decimal_mark=",", separator=";")
    text = (
        "external_id;paid_on;account_number;amount;fee;transferred;readings\n"
        "A-1;2024-03-05;1;10,00;0,10;9,90;SN;12,5;SN;12.5\n"
        "A-2;2024-03-05;1;10.00;x;;\n"
        "A-3;2024-03-05;1;10,00;0,10;9.90\n"
    )
    records, reader = read(text.encode(), layout)
    first = records[0].line
    assert first is not None
    assert [pair.value for pair in first.readings] == [Decimal("12.5"), None]
    assert codes(records) == {
        3: [("money", "amount"), ("money", "fee")],
        4: [("money", "transferred")],
    }
    assert reader.totals.unreadable == [3, 4]


def test_without_a_footer_an_unreadable_amount_only_invalidates_its_line() -> None:
    content = sberbank([ONE, Pay("OP-2", "000102", "1x", fee="0", transferred="1")], foot="")
    records, reader = read(content, replace(SBERBANK, footer="none"))
    assert codes(records) == {2: [("money", "amount")]}
    assert reader.problems == []


@pytest.mark.parametrize(
    ("pay", "expected"),
    [
        (Pay("OP-2", "000102", "0.00", fee="0.00"), [("not_positive", "amount")]),
        (Pay("OP-2", "000102", "-50.00", fee="0.00"), [("not_positive", "amount")]),
        (Pay("OP-2", "000102", "10.00", fee="-1.00"), [("negative_fee", "fee")]),
        (Pay("OP-2", "000102", "10.00", fee="11.00"), [("fee_over_amount", "fee")]),
        (Pay("OP-2", "000102", paid_on="31-02-2024"), [("date", "paid_on")]),
        (Pay("OP-2", "000102", paid_on="2024-03-05"), [("date", "paid_on")]),
        (Pay("OP-2", "000102", paid_on=""), [("missing", "paid_on")]),
        (Pay("OP-2", "000102", paid_time="25-00-00"), [("time", "paid_time")]),
        (Pay("OP-2", "000102", period="1324"), [("period", "period")]),
        (Pay("", "000102"), [("missing", "external_id")]),
    ],
    ids=[
        "zero",
        "negative",
        "negative-fee",
        "fee-over-amount",
        "no-such-day",
        "other-date-format",
        "no-date",
        "bad-time",
        "bad-period",
        "no-operation-number",
    ],
)
def test_a_malformed_line_is_reported_with_its_number_and_field(
    pay: Pay, expected: list[tuple[str, str]]
) -> None:
    records, reader = read(sberbank([ONE, pay, Pay("OP-3", "000103")]))
    assert codes(records) == {2: expected}
    assert [record.line is not None for record in records] == [True, False, True]
    assert records[1].text.startswith(pay.cells()[0])
    assert reader.problems == []  # the money of every line was read and adds up


def test_an_empty_account_number_is_not_a_problem_here() -> None:
    records, _reader = read(sberbank([Pay("OP-1", "")]))
    assert records[0].line is not None and records[0].line.account_number == ""


def test_blank_lines_are_skipped_and_numbers_stay_the_files() -> None:
    content = sberbank([ONE]).replace(b"\r\n", b"\r\n\r\n", 1)
    records, reader = read(content)
    assert [record.number for record in records] == [1]
    assert reader.problems == []
    content = b"\r\n" + sberbank([Pay("OP-1", "1", paid_on="x")])
    records, _reader = read(content)
    assert codes(records) == {2: [("date", "paid_on")]}


# --- the footer: what rejects the whole file ------------------------------------------------


def test_a_footer_whose_count_or_totals_differ_rejects_the_file() -> None:
    pays = [ONE, Pay("OP-2", "000102")]
    _records, reader = read(sberbank(pays, foot="=3;1334.50;1321.15;13.35;1;06-03-2024"))
    assert file_codes(reader) == [("footer_count", 0, "")]
    _records, reader = read(sberbank(pays, foot="=2;1334.51;1321.15;13.36;1;06-03-2024"))
    assert file_codes(reader) == [("footer_sum", 0, "amount"), ("footer_sum", 0, "fee")]
    assert (reader.problems[0].value, reader.problems[0].expected) == ("1334.50", "1334.51")


def test_a_line_whose_amount_is_not_transferred_plus_fee_rejects_the_file() -> None:
    bad = Pay("OP-2", "000102", "100.00", fee="1.00", transferred="98.00")
    _records, reader = read(sberbank([ONE, bad]))
    assert file_codes(reader)[0] == ("line_sum", 2, "amount")


def test_a_file_cut_short_has_no_footer_and_is_rejected() -> None:
    content = sberbank([ONE, Pay("OP-2", "000102")])
    cut = content[: content.index(b"\r\n=") + 2]
    _records, reader = read(cut)
    assert file_codes(reader) == [("no_footer", 0, "")]
    half = content[: len(content) // 2]  # cut inside a line
    _records, reader = read(half)
    assert file_codes(reader) == [("no_footer", 0, "")]


def test_text_after_the_footer_rejects_the_file() -> None:
    content = sberbank([ONE]) + sberbank([Pay("OP-2", "000102")])
    _records, reader = read(content)
    assert file_codes(reader) == [("after_footer", 3, "")]


@pytest.mark.parametrize(
    ("foot", "expected"),
    [
        ("=1;1234.50", [("footer_short", 2, "")]),
        ("=one;1234.50;1222.15;12.35", [("footer_field", 2, "count")]),
        ("=1;1234,50;1222.15;12.35", [("footer_field", 2, "amount")]),
        ("=1;1234.50;1222.15;12.35;7;2024-03-06", [("footer_field", 2, "order_date")]),
    ],
)
def test_a_malformed_footer_rejects_the_file(
    foot: str, expected: list[tuple[str, int, str]]
) -> None:
    _records, reader = read(sberbank([ONE], foot=foot))
    assert file_codes(reader) == expected
    assert reader.footer is None


def test_the_totals_count_every_line_also_the_invalid_ones() -> None:
    pays = [ONE, Pay("OP-2", "000102", paid_on="bad"), Pay("OP-3", "000103", "0.00", fee="0")]
    records, reader = read(sberbank(pays))
    assert reader.problems == []
    assert reader.totals.count == 3
    assert reader.totals.amount == Decimal("1334.50")
    assert sorted(codes(records)) == [2, 3]


# --- generic CSV --------------------------------------------------------------------------


CSV_HEADER = "external_id,paid_on,paid_time,account_number,payer_name,address,amount,fee,period"


def test_csv_names_its_fields_in_a_header_row_and_quotes_what_it_must() -> None:
    text = (
        f"{CSV_HEADER}\r\n"
        'A-1,2024-03-05,10:00:00,000101,"Иванов, Иван","ул. Ленина, 1\r\nкв. 5",'
        "100.00,1.00,2024-02\r\n"
        "A-2,2024-03-05,,000102,,,50,,\r\n"
    )
    records, reader = read(text.encode("utf-8-sig"), CSV)
    assert reader.problems == []
    first, second = (record.line for record in records)
    assert first is not None and second is not None
    assert (first.payer_name, first.address) == ("Иванов, Иван", "ул. Ленина, 1\r\nкв. 5")
    assert (first.period, first.fee, first.transferred) == (
        Period(2024, 2),
        Decimal("1.00"),
        Decimal("99.00"),
    )
    assert (second.number, second.paid_time, second.fee) == (4, None, Decimal("0.00"))


def test_csv_readings_follow_the_readings_column() -> None:
    text = (
        "external_id,paid_on,account_number,amount,readings\n"
        "A-1,2024-03-05,000101,100,SN-1,12.5,SN-2,007.125\n"
        "A-2,2024-03-05,000101,100,SN-1,x,,5,SN-3\n"
    )
    records, _reader = read(text.encode(), CSV)
    first, second = (record.line for record in records)
    assert first is not None and second is not None
    assert [(pair.meter, pair.value) for pair in first.readings] == [
        ("SN-1", Decimal("12.5")),
        ("SN-2", Decimal("7.125")),
    ]
    assert [(pair.meter, pair.problem and pair.problem.code) for pair in second.readings] == [
        ("SN-1", "reading_value"),
        ("", "reading_meter"),
        ("SN-3", "reading_value"),
    ]


def test_sberbank_readings_are_meter_and_value_pairs_from_column_14() -> None:
    records, _reader = read(sberbank([Pay("OP-1", "000101", readings=("SN-1", "345.120", "", ""))]))
    line = records[0].line
    assert line is not None
    assert [(pair.meter, pair.value, pair.problem) for pair in line.readings] == [
        ("SN-1", Decimal("345.120"), None)
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("external_id,paid_on,account_number", [("header_missing", 1, "amount")]),
        ("external_id,paid_on,account_number,amount,ammount", [("header_unknown", 1, "")]),
        ("external_id,paid_on,account_number,amount,amount", [("header_twice", 1, "")]),
    ],
)
def test_a_csv_header_must_name_the_required_fields_and_only_known_ones(
    header: str, expected: list[tuple[str, int, str]]
) -> None:
    records, reader = read(f"{header}\nA-1,2024-03-05,000101,1\n".encode(), CSV)
    assert records == []
    assert file_codes(reader) == expected


def test_a_csv_without_even_a_header_is_rejected() -> None:
    _records, reader = read(b"\n\n", CSV)
    assert file_codes(reader) == [("no_header", 0, "")]


def test_an_unterminated_quote_is_a_malformed_file() -> None:
    text = 'external_id,paid_on,account_number,amount\nA-1,2024-03-05,"000101,1\n'
    _records, reader = read(text.encode(), CSV)
    assert file_codes(reader) == [("malformed", 2, "")]  # where the broken record begins


def test_lines_to_skip_before_the_header() -> None:
    text = (
        "Реестр платежей\nза март\nexternal_id;paid_on;account_number;amount;\nA;2024-03-05;1;5\n"
    )
    layout = replace(CSV, separator=";", header_lines=2, encoding="koi8-r")
    records, reader = read(text.encode("koi8-r"), layout)
    assert reader.problems == []
    assert [record.number for record in records] == [4]


def test_a_field_the_layout_has_no_column_for_reads_empty() -> None:
    layout = Layout(columns={"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 4})
    records, _reader = read(b"05-03-2024;X;1;10;spare;more\n", layout)
    line = records[0].line
    assert line is not None
    assert (line.payer_name, line.fee, line.period, line.readings) == (
        "",
        Decimal("0.00"),
        None,
        (),
    )


# --- what is not a registry at all; layouts ---------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b" \r\n", "empty"),
        (b"PK\x03\x04\x14\x00", "binary"),
        (b"%PDF-1.7", "binary"),
        (b"05-03-2024;\x00;", "binary"),
        (b'\n  <svg onload="alert(1)"/>', "markup"),
        (b"\xef\xbb\xbf<html>", "markup"),
    ],
)
def test_sniff_refuses_what_is_plainly_not_a_text_registry(content: bytes, code: str) -> None:
    found = sniff(content)
    assert found is not None and found.code == code


def test_sniff_lets_a_registry_through() -> None:
    assert sniff(sberbank([ONE])) is None


def test_the_presets_are_valid_layouts() -> None:
    assert layout_problems(SBERBANK) == []
    assert layout_problems(CSV) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"encoding": "latin-1"}, [("layout_encoding", "encoding")]),
        ({"decimal_mark": "'"}, [("layout_mark", "decimal_mark")]),
        ({"separator": ";;"}, [("layout_separator", "separator")]),
        ({"separator": "a"}, [("layout_separator", "separator")]),
        ({"separator": "."}, [("layout_separator_mark", "separator")]),
        ({"footer": "vtb"}, [("layout_footer", "footer")]),
        ({"date_format": "%d-%m"}, [("layout_format", "date_format")]),
        ({"date_format": "%Q"}, [("layout_format", "date_format")]),
        ({"time_format": "%H"}, [("layout_format", "time_format")]),
        ({"period_format": ""}, [("layout_format", "period_format")]),
        (
            {"columns": {"paid_on": 1, "external_id": 2, "amount": 3}},
            [("layout_missing_field", "account_number")],
        ),
        (
            {
                "columns": {
                    "paid_on": 1,
                    "external_id": 2,
                    "account_number": 3,
                    "amount": 4,
                    "sum": 5,
                }
            },
            [("layout_unknown_field", "sum")],
        ),
        (
            {"columns": {"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 0}},
            [("layout_column_number", "")],
        ),
        (
            {"columns": {"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 3}},
            [("layout_column_twice", "")],
        ),
        ({"readings_from": 13}, [("layout_column_twice", "")]),
        (
            {
                "readings_from": 12,
                "columns": {"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 14},
            },
            [("layout_readings_first", "")],
        ),
    ],
)
def test_layout_problems_name_the_setting(
    changes: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    layout = replace(SBERBANK, **changes)  # type: ignore[arg-type]
    assert [(p.code, p.field) for p in layout_problems(layout)] == expected


def test_a_header_layout_needs_no_columns() -> None:
    assert layout_problems(Layout(header_names=True, separator=",")) == []
    fixed = Layout(columns={"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 4})
    assert layout_problems(fixed) == []


def test_problems_are_values() -> None:
    assert Problem("missing", 3, "amount") == Problem("missing", 3, "amount", "", "")


def test_the_closing_footer_is_read_ahead_of_the_lines() -> None:
    pays = [Pay("OP-1", "1001"), Pay("OP-2", "1002")]
    found = closing_footer(sberbank(pays), replace(SBERBANK, header_lines=1))
    assert found is not None
    assert (found.count, found.order_number, found.order_date) == (2, "4711", date(2024, 3, 6))
    assert closing_footer(sberbank(pays, foot="=2;x;y"), SBERBANK) is None  # unreadable
    assert closing_footer(sberbank(pays, foot=";".join(pays[0].cells())), SBERBANK) is None
    assert closing_footer(sberbank(pays), CSV) is None  # a layout without footers
