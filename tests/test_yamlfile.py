"""engine.yamlfile: the C parser reads what the round-trip parser reads, and errors keep their place."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import yamlfile
from engine.errors import InputError

from .conftest import ROOT

YAML_FILES = sorted(p for folder in ("rules", "plans", "tests/data") for p in (ROOT / folder).rglob("*.y*ml"))


def plain(value: Any) -> Any:
    """The round-trip parser's mappings and lists as dicts and lists, to compare with the C parser's."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def both(text: str) -> tuple[Any, Any]:
    return yamlfile._fast(text), plain(yamlfile._round_trip(text))


def test_the_c_parser_is_there() -> None:
    from ruamel.yaml import YAML

    assert YAML(typ="safe", pure=False).Parser.__module__.startswith("ruamel.yaml.clib"), "pip install ruamel.yaml.clib"


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_project_reads_the_same_both_ways(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast, slow = both(text)
    assert fast == slow
    assert isinstance(yamlfile.loads(text, path.name).data, yamlfile._Map | yamlfile._Seq)  # read by the C parser


def test_scalars_resolve_by_the_yaml_1_2_core_schema_both_ways() -> None:
    text = (
        "a: yes\nb: 2000-04-30\nc: 1:30\nd: 0o17\ne: 017\nf: ~\ng: 1e3\nh: '2000-04-30'\ni: 'no'\nj: off\n"
        "k: 2000-04-30T12:00:00Z\nl: 0x1F\nm: .inf\nn: TRUE\no: 1_000\n"
    )
    fast, slow = both(text)
    assert fast == slow
    assert fast["a"] == "yes" and fast["b"] == date(2000, 4, 30) and fast["c"] == "1:30" and fast["h"] == "2000-04-30"


def test_a_yaml_1_1_directive_is_read_by_the_round_trip_parser() -> None:
    doc = yamlfile.loads("%YAML 1.1\n---\nanswer: yes\n", "old.yaml")
    assert doc.data == {"answer": True} and not isinstance(doc.data, yamlfile._Map)


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("a: 1\na: 2\n", "f.yaml:2:1", "duplicate key 'a' (first at line 1)"),
        ("a: [1, 2\nb: 3\n", "f.yaml:2:2", "invalid YAML"),
        ("a: 2000-13-01\n", "f.yaml:1:4", "2000-13-01 is not a date"),
        ("a: \x07\n", "f.yaml:1:4", "is not allowed in YAML"),
        ("a: 1\n---\nb: 2\n", "f.yaml:2:1", "invalid YAML"),
    ],
)
def test_what_the_c_parser_refuses_is_explained_with_its_place(text: str, where: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        yamlfile.loads(text, "f.yaml")
    assert str(caught.value).startswith(where) and says in str(caught.value)


SAMPLE = """\
plan:
  id: x
  date: 2000-01-01
actions:
  - id: A.1
    title: first
    owner:
  - id: A.2
    title:   second
    schedule: {after: A.1, days: 3}
    tags: [a, b]
"""
PLACES = [
    (),
    ("plan",),
    ("plan", "date"),
    ("actions",),
    ("actions", 0),
    ("actions", 1, "title"),
    ("actions", 1, "schedule"),
    ("actions", 1, "schedule", "days"),
    ("actions", 1, "tags", 1),
    ("actions", 5),
    ("actions", -1),
    ("actions", 1, "nothing"),
    ("actions", 1, "title", "deeper"),
    ("plan", 0),
]


@pytest.mark.parametrize("loc", PLACES, ids=str)
def test_positions_are_the_round_trip_parsers(loc: tuple[str | int, ...]) -> None:
    fast, slow = yamlfile.loads(SAMPLE, "p.yaml"), yamlfile.Document("p.yaml", yamlfile._round_trip(SAMPLE))
    assert isinstance(fast.data, yamlfile._Map)
    assert fast.locate(loc) == slow.locate(loc)
    if loc:
        assert fast.locate_key(loc[:-1], loc[-1]) == slow.locate_key(loc[:-1], loc[-1])


def test_an_error_names_the_line_and_column_of_the_value() -> None:
    doc = yamlfile.loads(SAMPLE, "p.yaml")
    # An empty value is placed just after its key (the round-trip parser placed it at the next line's item).
    assert str(doc.locate(["actions", 0, "owner"])) == "p.yaml:7:11"
    assert str(doc.error(["actions", 1, "title"], "too short")) == "p.yaml:9:14: actions[1].title: too short"
    assert str(doc.locate_key(["actions", 1], "schedule")) == "p.yaml:10:5"


# Documents built from the scalars people write in plans and rules, dates, numbers and the words
# YAML 1.1 would have read as booleans among them, plainly or quoted, in blocks and flows.
WORDS = st.sampled_from(
    [
        "yes",
        "no",
        "on",
        "off",
        "true",
        "False",
        "null",
        "~",
        "2000-04-30",
        "2000-4-3",
        "1:30",
        "12:00",
        "0o17",
        "017",
        "0x1f",
        "1e3",
        "1_000",
        ".inf",
        "-.5",
        "+3",
        "By April 2000",
        "III.d.1",
        "a#b",
        "x: y",
        "- z",
        "'q'",
        '"d"',
        "@home",
        "%",
        "!x",
        "&a",
        "*a",
        "{",
        "[",
        "é",
        "2000-04-30 12:00",
        "2000-04-30T12:00:00Z",
        "",
    ]
)
SCALAR = st.one_of(WORDS, st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8))


def quoted(word: str, style: int) -> str:
    if style == 1:
        return "'" + word.replace("'", "''") + "'"
    if style == 2:
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = []
    for n in range(draw(st.integers(1, 6))):
        value = quoted(draw(SCALAR), draw(st.integers(0, 2)))
        shape = draw(st.integers(0, 3))
        if shape == 0:
            lines.append(f"k{n}: {value}")
        elif shape == 1:
            lines += [f"k{n}:", f"  - {value}", f"  - {quoted(draw(SCALAR), draw(st.integers(0, 2)))}"]
        elif shape == 2:
            lines.append(f"k{n}: [{value}, {quoted(draw(SCALAR), 1)}]")
        else:
            lines += [f"k{n}:", f"  inner: {value}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(documents())
def test_whatever_both_parsers_read_they_read_alike(text: str) -> None:
    try:
        fast = yamlfile._fast(text)
    except Exception:
        return
    try:
        slow = plain(yamlfile._round_trip(text))
    except ValueError:  # ruamel's own impossible dates: the C parser refused them too, never here
        pytest.fail(f"the C parser took what the round-trip parser refuses: {text!r}")
    assert fast == slow, text
