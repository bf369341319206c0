"""check_nesting measures JSON and XML depth the way the parsers will read the text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_client.nesting import MAX_DEPTH, NestingTooDeepError, check_nesting

# Strings full of what could fool a scanner: brackets, quotes, backslashes, non-ASCII.
TRICKY_TEXT = st.text(alphabet=st.sampled_from('[]{}"\\\\/"\'<>aé€😀\n\t\x00'), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=40,
)


def depth(value: Any) -> int:
    """How many arrays and objects enclose the deepest value."""
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def nests_within(data: str | bytes, limit: int) -> bool:
    try:
        check_nesting(data, limit)
    except NestingTooDeepError:
        return False
    return True


@given(JSON_VALUES, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32"]))
def test_json_depth_is_measured_exactly_whatever_the_strings_and_encoding_hold(
    value: Any, encoding: str
) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        data = text.encode(encoding, "surrogatepass")
        assert json.loads(data) == value  # the parser reads these bytes as this value
        levels = depth(value)
        assert nests_within(data, levels)
        assert levels == 0 or not nests_within(data, levels - 1)


def test_json_at_the_limit_passes_and_one_level_more_is_refused() -> None:
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert nests_within(at_limit, MAX_DEPTH)
    with pytest.raises(NestingTooDeepError, match="JSON document nests deeper than 64 levels"):
        check_nesting("[" + at_limit + "]")


def test_brackets_inside_json_strings_do_not_count() -> None:
    body = json.dumps({"codes": ["[" * 100_000, '\\"{' * 1000, "]" * 10]})
    assert nests_within(body, 2) and not nests_within(body, 1)


def test_unclosed_json_brackets_count_as_nesting() -> None:
    # the parser would descend into every one of them before it noticed the missing ends
    assert not nests_within(b"{" * 100_000, MAX_DEPTH)
    assert not nests_within(b'{"a":' * 100_000, MAX_DEPTH)


def test_malformed_json_that_does_not_nest_deep_passes_to_the_parser() -> None:
    for text in (b"", b"{not json", b"]]]]" * 1000, b'"unterminated [[[[[[', b"\xff\xfe\xfd"):
        assert nests_within(text, 1)


def test_xml_depth_counts_elements_only() -> None:
    inner = "<![CDATA[<x><x><x>]]><!-- <x><x> --><?pi <x>?>"
    doc = "<?xml version='1.0'?>\n" + "<a b='&lt;c&gt;'>" * 3 + inner + "</a>" * 3
    assert nests_within(doc, 3) and not nests_within(doc, 2)


def test_xml_at_the_limit_passes_and_one_level_more_is_refused() -> None:
    at_limit = b"<a>" * MAX_DEPTH + b"</a>" * MAX_DEPTH
    assert nests_within(at_limit, MAX_DEPTH)
    with pytest.raises(NestingTooDeepError, match="XML document nests deeper than 64 levels"):
        check_nesting(b"  <r>" + at_limit + b"</r>")


def test_xml_in_utf16_is_read_in_its_encoding() -> None:
    doc = ("<?xml version='1.0' encoding='UTF-16'?>" + "<a>" * 70 + "</a>" * 70).encode("utf-16")
    assert not nests_within(doc.removeprefix(b"\xff\xfe"), MAX_DEPTH)


def test_xml_entities_are_not_expanded_while_measuring() -> None:
    laughs = "".join(
        f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' if i else '<!ENTITY l0 "lol">'
        for i in range(10)
    )
    doc = f"<!DOCTYPE r [{laughs}]><r>&l9;</r>"
    assert nests_within(doc, 1)


def test_malformed_xml_that_does_not_nest_deep_passes_to_the_parser() -> None:
    assert nests_within(b"<a><b></a>", 2)
    assert not nests_within(b"<a>" * 100 + b"</b>", MAX_DEPTH)
