"""The Markdown report: titles, names and notes show as typed; nothing in them becomes a link, emphasis or HTML."""

from __future__ import annotations

from datetime import date

import pytest
from markdown_it import MarkdownIt

from engine.read.report import ActionLine, IssueBlock, PartBlock, Report, render_markdown
from engine.store.models import Plan

MARKUP = [
    "*Urgent* [x](http://evil)",
    "![pixel](http://evil/p.png) <script>alert(1)</script> <http://evil>",
    "`code` __strong__ ~~gone~~ &copy; a | b \\* c",
    "# heading",
    "> quoted",
    "- listed",
    "+ listed",
    "1. numbered",
    "2) numbered",
    "---",
    "Title #",
]


def report_of(text: str) -> Report:
    """A report whose every text field a person or the plan fills is ``text``."""
    plan = Plan(id="p", title=text, symbol=text, ref_date=date(2000, 1, 1), timezone="UTC")
    line = ActionLine(text, text, text, "overdue", "deadline", None, date(2000, 5, 1), days_overdue=3, reason=text)
    issue = IssueBlock(text, text, [line])
    return Report(plan, date(2000, 6, 1), [PartBlock(text, text, [issue])], [(text, "2000-05-01", "2000-06-30", text)])


def shown(markdown: str) -> tuple[str, list[str]]:
    """Return the text a reader sees and the kinds of element the Markdown makes (CommonMark with tables)."""
    tokens = MarkdownIt("commonmark").enable("table").enable("strikethrough").parse(markdown)
    texts, kinds = [], []
    for token in tokens:
        kinds.append(token.type)
        for child in token.children or []:
            kinds.append(child.type)
            if child.type == "text":
                texts.append(child.content)
    return " ".join(texts), kinds


@pytest.mark.parametrize("text", MARKUP)
def test_markup_in_any_text_shows_as_typed(text: str) -> None:
    markdown = render_markdown(report_of(text))
    seen, kinds = shown(markdown)
    made = set(kinds) - {"heading_open", "heading_close", "paragraph_open", "paragraph_close", "inline", "text"}
    made -= {k for k in kinds if k.startswith(("table", "thead", "tbody", "tr_", "th_", "td_"))}
    assert made == set(), markdown
    assert kinds.count("heading_open") == 4  # the report's own: title, Part, issue, extensions
    # symbol, plan title; Part number (heading, counts table), title; issue number, title; the action's ref,
    # title, owner, note; the extension's ref and reason: 13 places, each as typed
    assert seen.count(text) == 13, (seen, markdown)


def test_the_escaping_reads_plainly() -> None:
    markdown = render_markdown(report_of("*Urgent* [x](http://evil) a|b\nnext line"))
    assert "| \\*Urgent\\* \\[x\\](http://evil) a\\|b next line |" in markdown
    assert "## Part \\*Urgent\\*" in markdown
    plain = render_markdown(report_of("II.3.1 Review the plan (2000-2001)"))
    assert "| II.3.1 Review the plan (2000-2001) II.3.1 Review the plan (2000-2001) |" in plain
