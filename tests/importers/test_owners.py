"""The owners directory from YAML or CSV: checked entries, errors naming file:line, supervisor chains."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InputError, ValidationErrors
from engine.importers.owners import load, looks_like_csv, looks_like_yaml, supervisor_chain

from ..conftest import OWNERS

HEADER = "id,name,email,timezone,supervisor\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path, known: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(InputError) as info:
        load(path, known)
    assert info.value.exit_code == 2
    found = info.value.errors if isinstance(info.value, ValidationErrors) else [info.value]
    return [str(e) for e in found]


def test_the_example_directory_loads() -> None:
    entries = {e.id: e for e in load(OWNERS)}
    assert entries["codev"].email == "mei.tanaka@example.org" and entries["codev"].supervisor == "ed-devcoop"
    assert entries["pardev"].delegate == "secretariat"
    assert entries["ro-bangkok"].timezone == "Asia/Bangkok"
    assert entries["dg-office"].supervisor is None and entries["dg-office"].digest == "none"


def test_csv_with_a_byte_order_mark_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "owners.csv",
        "\ufeff" + HEADER + "boss,Boss,boss@example.org,UTC,\na,A,a@example.org,Asia/Tokyo,boss\n",
    )
    entries = load(path)
    assert [(e.id, e.timezone, e.supervisor) for e in entries] == [("boss", "UTC", None), ("a", "Asia/Tokyo", "boss")]
    assert [e.digest for e in entries] == ["none", "none"]


def test_bad_csv_rows_are_each_named_by_line(tmp_path: Path) -> None:
    path = write(tmp_path, "owners.csv", HEADER + "a,A,not-an-address,UTC,\nb,B,b@example.org,Mars/Base,\n")
    found = errors_of(path)
    assert len(found) == 2
    assert found[0].startswith(f"{path}:2: email: expected an e-mail address like name@example.org")
    assert found[1].startswith(f"{path}:3: timezone:")
    unknown = write(tmp_path, "extra.csv", "id,name,email,phone\n")
    assert errors_of(unknown) == [
        f"{unknown}:1:1: unknown column(s) ['phone']; expected id, name, email, timezone, supervisor, delegate, "
        "digest, role, away_from, away_to, deputy, country, language, unit"
    ]


def test_duplicates_unknown_supervisors_and_loops_are_refused_by_line(tmp_path: Path) -> None:
    text = (
        "owners:\n"
        "  - {id: a, name: A, email: a@example.org, timezone: UTC}\n"
        "  - {id: b, name: B, email: b@example.org, timezone: UTC, supervisor: a}\n"
        "  - {id: a, name: A2, email: a2@example.org, timezone: UTC}\n"
        "  - {id: c, name: C, email: c@example.org, timezone: UTC, supervisor: nobody, delegate: ghost}\n"
    )
    path = write(tmp_path, "owners.yaml", text)
    found = errors_of(path)
    assert f"{path}:4:5: duplicate owner id 'a' (first at line 2)" in found
    assert f"{path}:5:5: unknown supervisor 'nobody' for 'c'; expected an owner id" in found
    assert f"{path}:5:5: unknown delegate 'ghost' for 'c'; expected an owner id" in found
    loop = write(
        tmp_path,
        "loop.yaml",
        "owners:\n"
        "  - {id: top, name: T, email: t@example.org, timezone: UTC}\n"
        "  - {id: a, name: A, email: a@example.org, timezone: UTC, supervisor: b}\n"
        "  - {id: b, name: B, email: b@example.org, timezone: UTC, supervisor: c}\n"
        "  - {id: c, name: C, email: c@example.org, timezone: UTC, supervisor: a}\n",
    )
    assert errors_of(loop) == [
        f"{loop}:3:5: supervisor loop: a -> b -> c -> a; a chain must end with someone who has no supervisor"
    ]
    # A supervisor already in the database is known.
    fine = write(
        tmp_path, "more.yaml", "owners:\n  - {id: x, name: X, email: x@example.org, timezone: UTC, supervisor: codev}\n"
    )
    assert [e.id for e in load(fine, known=("codev",))] == ["x"]
    assert errors_of(fine) == [f"{fine}:2:5: unknown supervisor 'codev' for 'x'; expected an owner id"]


def test_a_yaml_file_without_an_owners_list_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "plan.yaml", "people: []\n")
    assert errors_of(path) == [f"{path}:1:1: expected an owners file with a top-level 'owners:' list"]


def test_what_a_file_looks_like_and_supervisor_chains() -> None:
    assert looks_like_yaml("owners:\n  - id: a\n") and not looks_like_yaml("plan:\nowners:\nactions:\n")
    assert looks_like_csv("\ufeffID, Name ,Email\n") and not looks_like_csv("name,id,email\n")
    bosses = {"top": None, "mid": "top", "low": "mid", "x": "y", "y": "x"}
    assert supervisor_chain("low", bosses) == ["mid", "top"]
    assert supervisor_chain("top", bosses) == [] and supervisor_chain("stranger", bosses) == []
    assert supervisor_chain("x", bosses) == ["y"]  # a loop stops before coming back


def test_a_missing_required_column_or_key_is_refused_and_optional_ones_are_marked(tmp_path: Path) -> None:
    no_zone = write(tmp_path, "o.csv", "id,name,email,supervisor\na,A,a@example.org,\n")
    assert errors_of(no_zone) == [
        f"{no_zone}:1:1: missing required column(s) timezone; expected the header "
        "id,name,email,timezone,supervisor,delegate,digest,role,away_from,away_to,deputy,country,language,unit "
        "(only supervisor, delegate, digest, role, away_from, away_to, deputy, country, language, unit may be left out)"
    ]
    empty_zone = write(tmp_path, "e.csv", HEADER + "a,A,a@example.org,,\n")
    assert errors_of(empty_zone) == [f"{empty_zone}:2: timezone: required, got an empty cell"]
    yaml = write(tmp_path, "o.yaml", "owners:\n  - id: a\n    name: A\n    email: a@example.org\n")
    assert errors_of(yaml) == [f"{yaml}:2:5: owners[0]: missing required key 'timezone'"]
    partial = write(tmp_path, "p.csv", "id,name,email,timezone,delegate\na,A,a@example.org,UTC,\n")
    assert load(partial)[0].given == {"id", "name", "email", "timezone", "delegate"}
    written = write(tmp_path, "w.yaml", "owners:\n  - {id: a, name: A, email: a@example.org, timezone: UTC}\n")
    assert load(written)[0].given == {"id", "name", "email", "timezone"}


AWAY_YAML = """owners:
  - id: boss
    name: Boss
    email: boss@example.org
    timezone: UTC
  - id: a
    name: A
    email: a@example.org
    timezone: Asia/Tokyo
    away: {from: 2000-07-01, to: 2000-07-21, deputy: boss}
