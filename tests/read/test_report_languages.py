"""The progress and implementation reports in French and Spanish: ``planwatch report --lang``, the plan's language
by default, the Word paper opened back with python-docx, the CSV's headings."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import docx
from sqlmodel import select

from engine.read.implementation_docx import render_docx
from engine.read.implementation_text import render_csv, render_markdown
from engine.read.report_model import ActionLine, state_words
from engine.store import make_engine, transaction
from engine.store.models import Plan

from .test_implementation_text import REPORT

PLAN = "plans/gb276-tc2-implementation-plan.txt"


def _imported(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0


def test_report_lang_es_writes_spanish_headings_and_dates(cli) -> None:  # type: ignore[no-untyped-def]
    _imported(cli)
    made = cli("report", "--as-of", "2000-04-30", "--lang", "es")
    assert made.code == 0, made.err
    text = made.out
    assert text.startswith("# Informe de situación: GB.276/TC/2\n") and "Al 30 de abril de 2000." in text
    assert "| Conjunto del plan | realizada | en curso según lo previsto |" in text
    assert "| acción | responsable | estado | fecha límite | nota |" in text and "## Parte I: " in text
    assert "de 2000 |" in text and "2000-" not in text.split("|", 1)[1]  # days in words, never ISO
    html = cli("report", "--as-of", "2000-04-30", "--lang", "fr", "--format", "html")
    assert html.code == 0 and '<html lang="fr">' in html.out and "Au <strong>30 avril 2000</strong>." in html.out
    assert "Rapport d'avancement : GB.276/TC/2" in html.out


def test_the_report_is_in_the_plans_language_unless_told(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    _imported(cli)
    engine = make_engine(cli.url)
    with transaction(engine) as s:
        for plan in s.exec(select(Plan)).all():
            plan.language = "fr"
            s.add(plan)
    engine.dispose()
    assert cli("report", "--as-of", "2000-04-30").out.startswith("# Rapport d'avancement : GB.276/TC/2")
    assert cli("report", "--as-of", "2000-04-30", "--lang", "en").out.startswith("# Progress report: GB.276/TC/2")
    paper = workdir / "rapport.docx"
    made = cli("report", "implementation", "--as-of", "2000-12-31", "--out", str(paper))
    assert made.code == 0, made.err
    texts = [p.text for p in docx.Document(str(paper)).paragraphs]
    assert "Date\u00a0: 31 décembre 2000\nOriginal\u00a0: français" in texts  # the plan is in French
    assert any(t.startswith("RAPPORT SUR LA MISE EN ŒUVRE\u00a0: ") for t in texts)


def test_a_language_planwatch_does_not_write_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    _imported(cli)
    refused = cli("report", "--as-of", "2000-04-30", "--lang", "de")
    assert refused.code == 2 and refused.out == ""
    assert "--lang: unknown language 'de'; expected one of en, fr, es" in refused.err


def test_the_word_paper_in_french_opens_with_french_words_and_days() -> None:
    paper = docx.Document(io.BytesIO(render_docx(REPORT, "fr")))
    texts = [p.text for p in paper.paragraphs]
    assert texts[2] == "Date\u00a0: 30 juin 2001\nOriginal\u00a0: anglais"  # a French reading of an English plan
    assert texts[3] == "RAPPORT SUR LA MISE EN ŒUVRE\u00a0: A PLAN | WITH *MARKUP*"
    assert texts[4] == "Au 30 juin 2001, comparé au 31 décembre 2000"
    assert any(t.startswith("1.\tLe présent rapport fait le point sur la mise en œuvre de ") for t in texts)
    headings = [p.text for p in paper.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert "Mise en œuvre par partie" in headings and "Annexe\u00a0: toutes les actions au 30 juin 2001" in headings
    assert [c.text for c in paper.tables[-1].rows[0].cells][:3] == ["réf.", "Partie", "responsable"]


def test_the_implementation_report_in_spanish_and_its_csv_in_french() -> None:
    text = render_markdown(REPORT, "es")
    assert text.startswith("# GB.276/TC/2(Add.1): informe sobre la aplicación\n")
    assert "Al 30 de junio de 2001, desde el 31 de diciembre de 2000." in text
    assert "## Aplicación por parte" in text and "## Anexo: todas las acciones" in text
    rows = list(csv.reader(io.StringIO("".join(render_csv(REPORT, "fr")))))
    assert rows[0][:6] == ["réf.", "Partie", "responsable", "unité", "acceptation", "statut au"]


def test_states_and_alerts_read_in_each_language() -> None:
    line = ActionLine("I.1.1", "t", "o", "overdue", "deadline", None, None, days_overdue=3,
                      alerts=("extension requested to 2000-09-30",))  # fmt: skip
    assert line.words_in("fr") == "en retard de 3 jours (prorogation demandée au 30 septembre 2000)"
    assert line.words_in("es") == "atrasada 3 días (prórroga solicitada hasta el 30 de septiembre de 2000)"
    assert line.words == "overdue by 3 days (extension requested to 30 September 2000)"
    assert (
        state_words("(no owner)", "es") == "(sin responsable)" and state_words("a note typed", "fr") == "a note typed"
    )
