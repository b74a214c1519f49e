"""An owner's language (en, fr or es) in the owners file and CSV: optional, checked where it is written, kept when
left out of a later file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from engine.errors import InputError
from engine.importers.owners import load
from engine.importing import import_paths
from engine.settings import Settings
from engine.store import make_engine, upgrade
from engine.store.models import Owner

from .test_owners import OWNERS, errors_of, write

YAML = """\
owners:
  - id: boss
    name: Boss
    email: boss@example.org
    timezone: Europe/Zurich
  - id: luz
    name: Luz
    email: luz@example.org
    timezone: America/Lima
    language: es
"""


def test_a_language_is_read_from_yaml_and_csv_and_is_optional(tmp_path: Path) -> None:
    entries = {e.id: e for e in load(write(tmp_path, "o.yaml", YAML.replace("language: es", "language: ES")))}
    assert entries["luz"].language == "es" and "language" in entries["luz"].given
    assert entries["boss"].language is None and "language" not in entries["boss"].given
    csv = "id,name,email,timezone,language\nboss,Boss,boss@example.org,UTC,\nclaire,Claire,c@example.org,UTC,fr\n"
    rows = {e.id: e for e in load(write(tmp_path, "o.csv", csv))}
    assert rows["claire"].language == "fr"
    assert rows["boss"].language is None and "language" in rows["boss"].given  # an empty cell clears it


def test_the_demo_directory_writes_to_lima_in_spanish_and_to_one_geneva_person_in_french() -> None:
    languages = {e.id: e.language for e in load(OWNERS)}
    assert languages["ro-lima"] == "es" and languages["dcomm"] == "fr" and languages["ro-bangkok"] is None


def test_a_bad_language_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", YAML.replace("language: es", "language: german"))
    (found,) = errors_of(bad)
    assert found.startswith(f"{bad}:10:")
    assert "unknown language 'german'; expected one of en, fr, es (English, French, Spanish)" in found
    csv = write(tmp_path, "o.csv", "id,name,email,timezone,language\nluz,Luz,luz@example.org,America/Lima,pt\n")
    (found,) = errors_of(csv)
    assert found.startswith(f"{csv}:2: language: ") and "unknown language 'pt'" in found


def test_a_later_file_without_the_key_keeps_the_stored_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, rules_dir=tmp_path / "rules", maildir=tmp_path / "mail")
    now = datetime(2000, 1, 3, tzinfo=UTC)
    import_paths(engine, [write(tmp_path, "first.yaml", YAML)], settings, now)
    import_paths(engine, [write(tmp_path, "second.yaml", YAML.replace("    language: es\n", ""))], settings, now)
    with Session(engine) as session:
        assert session.get(Owner, "luz").language == "es"  # type: ignore[union-attr]
    import_paths(engine, [write(tmp_path, "third.yaml", YAML.replace("language: es", "language: fr"))], settings, now)
    with Session(engine) as session:
        assert session.get(Owner, "luz").language == "fr"  # type: ignore[union-attr]
    try:
        import_paths(engine, [write(tmp_path, "bad.yaml", YAML.replace("language: es", "language: xx"))], settings, now)
    except InputError as exc:
        assert exc.exit_code == 2
    else:
        raise AssertionError("a bad language was accepted")
    with Session(engine) as session:
        assert session.get(Owner, "luz").language == "fr"  # type: ignore[union-attr]  # the database is unchanged
    engine.dispose()
