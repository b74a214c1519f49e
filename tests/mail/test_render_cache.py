"""Compiled templates kept in a cache folder: read back by the next renderer, never stale, never shared by languages."""

from __future__ import annotations

from pathlib import Path

from engine.mail.checks import sample_message, sample_row
from engine.mail.messages import as_bytes
from engine.mail.render import Renderer

from ..conftest import ROOT

TEMPLATES = ROOT / "templates"
OWN = '{% extends "email/_base.txt.j2" %}{% block subject %}[{{ action.ref }}] Due{% endblock %}\n'


def message(renderer: Renderer, language: str = "en") -> bytes:
    row = sample_row("reminder", "reminder")
    row["payload"]["language"] = language
    return as_bytes(sample_message(renderer, row)).split(b"\r\n\r\n", 1)[1]  # the body: its headers name no time


def test_a_cached_renderer_writes_what_an_uncached_one_writes_and_keeps_the_compiled_templates(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for language in ("en", "fr", "es"):
        first = message(Renderer([TEMPLATES], cache=cache), language)
        assert first == message(Renderer([TEMPLATES]), language)
        assert message(Renderer([TEMPLATES], cache=cache), language) == first  # read back from the folder
    kept = sorted(p.name.split("-")[0] for p in cache.iterdir())
    assert {"en", "fr", "es"} == set(kept) and kept.count("en") == kept.count("fr") > 2  # every language has its own


def test_the_next_renderer_loads_the_kept_code_instead_of_compiling(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "note.txt.j2").write_text("the words of the file\n")
    cache = tmp_path / "cache"
    assert Renderer([tmp_path], cache=cache).render("note", {}).text == "the words of the file\n"
    (kept,) = cache.iterdir()
    # Other code kept under the template's name and its source's checksum: a renderer that reads the folder runs it.
    env = Renderer([tmp_path], cache=cache).environment("en")
    assert env.bytecode_cache is not None and env.loader is not None
    source, filename, _ = env.loader.get_source(env, "email/note.txt.j2")
    bucket = env.bytecode_cache.get_bucket(env, "email/note.txt.j2", filename, source)
    assert bucket.code is not None  # what the first renderer kept matches the file as it is
    bucket.code = env.compile("code from the cache\n", "email/note.txt.j2", filename)
    env.bytecode_cache.set_bucket(bucket)
    assert [p.name for p in cache.iterdir()] == [kept.name]
    assert Renderer([tmp_path], cache=cache).render("note", {}).text == "code from the cache\n"
    assert Renderer([tmp_path]).render("note", {}).text == "the words of the file\n"


def test_an_edited_template_is_compiled_again_whatever_the_folder_keeps(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    own = tmp_path / "email" / "reminder.txt.j2"
    own.write_text(OWN + "{% block body %}first{% endblock %}\n")
    cache = tmp_path / "cache"
    assert b"first" in message(Renderer([tmp_path, TEMPLATES], cache=cache))
    own.write_text(OWN + "{% block body %}second{% endblock %}\n")
    assert b"second" in message(Renderer([tmp_path, TEMPLATES], cache=cache))


def test_a_cache_folder_that_cannot_be_written_or_read_costs_only_the_compile(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert message(Renderer([TEMPLATES], cache=blocked / "cache"), "fr") == message(Renderer([TEMPLATES]), "fr")
    damaged = tmp_path / "cache"
    message(Renderer([TEMPLATES], cache=damaged))
    for kept in damaged.iterdir():
        kept.write_bytes(kept.read_bytes()[:20])  # cut short: the magic bytes, then nothing
    assert message(Renderer([TEMPLATES], cache=damaged)) == message(Renderer([TEMPLATES]))
