"""The schedules of a plan's rows as a list beside them (what a large import holds): the same fields as by id,
event proposals found by position, and every chain of actions that follow one another followed to its end."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.actions.resolve import resolve_plan, resolve_rows
from engine.plandoc import ActionRow, SectionRow

REF_DATE = date(1999, 9, 28)
SECTIONS = [
    SectionRow("II", None, "part", "II", "Field structure"),
    SectionRow("II.1", "II", "issue", "1", "Review of the field structure"),
    SectionRow("II.2", "II", "issue", "2", "Staff development"),
]
PHRASES = ["By 31 March 2000", "Ongoing", "Linked to review of field structure", "By December 2000", ""]


def _chain_end_due(rows: list[ActionRow], out: dict[str, dict[str, Any]], at: int) -> date | None:
    """The due date a row that follows others ends with, found by walking the ids one by one (the oracle)."""
    fields = out[rows[at].ref]
    seen = [rows[at].ref]
    target = fields["after_ref"]
    while target is not None and target in out and target not in seen:
        seen.append(target)
        if out[target]["after_ref"] is None:
            break
        target = out[target]["after_ref"]
    if target is not None and target in out:
        return out[target]["due"]
    return None


@st.composite
def plans(draw: st.DrawFn) -> list[ActionRow]:
    count = draw(st.integers(1, 12))
    rows = []
    for n in range(count):
        section = draw(st.sampled_from(["II.1", "II.2"]))
        phrase = draw(st.sampled_from(PHRASES))
        override: dict[str, Any] = {}
        if draw(st.booleans()):  # follows another row of the plan, itself, or an id the plan lacks
            override["after"] = f"II.9.{draw(st.integers(0, count))}"
        if draw(st.integers(0, 3)) == 0:
            override["due"] = f"2000-0{draw(st.integers(1, 9))}-15"
        rows.append(
            ActionRow(
                ref=f"II.9.{n}",
                section_key=section,
                ordinal=n + 1,
                title=f"Action {n}",
                timeframe=phrase,
                timeframe_proposed=None if phrase else "Ongoing",
                override=override,
            )
        )
    return rows


@settings(max_examples=300, deadline=None)
@given(plans(), st.booleans())
def test_the_list_holds_what_the_index_by_id_holds_and_chains_end_where_the_ids_lead(
    rows: list[ActionRow], shared: bool
) -> None:
    listed = resolve_rows(rows, SECTIONS, REF_DATE, shared=shared)
    by_id = resolve_plan(rows, SECTIONS, REF_DATE)
    assert len(listed) == len(rows)
    assert listed == [by_id[row.ref] for row in rows]
    for at, (row, fields) in enumerate(zip(rows, listed, strict=True)):
        if fields["after_ref"] is not None and (end := _chain_end_due(rows, by_id, at)) is not None:
            assert fields["due"] == end, row.ref


def test_rows_that_read_alike_share_their_fields_and_those_that_change_have_their_own() -> None:
    rows = [
        ActionRow(ref=f"II.1.{n}", section_key="II.1", ordinal=n, title="t", timeframe="By 31 March 2000")
        for n in range(1, 4)
    ] + [ActionRow(ref="II.2.1", section_key="II.2", ordinal=4, title="t", timeframe=PHRASES[2])]
    listed = resolve_rows(rows, SECTIONS, REF_DATE, shared=True)
    assert listed[0] is listed[1] is listed[2]
    assert listed[3] is not listed[0] and listed[3]["after_ref"] == "II.1.1"  # proposed, found by position
    assert listed[3]["due"] == date(2000, 3, 31)


def test_a_long_chain_of_rows_each_following_the_one_before_takes_the_first_ones_date() -> None:
    rows = [ActionRow(ref="II.1.0", section_key="II.1", ordinal=1, title="t", timeframe="By 31 March 2000")]
    rows += [
        ActionRow(
            ref=f"II.1.{n}",
            section_key="II.1",
            ordinal=n + 1,
            title="t",
            timeframe="Ongoing",
            override={"after": f"II.1.{n - 1}"},
        )
        for n in range(1, 300)
    ]
    listed = resolve_rows(rows, SECTIONS, REF_DATE, shared=True)
    assert {fields["due"] for fields in listed} == {date(2000, 3, 31)}
