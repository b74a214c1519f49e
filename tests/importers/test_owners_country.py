"""An owner's country (ISO 3166 alpha-2) in the owners file: optional, checked where it is written, kept when left
out of a later file."""

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

from .test_owners import errors_of, write

YAML = """\
owners:
  - id: boss
    name: Boss
    email: boss@example.org
    timezone: Europe/Zurich
  - id: nok
    name: Nok
    email: nok@example.org
    timezone: Asia/Bangkok
    country: TH
"""


def test_a_country_is_read_from_yaml_and_csv_and_is_optional(tmp_path: Path) -> None:
    entries = {e.id: e for e in load(write(tmp_path, "o.yaml", YAML))}
    assert entries["nok"].country == "TH" and "country" in entries["nok"].given
    assert entries["boss"].country is None and "country" not in entries["boss"].given
    csv = "id,name,email,timezone,country\nboss,Boss,boss@example.org,UTC,\nluz,Luz,luz@example.org,America/Lima,PE\n"
    rows = {e.id: e for e in load(write(tmp_path, "o.csv", csv))}
    assert rows["luz"].country == "PE"
    assert rows["boss"].country is None and "country" in rows["boss"].given  # an empty cell clears it


def test_a_bad_country_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", YAML.replace("country: TH", "country: Thailand"))
    (found,) = errors_of(bad)
    assert found.startswith(f"{bad}:10:")
    assert "unknown country 'Thailand'; expected an ISO 3166 alpha-2 code such as 'TH'" in found
    small = write(tmp_path, "small.yaml", YAML.replace("country: TH", "country: th"))
    assert "expected the code in capitals, 'TH'" in errors_of(small)[0]
    csv = write(tmp_path, "o.csv", "id,name,email,timezone,country\nluz,Luz,luz@example.org,America/Lima,XX\n")
    (found,) = errors_of(csv)
    assert found.startswith(f"{csv}:2: country: ") and "unknown country 'XX'" in found


def test_a_later_file_without_the_key_keeps_the_stored_country(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, rules_dir=tmp_path / "rules", maildir=tmp_path / "mail")
    now = datetime(2000, 1, 3, tzinfo=UTC)
    import_paths(engine, [write(tmp_path, "first.yaml", YAML)], settings, now)
    import_paths(engine, [write(tmp_path, "second.yaml", YAML.replace("    country: TH\n", ""))], settings, now)
    with Session(engine) as session:
        assert session.get(Owner, "nok").country == "TH"  # type: ignore[union-attr]
    import_paths(engine, [write(tmp_path, "third.yaml", YAML.replace("country: TH", "country: LA"))], settings, now)
    with Session(engine) as session:
        assert session.get(Owner, "nok").country == "LA"  # type: ignore[union-attr]
    try:
        import_paths(engine, [write(tmp_path, "bad.yaml", YAML.replace("country: TH", "country: ZZ"))], settings, now)
    except InputError as exc:
        assert exc.exit_code == 2
    else:
        raise AssertionError("a bad country was accepted")
    with Session(engine) as session:
        assert session.get(Owner, "nok").country == "LA"  # type: ignore[union-attr]  # the database is unchanged
    engine.dispose()
