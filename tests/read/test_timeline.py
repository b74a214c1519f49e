"""The timeline picture: lanes per Part, one mark per action shaped by its schedule, coloured by its state."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

from engine.read.report import build_report, render_html, render_markdown
from engine.read.report_model import ActionLine, IssueBlock, PartBlock, Report
from engine.read.timeline import COLOURS, render_svg
from engine.store import transaction
from engine.store.models import Plan

from ..web_support import web_world

SVG = "{http://www.w3.org/2000/svg}"
PLAN = Plan(id="p", title="A plan", symbol="GB.1/X/1", ref_date=date(2000, 1, 15), timezone="UTC")


def line(ref: str, state: str = "on track", **given: object) -> ActionLine:
    values: dict[str, object] = dict(title=f"title of {ref}", owner="o", kind="deadline", start=None, due=None)
    values.update(given)
    return ActionLine(ref=ref, state=state, **values)  # type: ignore[arg-type]


def report_of(*lines: ActionLine, as_of: date = date(2000, 6, 1)) -> Report:
    return Report(PLAN, as_of, [PartBlock("I", "Part one", [IssueBlock("1", "Issue", list(lines))])], [])


def marks(svg: str) -> dict[str, ElementTree.Element]:
    """Return the marks of the picture by action id (the first word of their label)."""
    root = ElementTree.fromstring(svg)
    return {el.get("aria-label", "").split(" ")[0]: el for el in root.iter() if el.get("aria-label")}


def test_the_example_plan_svg_is_well_formed(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        report = build_report(s, "gb276-tc2", date(2000, 12, 31))
    engine.dispose()
    svg = render_svg(report, {"I.1a.2": "FREQ=YEARLY"})
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert svg.count("Part I") >= 1 and ">31 Dec 2000</text>" in svg
    lanes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert len(lanes) == 3  # one lane per Part
    assert len(marks(svg)) == len([x for x in report.lines() if x.due or x.start or x.ref == "I.1a.2"])


def test_the_shape_follows_the_schedule_and_the_colour_the_state() -> None:
    svg = render_svg(
        report_of(
            line("A.1", "overdue", due=date(2000, 3, 1), days_overdue=92),
            line("A.2", "done", kind="window", start=date(2000, 2, 1), due=date(2000, 5, 1)),
            line("A.3", "on hold", kind="start", start=date(2000, 4, 1)),
            line("A.4", "unscheduled", kind="unscheduled"),
        )
    )
    found = marks(svg)
    assert found["A.1"].tag == f"{SVG}path" and found["A.1"].get("fill") == COLOURS["overdue"]
    assert found["A.2"].tag == f"{SVG}rect" and found["A.2"].get("fill") == COLOURS["done"]
    assert float(found["A.2"].get("width", "0")) > 2  # a bar from start to due
    assert found["A.3"].tag == f"{SVG}circle" and found["A.3"].get("stroke") == COLOURS["on hold"]
    assert "A.4" not in found  # nothing to draw without a day
    assert found["A.1"].get("aria-label") == "A.1 title of A.1: overdue by 92 days, due 1 March 2000"


def test_a_recurring_action_gets_one_tick_per_occurrence_inside_the_span() -> None:
    recurring = line("R.1", kind="recurring", recurring=True)
    with_rule = marks(render_svg(report_of(recurring), {"R.1": "FREQ=MONTHLY"}))
    ticks = list(with_rule["R.1"].iter(f"{SVG}line"))
    # From the plan's day (15 January 2000, not counted) to the end of 2000: 15 February ... 15 December.
    assert len(ticks) == 11
    assert "R.1" not in marks(render_svg(report_of(recurring)))  # no rule, no ticks


def test_the_day_line_sits_at_the_report_day_and_later_days_lie_further_right() -> None:
    def positions(svg: str) -> tuple[float, float, float]:
        found = marks(svg)
        root = ElementTree.fromstring(svg)
        dashed = next(el for el in root.iter(f"{SVG}line") if el.get("stroke-dasharray"))
        early, late = (float(found[r].get("d", "M0").split()[0].removeprefix("M")) for r in ("E.1", "E.2"))
        return early, float(dashed.get("x1", "0")), late

    early, today, late = positions(
        render_svg(report_of(line("E.1", due=date(2000, 3, 1)), line("E.2", due=date(2000, 9, 1))))
    )
    assert early < today < late  # 1 March < 1 June < 1 September


def test_titles_with_markup_are_escaped() -> None:
    evil = line("X.1", title='<script>alert("x")</script> & co', due=date(2000, 3, 1))
    svg = render_svg(report_of(evil))
    assert "<script>" not in svg
    mark = marks(svg)["X.1"]
    label = mark.get("aria-label")
    assert label == 'X.1 <script>alert("x")</script> & co: on track, due 1 March 2000'  # the text survives, as text
    title = mark.find(f"{SVG}title")
    assert title is not None and title.text == label  # the tooltip says the same, escaped once (no &amp;amp;)
    assert "&amp;amp;" not in svg and "&amp;lt;" not in svg


def test_every_mark_is_a_named_focusable_image_and_the_picture_does_not_hide_them() -> None:
    svg = render_svg(
        report_of(
            line("M.1", due=date(2000, 3, 1)),
            line(
                "M.2",
                "needs attention",
                alerts=("check-in unanswered",),
                kind="window",
                start=date(2000, 2, 1),
                due=date(2000, 5, 1),
            ),
            line("M.3", kind="start", start=date(2000, 4, 1)),
            line("M.4", kind="recurring", recurring=True),
        ),
        {"M.4": "FREQ=MONTHLY"},
    )
    root = ElementTree.fromstring(svg)
    assert root.get("role") != "img"  # an image root would hide every mark's name from screen readers
    found = marks(svg)
    assert set(found) == {"M.1", "M.2", "M.3", "M.4"}
    for ref, mark in found.items():
        assert (mark.get("role"), mark.get("tabindex"), mark.get("class")) == ("img", "0", "mark"), ref
        title = mark.find(f"{SVG}title")
        assert title is not None and title.text == mark.get("aria-label"), ref
    assert found["M.2"].get("aria-label", "").endswith(": check-in unanswered, due 1 May 2000")


def texts(svg: str) -> list[tuple[float, str]]:
    return [(float(t.get("x", "0")), t.text or "") for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]


def test_year_labels_stay_inside_the_picture_and_short_plans_get_month_ticks() -> None:
    short = render_svg(
        report_of(line("S.1", due=date(2000, 3, 10)), line("S.2", due=date(2000, 4, 20)), as_of=date(2000, 3, 15))
    )
    labels = texts(short)
    assert all(x < 960 for x, _ in labels)  # nothing starts at the right edge, where it would be cut off
    assert [text for _, text in labels if text.isdigit() and len(text) == 4] == ["2000"]
    months = [el for el in ElementTree.fromstring(short).iter(f"{SVG}line") if el.get("class") == "month"]
    assert len(months) == 11  # 1 February ... 1 December (1 January has the year's line)
    assert [t for _, t in labels if t in ("Feb", "Mar", "Apr", "Dec")] == ["Feb", "Mar", "Apr", "Dec"]
    long = render_svg(report_of(line("L.1", due=date(2005, 3, 10))))
    assert not [el for el in ElementTree.fromstring(long).iter(f"{SVG}line") if el.get("class") == "month"]
    assert [t for _, t in texts(long) if t.isdigit() and len(t) == 4] == [str(y) for y in range(2000, 2006)]
    late_day = render_svg(report_of(line("D.1", due=date(2000, 3, 1)), as_of=date(2000, 12, 30)))
    day_label = next(el for el in ElementTree.fromstring(late_day).iter(f"{SVG}text") if el.text == "30 Dec 2000")
    assert day_label.get("text-anchor") == "end"  # the day's label near the right edge reads leftwards


def test_the_timeline_speaks_the_readers_language() -> None:
    plan = Plan(id="p", title="t", symbol="GB.1", ref_date=date(2000, 1, 1), timezone="UTC")
    late = ActionLine("A.1", "titre", "o", "overdue", "deadline", None, date(2000, 3, 1), days_overdue=2)
    report = Report(plan, date(2000, 3, 3), [PartBlock("I", "Partie", [IssueBlock("1", "x", [late])])], [])
    svg = render_svg(report, None, "fr")
    assert "Chronologie de GB.1 au 3 mars 2000" in svg and ">Partie I</text>" in svg and ">févr.</text>" in svg
    assert 'aria-label="A.1 titre : en retard de 2 jours, échéance le 1er mars 2000"' in svg
    assert ">suspendue</text>" in svg


def test_a_plan_without_a_symbol_is_named_by_its_title() -> None:
    plan = Plan(id="plan", title="Plan de acción 2027", symbol="", ref_date=date(2027, 1, 15), timezone="UTC")
    report = Report(plan, date(2027, 10, 31), [PartBlock("I", "Parte", [IssueBlock("1", "x", [line("R1")])])], [])
    svg = render_svg(report, None, "es")
    assert "Cronología de Plan de acción 2027 al 31 de octubre de 2027" in svg and "Cronología de  al" not in svg
    assert ">31 oct 2027</text>" in svg and "2027-10-31" not in svg  # the day's line says the day in words
    assert render_markdown(report, "es").startswith("# Informe de situación: Plan de acción 2027\n")
    page = render_html(report, language="es")
    assert "Informe de situación: Plan de acción 2027</h1>" in page and "Informe de situación: <" not in page
