"""A plan written in French or Spanish: its language from the plan file's ``language:`` key, or from the words of
its time frames, read at import and stored on the plan."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ruamel.yaml import YAML
from sqlalchemy import create_engine, text

PLAN = "plans/gb276-tc2-implementation-plan.txt"
PARALLEL = Path(__file__).resolve().parent / "timeframe" / "data" / "parallel.yaml"
FIELDS = ("kind", "start", "due", "rrule")


def _readings(cli) -> dict[str, tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """Each action's reading; an event's date is left out (it comes from the section whose English heading the
    English event names, and the translated plans keep their headings in English)."""
    result = cli("actions", "--json")
    assert result.code == 0, result.err
    rows = list(map(json.loads, result.out.splitlines()))
    return {r["id"]: tuple(r[k] for k in FIELDS) if r["kind"] != "event" else ("event",) for r in rows}


def _plan_language(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT language FROM plan")).scalar_one())
    finally:
        engine.dispose()


def _translated(path: Path, lang: str, key: str | None) -> int:
    """Write the exported plan with its time frames in ``lang``; return how many cells were translated."""
    rows = YAML(typ="safe").load(PARALLEL.read_text(encoding="utf-8"))
    words = {r["en"]: r[lang] for r in rows}
    count = 0

    def swap(m: re.Match[str]) -> str:
        nonlocal count
        phrase = m["v"].strip("'\"")
        if phrase not in words:
            return m[0]
        count += 1
        return f"{m['k']}{json.dumps(words[phrase], ensure_ascii=False)}"

    body = re.sub(r"(?P<k>timeframe: )(?P<v>.+)", swap, path.read_text(encoding="utf-8"))
    if key is not None:
        body = body.replace("\n  timezone:", f"\n  language: {key}\n  timezone:", 1)
    path.write_text(body, encoding="utf-8")
    return count


def _exported(cli) -> tuple[Path, dict[str, tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    english = _readings(cli)
    assert cli("export", "plan.yaml").code == 0
    return Path("plan.yaml"), english


def test_a_french_plan_says_its_language_and_reads_as_its_english_original(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    path, english = _exported(cli)
    assert _translated(path, "fr", "fr") >= 60
    path = path.rename("plan_fr.yaml")
    fresh = cli("import", str(path), db=f"sqlite:///{workdir / 'fr.db'}")
    assert fresh.code == 0, fresh.err
    assert _plan_language(f"sqlite:///{workdir / 'fr.db'}") == "fr"
    french = _readings(lambda *a: cli(*a, db=f"sqlite:///{workdir / 'fr.db'}"))
    assert french == english


def test_a_spanish_plan_that_does_not_say_its_language_is_recognised_by_its_words(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    path, english = _exported(cli)
    assert _translated(path, "es", None) >= 60
    url = f"sqlite:///{workdir / 'es.db'}"
    assert cli("import", str(path), db=url).code == 0
    assert _plan_language(url) == "es"
    assert _readings(lambda *a: cli(*a, db=url)) == english


def test_an_english_plan_stays_english(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    assert _plan_language(cli.url) == "en"


def test_a_language_planwatch_does_not_read_is_refused_with_its_place(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    path, _ = _exported(cli)
    path.write_text(path.read_text().replace("\n  timezone:", "\n  language: de\n  timezone:", 1))
    before = _readings(cli)
    result = cli("import", str(path))
    assert result.code == 2
    line = next(i for i, x in enumerate(path.read_text().splitlines(), 1) if "language: de" in x)
    assert re.search(rf"plan\.yaml:{line}:\d+: plan\.language: .*'en', 'fr' or 'es'", result.err), result.err
    assert _readings(cli) == before
