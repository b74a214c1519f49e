"""An owner's optional keys with a checked value (country, language, unit) in the owners file and CSV: read when
written, checked where they are written, an empty CSV cell clears, and a later file without the key keeps what is
stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
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
  - id: nok
    name: Nok
    email: nok@example.org
    timezone: Asia/Bangkok
    {key}: {value}
"""


@dataclass(frozen=True)
class Key:
    """One optional key: a value as written and as kept, another for a CSV, another for a re-import, and bad
    values with what the error says (a CSV one, where a cell can be bad)."""

    name: str
    written: str
    kept: str
    in_csv: str
    then: str
    bad: tuple[tuple[str, str], ...]
    bad_in_csv: tuple[str, str] | None

    def yaml(self, value: str | None = None) -> str:
        text = YAML.format(key=self.name, value=self.written if value is None else value)
        return text if value != "" else text.replace(f"    {self.name}: \n", "")


KEYS = [
    Key(
        "country",
        "TH",
        "TH",
        "PE",
        "LA",
        (
            ("Thailand", "unknown country 'Thailand'; expected an ISO 3166 alpha-2 code such as 'TH'"),
            ("th", "expected the code in capitals, 'TH'"),
        ),
        ("XX", "unknown country 'XX'"),
    ),
    Key(
        "language",
        "ES",
        "es",
        "fr",
        "fr",
        (("german", "unknown language 'german'; expected one of en, fr, es (English, French, Spanish)"),),
        ("pt", "unknown language 'pt'"),
    ),
    Key(
        "unit",
        "'  Partnerships   and Field Support '",
        "Partnerships and Field Support",
        "PROGRAM",
        "PARDEV",
        (("' '", "expected the unit's name, like PARDEV or Partnerships Department, got ' '"),),
        None,  # an empty cell clears it: a CSV has no bad unit
    ),
]


@pytest.mark.parametrize("key", KEYS, ids=[k.name for k in KEYS])
def test_the_key_is_read_from_yaml_and_csv_and_is_optional(tmp_path: Path, key: Key) -> None:
    entries = {e.id: e for e in load(write(tmp_path, "o.yaml", key.yaml()))}
    assert getattr(entries["nok"], key.name) == key.kept and key.name in entries["nok"].given
    assert getattr(entries["boss"], key.name) is None and key.name not in entries["boss"].given
    csv = (
        f"id,name,email,timezone,{key.name}\nboss,Boss,boss@example.org,UTC,\nluz,Luz,l@example.org,UTC,{key.in_csv}\n"
    )
    rows = {e.id: e for e in load(write(tmp_path, "o.csv", csv))}
    assert getattr(rows["luz"], key.name) == key.in_csv
    assert getattr(rows["boss"], key.name) is None and key.name in rows["boss"].given  # an empty cell clears it


@pytest.mark.parametrize("key", KEYS, ids=[k.name for k in KEYS])
def test_a_bad_value_is_refused_at_its_line_and_column(tmp_path: Path, key: Key) -> None:
    for value, message in key.bad:
        bad = write(tmp_path, "bad.yaml", key.yaml(value))
        (found,) = errors_of(bad)
        assert found.startswith(f"{bad}:10:") and message in found
    if key.bad_in_csv is not None:
        value, message = key.bad_in_csv
        csv = write(tmp_path, "o.csv", f"id,name,email,timezone,{key.name}\nluz,Luz,luz@example.org,UTC,{value}\n")
        (found,) = errors_of(csv)
        assert found.startswith(f"{csv}:2: {key.name}: ") and message in found


@pytest.mark.parametrize("key", KEYS, ids=[k.name for k in KEYS])
def test_a_later_file_without_the_key_keeps_the_stored_value(tmp_path: Path, key: Key) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, rules_dir=tmp_path / "rules", maildir=tmp_path / "mail")
    now = datetime(2000, 1, 3, tzinfo=UTC)

    def stored() -> object:
        with Session(engine) as session:
            return getattr(session.get(Owner, "nok"), key.name)

    import_paths(engine, [write(tmp_path, "first.yaml", key.yaml())], settings, now)
    import_paths(engine, [write(tmp_path, "second.yaml", key.yaml(""))], settings, now)
    assert stored() == key.kept
    import_paths(engine, [write(tmp_path, "third.yaml", key.yaml(key.then))], settings, now)
    assert stored() == key.then
    with pytest.raises(InputError) as info:
        import_paths(engine, [write(tmp_path, "bad.yaml", key.yaml(key.bad[0][0]))], settings, now)
    assert info.value.exit_code == 2
    assert stored() == key.then  # the database is unchanged
    engine.dispose()


def test_the_demo_directory_writes_to_lima_in_spanish_and_to_one_geneva_person_in_french() -> None:
    languages = {e.id: e.language for e in load(OWNERS)}
    assert languages["ro-lima"] == "es" and languages["dcomm"] == "fr" and languages["ro-bangkok"] is None