"""


def test_an_owner_away_names_a_deputy_for_a_period_in_yaml_and_csv(tmp_path: Path) -> None:
    entries = {e.id: e for e in load(write(tmp_path, "o.yaml", AWAY_YAML))}
    away = entries["a"].away
    assert away is not None and (str(away.first), str(away.last), away.deputy) == ("2000-07-01", "2000-07-21", "boss")
    assert entries["boss"].away is None and "away" in entries["a"].given and "away" not in entries["boss"].given
    csv = (
        "id,name,email,timezone,away_from,away_to,deputy\n"
        "boss,Boss,boss@example.org,UTC,,,\n"
        "a,A,a@example.org,UTC,2000-07-01,2000-07-21,boss\n"
    )
    rows = {e.id: e for e in load(write(tmp_path, "o.csv", csv))}
    assert rows["a"].away == away
    assert rows["boss"].away is None and "away" in rows["boss"].given  # empty cells clear a stored period


def test_bad_away_entries_are_refused_at_their_line(tmp_path: Path) -> None:
    reversed_ = write(tmp_path, "r.yaml", AWAY_YAML.replace("to: 2000-07-21", "to: 2000-06-21"))
    (found,) = errors_of(reversed_)
    assert found.startswith(f"{reversed_}:10:")
    assert "'to' (2000-06-21) is before 'from' (2000-07-01); expected the last day away" in found
    unknown = write(tmp_path, "u.yaml", AWAY_YAML.replace("deputy: boss", "deputy: nobody"))
    assert errors_of(unknown) == [f"{unknown}:6:5: away: unknown deputy 'nobody' for 'a'; expected another owner's id"]
    csv = write(
        tmp_path,
        "o.csv",
        "id,name,email,timezone,away_from,away_to,deputy\n"
        "boss,Boss,boss@example.org,UTC,,,\n"
        "a,A,a@example.org,UTC,2000-07-01,,boss\n",
    )
    assert errors_of(csv) == [f"{csv}:3: away.to: required, got an empty cell"]
    itself = write(tmp_path, "self.yaml", AWAY_YAML.replace("deputy: boss", "deputy: a"))
    assert errors_of(itself) == [
        f"{itself}:6:5: away: the owner as their own deputy 'a' for 'a'; expected another owner's id"
    ]
