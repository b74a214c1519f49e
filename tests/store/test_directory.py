"""The owners directory's shape: everyone below a supervisor, at any depth, even when the data loops."""

from __future__ import annotations

from engine.store.directory import everyone_below

BOSSES: dict[str, str | None] = {
    "dg": None,
    "ed": "dg",
    "dir1": "ed",
    "dir2": "ed",
    "off1": "dir1",
    "off2": "dir1",
    "other": "dg",
    "loner": None,
}


def test_everyone_below_at_any_depth() -> None:
    assert everyone_below("ed", BOSSES) == {"dir1", "dir2", "off1", "off2"}
    assert everyone_below("dg", BOSSES) == {"ed", "dir1", "dir2", "off1", "off2", "other"}
    assert everyone_below("dir1", BOSSES) == {"off1", "off2"}


def test_nobody_below_a_leaf_or_an_unknown_id() -> None:
    assert everyone_below("off1", BOSSES) == frozenset()
    assert everyone_below("loner", BOSSES) == frozenset()
    assert everyone_below("nobody", BOSSES) == frozenset()


def test_a_loop_ends_and_never_puts_the_supervisor_below_itself() -> None:
    loop: dict[str, str | None] = {"a": "c", "b": "a", "c": "b", "d": "b"}
    assert everyone_below("a", loop) == {"b", "c", "d"}
    assert everyone_below("x", {"x": "x"}) == frozenset()
