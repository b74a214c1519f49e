"""``engine.web.templating``: autoescaped pages, fixed notices, security headers, the anonymous CSRF cookie."""

from __future__ import annotations

from ..web_support import action_id


def test_markup_in_titles_is_escaped_on_every_page(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    for owner, paths in (
        ("pardev", ["/my", "/escalations?state=all", "/plan", "/report"]),
        ("secretariat", ["/escalations?state=all", "/plan", "/report", f"/actions/{action_id(engine, 'III.d.1')}"]),
    ):
        signed = client(owner)
        for path in paths:
            page = signed.get(path).text
            assert "&lt;script&gt;" in page, (owner, path)
            assert "<script>alert" not in page and "<b>bold" not in page, (owner, path)
    svg = client("secretariat").get("/plan").text
    start = svg.index("<svg")
    assert "<script" not in svg[start : svg.index("</svg>")]
