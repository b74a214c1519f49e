"""The implementation report as words (``engine.read.implementation_text``): the numbered paragraphs, the
tables, Markdown, CSV and the printable HTML, from a hand-made report (pure)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from engine.read.extension_history import Extension
from engine.read.implementation import Changes, ImplementationReport, Row, Update, tally
from engine.read.implementation_text import (
    CSV_FIELDS,
    paragraphs,
    render_body,
    render_csv,
    render_html,
    render_markdown,
    sections,
)
from engine.read.report import TemplateRefused
from engine.store.models import Plan

PLAN = Plan(id="p", title="A plan | with *markup*", symbol="GB.276/TC/2", ref_date=date(1999, 9, 28),
            timezone="Europe/Zurich", body="Committee on Technical Cooperation")  # fmt: skip
BASE = Row(
    ref="I.1", title="Guidelines", part="Part I: Relevance", owner="Jonas Lindqvist", owner_id="program",
    unit="Jonas Lindqvist", acceptance="accepted", status="open", recurring=False, due=date(2000, 4, 30),
    extended_to=None, extensions=0, days_added=0, overdue_days=0, band="", delay_cause="", owner_rating="",
    verifier_rating="", verified_on=None,
)  # fmt: skip
ROWS = [
    BASE._replace(
        status="implemented",
        owner_rating="implemented",
        verifier_rating="partially_implemented",
        verified_on=date(2000, 5, 2),
        update=Update(date(2000, 4, 28), 80, "guidelines | sent to the printer", "Jonas Lindqvist"),
    ),
    BASE._replace(
        ref="I.2",
        acceptance="partially_accepted",
        status="reported",
        owner_rating="implemented",
    ),
    BASE._replace(
        ref="II.1",
        part="Part II: Quality",
        owner="Mei Tanaka",
        owner_id="codev",
        unit="Mei Tanaka",
        due=date(2000, 1, 31),
        overdue_days=517,
        band="12 to 24 months",
        delay_cause="resources",
    ),
    BASE._replace(
        ref="II.2",
        part="Part II: Quality",
        owner="Somchai Prasert",
        owner_id="ro-bangkok",
        unit="Mei Tanaka",
        due=date(2000, 12, 31),
        extended_to=date(2001, 3, 31),
        extensions=2,
        days_added=90,
        overdue_days=91,
        band="under 6 months",
        delay_cause="other",
    ),
    BASE._replace(ref="III.1", part="Part III: Partners", acceptance="not_accepted"),
    BASE._replace(ref="III.2", part="Part III: Partners", acceptance="under_consideration"),
    BASE._replace(ref="III.3", part="Part III: Partners", status="open", recurring=True, due=None),
]
EARLIER = [r._replace(status="open", overdue_days=0, extensions=0) for r in ROWS]
GRANTED = [
    (
        "II.2",
        Extension(
            datetime(2000, 12, 1, 11, tzinfo=UTC),
            date(2000, 12, 31),
            date(2001, 1, 31),
            "Mei Tanaka",
            "Somchai Prasert",
            None,
            "floods",
        ),
    ),
    ("II.2", Extension(datetime(2001, 1, 20, 11, tzinfo=UTC), date(2001, 1, 31), date(2001, 3, 31), "Mei Tanaka")),
]
REPORT = ImplementationReport(
    PLAN, date(2001, 6, 30), ROWS,
    Changes(date(2000, 12, 31), ("I.1",), ("II.1", "II.2"), ("II.2",), ("I.2",), tally("whole plan", EARLIER)),
    GRANTED,
)  # fmt: skip


def test_the_paragraphs_state_the_figures_in_sentences() -> None:
    said = paragraphs(REPORT)
    assert said[0].startswith("This report gives the state of implementation of A plan | with *markup* (GB.276/TC/2)")
    assert "30 June 2001" in said[0] and "since 31 December 2000" in said[0]
    assert said[1].startswith(
        "Of the 7 actions in the plan, 4 accepted, 1 partially accepted, 1 not accepted and 1 under consideration."
    )
    assert "Of the 4 accepted actions" in said[2] and "1 was implemented" in said[2] and "rate of 25%." in said[2]
    assert "1 more action was reported implemented and await" in said[2]
    assert "On 31 December 2000 the rate was 0% (0 of 4)." in said[2]
    assert (
        said[3].startswith("2 accepted actions were overdue") and "0 for under 6 months, 1 for 6 to 12" not in said[3]
    )
    assert "1 for under 6 months, 0 for 6 to 12 months, 1 for 12 to 24 months, 0 for over 24 months" in said[3]
    assert "other (1), resources (1)" in said[3] and "more than twelve months: II.1." in said[3]
    assert "Owners rated 2 closures" in said[4] and "agreed with the owner's own rating in 0" in said[4]
    assert said[5] == "2 extensions were granted to 1 action, adding 90 days to their due dates in all."
    assert said[6] == (
        "Since 31 December 2000, 1 action has been newly implemented (I.1). 2 actions have become overdue (II.1,"
        " II.2). 1 action has been extended (II.2). 1 action has been returned to its owner by the verifier (I.2)."
    )


@pytest.mark.parametrize(
    ("verified", "one_step", "said"),
    [
        (1, 0, "Its owner reported it implemented and the verifier confirmed it."),
        (3, 0, "Each was reported implemented by its owner and confirmed by the verifier."),
        (0, 2, "They were closed in one step, by their owners, as the rules allow."),
        (
            2,
            1,
            "Of these, the verifier confirmed 2 on the owner's report, and the owner closed 1 in one step, as the"
            " rules allow.",
        ),
    ],
)
def test_verified_closures_and_one_step_ones_are_counted_apart(verified: int, one_step: int, said: str) -> None:
    done = BASE._replace(status="implemented", owner_rating="implemented", verified_on=date(2000, 5, 2))
    rows = [done._replace(ref=f"V.{i}", verifier_rating="implemented") for i in range(verified)]
    rows += [done._replace(ref=f"O.{i}") for i in range(one_step)]  # no verifier's rating: closed in one step
    rate = paragraphs(ImplementationReport(PLAN, date(2001, 6, 30), [*rows, BASE]))[2]
    assert f"{verified + one_step} {'was' if verified + one_step == 1 else 'were'} implemented:" in rate
    assert said in rate and "closure verified" not in rate


def test_nothing_implemented_says_nothing_of_closure() -> None:
    rate = paragraphs(ImplementationReport(PLAN, date(2001, 6, 30), [BASE]))[2]
    assert "0 were implemented: an implementation rate of 0%." in rate and "verifier" not in rate


def test_the_tables_group_by_part_unit_and_owner() -> None:
    tables = {title: rows for title, _, rows in sections(REPORT)}
    assert tables["Implementation by Part"] == [
        ["Part I: Relevance", "2", "1", "1", "0", "50%"],
        ["Part II: Quality", "2", "0", "0", "2", "0%"],
        ["Part III: Partners", "0", "0", "0", "0", "-"],
        ["whole plan", "4", "1", "1", "2", "25%"],
    ]
    assert tables["By responsible unit"][1] == ["Mei Tanaka", "2", "0", "0", "2", "0%"]
    assert [r[0] for r in tables["By owner"]] == ["Jonas Lindqvist", "Mei Tanaka", "Somchai Prasert"]
    assert tables["Overdue actions by age and cause of delay"] == [
        ["under 6 months", "1", "other: 1"],
        ["6 to 12 months", "0", ""],
        ["12 to 24 months", "1", "resources: 1"],
        ["over 24 months", "0", ""],
    ]
    assert tables["The owner's rating beside the verifier's"] == [
        ["implemented", "not yet verified", "1"],
        ["implemented", "partially implemented", "1"],
    ]
    assert tables["Extensions granted"] == [
        ["II.2", "2000-12-01", "2000-12-31", "2001-01-31", "Somchai Prasert", "Mei Tanaka", "floods"],
        ["II.2", "2001-01-20", "2001-01-31", "2001-03-31", "(granted directly)", "Mei Tanaka", ""],
    ]
    assert tables["Overdue for more than twelve months"] == [
        ["II.1", "Guidelines", "Mei Tanaka", "2000-01-31", "517", "resources"]
    ]


def test_the_csv_is_the_underlying_table_one_row_per_action() -> None:
    rows = list(csv.DictReader(io.StringIO("".join(render_csv(REPORT)))))
    assert list(rows[0]) == list(CSV_FIELDS) and len(rows) == len(ROWS)
    assert rows[0] | {} == {
        "ref": "I.1", "Part": "Part I: Relevance", "owner": "Jonas Lindqvist", "unit": "Jonas Lindqvist",
        "acceptance": "accepted", "status as of": "implemented", "due": "2000-04-30", "extended to": "",
        "extensions": "0", "overdue days": "0", "age band": "", "delay cause": "", "owner rating": "implemented",
        "verifier rating": "partially implemented", "verified on": "2000-05-02",
        "latest update": "2000-04-28, 80% complete, Jonas Lindqvist: guidelines | sent to the printer",
    }  # fmt: skip
    assert rows[1]["latest update"] == ""  # no dated update yet
    assert (rows[3]["status as of"], rows[3]["extended to"], rows[3]["age band"]) == (
        "open (overdue)", "2001-03-31", "under 6 months",
    )  # fmt: skip
    assert rows[1]["acceptance"] == "partially accepted"


def test_markdown_shows_plan_text_as_typed() -> None:
    text = render_markdown(REPORT)
    assert text.startswith("# GB.276/TC/2(Add.1): report on implementation\n")
    assert "A plan \\| with \\*markup\\*" in text and "| with *markup*" not in text
    assert "\n1. This report gives" in text and "\n7. Since 31 December 2000" in text
    assert "## Appendix: every action\n\n| ref | Part |" in text
    assert "| II.1 | Guidelines | Mei Tanaka | 2000-01-31 | 517 | resources |" in text
    assert "| 2000-05-02 | 2000-04-28, 80% complete, Jonas Lindqvist: guidelines \\| sent to the printer |" in text


def test_the_printable_html_shows_each_actions_latest_dated_update() -> None:
    page = render_html(REPORT)
    assert '<th scope="col">latest update</th>' in page
    assert "<td>2000-04-28, 80% complete, Jonas Lindqvist: guidelines | sent to the printer</td>" in page


def test_the_printable_html_escapes_and_holds_every_part() -> None:
    evil = ImplementationReport(
        PLAN.model_copy(update={"title": "<script>x</script>"}), REPORT.as_of, ROWS, REPORT.changes
    )
    page = render_html(evil)
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert page.count("<li>") == len(paragraphs(evil)) and "@media print" in page
    assert render_body(evil) in page and "Appendix: every action as of 30 June 2001" in page


def test_a_users_template_that_fails_is_refused_naming_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "implementation.html.j2").write_text("{{ report.__class__ }}\n{{ nothing.here }}")
    with pytest.raises(TemplateRefused) as refused:
        render_html(REPORT, (str(tmp_path),))
    assert refused.value.name == "report/implementation.html.j2"


def test_in_french_counts_agree_with_their_words_and_the_spacing_is_french() -> None:
    said = paragraphs(REPORT, "fr")
    assert "4 acceptées, 1 partiellement acceptée, 1 non acceptée et 1 à l’examen" in said[1]
    assert said[6] == (
        "Depuis le 31 décembre 2000, 1 action a été nouvellement mise en œuvre (I.1). 2 actions sont passées en"
        " retard (II.1, II.2). 1 action a été prorogée (II.2). 1 action a été renvoyée à son responsable par le"
        " vérificateur (I.2)."
    )
    assert all(" :" not in text and " ;" not in text for text in said)  # a no-break space before : and ;
    assert "\u00a0:" in said[3]
    assert sections(REPORT, "fr")[3][2][2][2] == "ressources\u00a0: 1"
    heads = sections(REPORT, "fr")[0]
    assert heads[1][1:3] == ["Acceptées", "Mises en œuvre"] and heads[2][0][0] == "Partie I\u00a0: Relevance"
    assert sections(REPORT, "es")[0][2][0][0] == "Parte I: Relevance"
    assert render_markdown(REPORT, "fr").startswith("# GB.276/TC/2(Add.1)\u00a0: rapport sur la mise en œuvre\n")
    page = render_html(REPORT, language="fr")
    assert "<h1>Rapport sur la mise en œuvre\u00a0: A plan | with *markup*</h1>" in page
    body = page.split("<body", 1)[1]
    assert (
        "<td>Partie II\u00a0: Quality</td>" in page
        and "Annexe\u00a0: " in page
        and " : " not in body.split('class="appendix"', 1)[0]
    )
    spanish = paragraphs(REPORT, "es")
    assert "4 aceptadas, 1 aceptada parcialmente, 1 no aceptada y 1 en estudio" in spanish[1]
