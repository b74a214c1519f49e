"""The owners directory's shape: who is below whom. Pure: it works on a mapping of supervisors."""

from __future__ import annotations

from collections.abc import Mapping


def everyone_below(supervisor: str, bosses: Mapping[str, str | None]) -> frozenset[str]:
    """Return everyone below ``supervisor`` at any depth, never the supervisor (even in a loop).

    ``bosses`` gives each owner's supervisor (None at the top), by owner id.
    """
    reports: dict[str, list[str]] = {}
    for owner, boss in bosses.items():
        if boss is not None:
            reports.setdefault(boss, []).append(owner)
    found: set[str] = set()
    stack = list(reports.get(supervisor, []))
    while stack:
        current = stack.pop()
        if current not in found and current != supervisor:
            found.add(current)
            stack.extend(reports.get(current, []))
    return frozenset(found)


__all__ = ["everyone_below"]
