"""Each action's extension history (``engine.read.extension_history``): original due date, each extension with
who asked, who granted, from, to and why, the count; also on the action's sheet."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.actions.extensions import decide, request_extension
from engine.actions.workflow import extend
from engine.importing import import_paths
from engine.read.action_sheet import build_sheet
from engine.read.extension_history import Extension, ExtensionHistory, extension_histories
from engine.read.queries import find_action
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.web_models import ExtensionRequest

from ..conftest import OWNERS, ROOT, SEED

T0 = datetime(1999, 10, 1, tzinfo=UTC)
ASKED, GRANTED = datetime(2000, 5, 2, 10, tzinfo=UTC), datetime(2000, 5, 4, 10, tzinfo=UTC)
AGAIN = datetime(2000, 9, 1, 10, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED], Settings(database_url=database_url, rules_dir=ROOT / "rules"), T0)
    with transaction(engine) as s:
        action = find_action(s, "II.3.1")  # due 31 May 2000, Kwame Mensah's
        asked = request_extension(s, action, date(2000, 9, 30), ASKED, who="hrd", via="web", reason="budget late")
        assert asked.from_due == date(2000, 5, 31)  # the due date in force when asked
        decide(s, asked, True, GRANTED, who="ed-devcoop", via="web", note="agreed")
        refused = request_extension(s, action, date(2001, 3, 31), AGAIN, who="hrd", via="web", reason="more")
        decide(s, refused, False, AGAIN, who="ed-devcoop", via="web")
        extend(s, action, date(2000, 12, 31), AGAIN, who="secretariat", via="cli", reason="new budget cycle")
    yield engine
    engine.dispose()


def test_each_extension_says_who_asked_who_granted_from_to_and_why(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        ident = find_action(s, "II.3.1").id
        other = find_action(s, "II.3.2").id
        assert ident is not None and other is not None
        found = extension_histories(s, [ident, other])
        refused = s.get(ExtensionRequest, 2)
        assert refused is not None and refused.from_due == date(2000, 9, 30)
    history = found[ident]
    assert history == ExtensionHistory(
        date(2000, 5, 31),
        (
            Extension(GRANTED, date(2000, 5, 31), date(2000, 9, 30), "ed-devcoop", "hrd", ASKED, "budget late"),
            Extension(AGAIN, date(2000, 9, 30), date(2000, 12, 31), "secretariat", "", None, "new budget cycle"),
        ),
    )
    assert (history.count, history.days_added, history.extended_to) == (2, 214, date(2000, 12, 31))
    assert found[other] == ExtensionHistory(date(2000, 5, 31), ())
    names = {"ed-devcoop": "Amara Okafor", "hrd": "Kwame Mensah", "secretariat": "the secretariat"}
    assert history.as_text(names) == (
        "Extended twice; originally due 2000-05-31. 2000-05-04: 2000-05-31 to 2000-09-30, granted by Amara Okafor"
        " at the request of Kwame Mensah (budget late). 2000-09-01: 2000-09-30 to 2000-12-31, granted by the"
        " secretariat (new budget cycle)."
    )
    assert found[other].as_text() == ""


def test_until_reads_the_history_as_it_stood(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        ident = find_action(s, "II.3.1").id
        assert ident is not None
        before = extension_histories(s, [ident], until=datetime(2000, 6, 1, tzinfo=UTC))[ident]
        everything = extension_histories(s)  # every action that has one
    assert before.count == 1 and before.extensions[0].requested_by == "hrd"
    assert set(everything) == {ident}


def test_the_action_sheet_carries_the_history(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        sheet = build_sheet(s, find_action(s, "II.3.1"))
    assert sheet.extensions.count == 2 and sheet.extensions.original_due == date(2000, 5, 31)
    assert sheet.due == date(2000, 12, 31)
