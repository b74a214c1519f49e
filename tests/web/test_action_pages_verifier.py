"""A verifier the rules name by owner id, outside the owner's line, sees the action while its report waits for
them (and only then), and may not change it from the action page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from engine.store import transaction
from engine.store.followup_models import ClosureReport

from ..web_support import action_id, csrf_of
from .one_step import Site, changed_rules, ruled_site


@pytest.fixture
def hrd_verifies(database_url: str, tmp_path: Path) -> Iterator[Site]:
    """The site where hrd (another unit) verifies every report."""
    yield from ruled_site(database_url, changed_rules(tmp_path / "rules", "verifier: supervisor", "verifier: hrd"))


def test_the_named_verifier_sees_the_action_while_the_report_waits(hrd_verifies: Site) -> None:
    client, engine, _, _ = hrd_verifies
    ident = action_id(engine, "II.2.2")  # codev's; hrd is not above her
    hrd = client("hrd")
    assert hrd.get(f"/actions/{ident}").status_code == 404
    assert hrd.get("/actions/gb276-tc2/II.2.2").status_code == 404
    owner = client("codev")
    sent = owner.post(f"/actions/{ident}/done", data={"csrf": csrf_of(owner.get("/my").text), "note": "sent"})
    assert sent.status_code == 200
    with transaction(engine) as session:
        report = session.exec(select(ClosureReport)).one()
        assert report.verifier_id == "hrd"
    sheet = hrd.get(f"/actions/{ident}")
    assert sheet.status_code == 200 and "II.2.2" in sheet.text
    assert hrd.get("/actions/gb276-tc2/II.2.2").status_code == 200
    assert "Report progress" not in sheet.text  # seeing is not acting
    token = csrf_of(sheet.text)
    acted = hrd.post(f"/actions/{ident}/progress", data={"csrf": token, "note": "x"})
    assert acted.status_code == 404
    assert client("pardev").get(f"/actions/{ident}").status_code == 404  # nobody else gains sight of it
    queue = hrd.get("/verify").text
    confirmed = hrd.post(f"/verify/{report.id}/confirm", data={"csrf": csrf_of(queue)}, follow_redirects=False)
    assert confirmed.status_code == 303
    assert hrd.get(f"/actions/{ident}").status_code == 404  # decided: nothing waits for hrd any more
