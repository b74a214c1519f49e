"""``engine.web.site``: every page for every role, and the answers to unknown addresses and methods."""

from __future__ import annotations

import pytest

from ..web_support import action_id
from .conftest import PAGES


@pytest.mark.parametrize("owner", ["secretariat", "ed-devcoop", "codev", "pardev"])
def test_every_page_renders_for_every_role(site, owner: str) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    signed = client(owner)
    for path in [*PAGES, f"/actions/{action_id(engine, 'I.2a.1' if owner == 'codev' else 'III.d.1')}"]:
        answer = signed.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["cache-control"] == "no-store"
        assert "content-security-policy" in answer.headers


def test_unknown_addresses_get_a_page_not_a_stack_trace(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    signed = client("pardev")
    for path, status in (("/actions/abc", 404), ("/nowhere", 404), ("/static/secrets.txt", 404)):
        answer = signed.get(path)
        assert answer.status_code == status and "Traceback" not in answer.text, path
    assert signed.get("/static/planwatch.css").headers["content-type"].startswith("text/css")
    wrong = signed.put("/my")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]
