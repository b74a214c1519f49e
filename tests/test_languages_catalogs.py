"""A checkout's catalogs: compiled from the .po once, kept in the cache folder, compiled again when the .po changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.languages import cache_folder, compile_catalog, compiled_catalog

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def po_file(folder: Path, translation: str) -> Path:
    po = folder / "planwatch.po"
    po.write_text(HEADER + f'msgid "Due"\nmsgstr "{translation}"\n', encoding="utf-8")
    return po


def test_a_catalog_is_compiled_once_and_read_back_from_the_cache_folder(tmp_path: Path) -> None:
    po, kept = po_file(tmp_path, "Échéance"), tmp_path / "catalogs"
    assert compiled_catalog(po, "fr", kept).gettext("Due") == "Échéance"
    (mo,) = kept.iterdir()
    assert mo.name.startswith("fr-") and mo.suffix == ".mo"
    # Another .mo put in its place is what the next call reads: it does not compile the .po again.
    other = tmp_path / "other"
    other.mkdir()
    mo.write_bytes(compile_catalog(po_file(other, "Date limite"), "fr"))
    assert compiled_catalog(po, "fr", kept).gettext("Due") == "Date limite"


def test_an_edited_catalog_is_compiled_again_and_replaces_the_kept_one(tmp_path: Path) -> None:
    kept = tmp_path / "catalogs"
    assert compiled_catalog(po_file(tmp_path, "Échéance"), "fr", kept).gettext("Due") == "Échéance"
    (before,) = kept.iterdir()
    assert compiled_catalog(po_file(tmp_path, "Date limite"), "fr", kept).gettext("Due") == "Date limite"
    (after,) = kept.iterdir()
    assert after.name != before.name
    assert compiled_catalog(po_file(tmp_path, "Vence"), "es", kept).gettext("Due") == "Vence"
    assert sorted(p.name[:3] for p in kept.iterdir()) == ["es-", "fr-"]  # each language keeps its own


def test_a_damaged_or_unwritable_cache_costs_only_the_compile(tmp_path: Path) -> None:
    po, kept = po_file(tmp_path, "Échéance"), tmp_path / "catalogs"
    compiled_catalog(po, "fr", kept)
    (mo,) = kept.iterdir()
    mo.write_bytes(b"not a catalog")
    assert compiled_catalog(po, "fr", kept).gettext("Due") == "Échéance"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert compiled_catalog(po, "fr", blocked / "catalogs").gettext("Due") == "Échéance"


def test_the_cache_folder_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "planwatch"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "planwatch"
