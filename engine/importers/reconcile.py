"""Keep action ids stable when a plan in a positional format is imported again.

The text format has no ids of its own, so ids are positions (``I.1a.2``). On re-import the
rows of each section are aligned with the rows already stored by their time-frame texts
(difflib), so an inserted or deleted row does not shift the ids of the rows after it, and a
row whose time frame was edited keeps its id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from itertools import groupby

from engine.plandoc import ActionRow


def reconcile(rows: Sequence[ActionRow], stored: Iterable[tuple[str, str, str, bool]]) -> list[tuple[str, str]]:
    """Rewrite ``rows[i].ref`` in place to the stored ids they continue; return the ambiguous removals.

    ``stored`` holds (in plan order) (ref, section key, time frame, active) for every action of the plan,
    removed ones included, so a new row never takes an id that was used before.

    When a section has one row fewer with a time frame that several of its stored rows share, nothing
    tells which of them went: each such stored row is returned with the id of a twin that stays,
    as (ref, twin), and the caller keeps it rather than guess.
    """
    old_by_section: dict[str, list[tuple[str, str, bool]]] = {}
    used: dict[str, set[str]] = {}
    for ref, section, timeframe, active in stored:
        used.setdefault(section, set()).add(ref)
        old_by_section.setdefault(section, []).append((ref, timeframe, active))
    ambiguous: list[tuple[str, str]] = []
    for section, group in groupby(rows, key=lambda r: r.section_key):
        new = list(group)
        old = old_by_section.get(section, [])
        taken = used.get(section, set())
        _align(section, new, old, taken)
        kept = {row.ref: row.timeframe for row in new}
        for ref, timeframe, active in old:
            if active and ref not in kept:
                twin = next((r for r, tf in kept.items() if tf == timeframe), None)
                if twin is not None:
                    ambiguous.append((ref, twin))
    return ambiguous


def _align(section: str, new: list[ActionRow], old: list[tuple[str, str, bool]], taken: set[str]) -> None:
    """Equal rows keep (or get back) their id; edited rows take the ids of active rows in order."""
    refs: list[str | None] = [None] * len(new)
    matcher = SequenceMatcher(a=[tf for _, tf, _ in old], b=[r.timeframe for r in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                refs[j1 + k] = old[i1 + k][0]
        elif tag == "replace":
            active = [ref for ref, _, is_active in old[i1:i2] if is_active]
            for k, ref in enumerate(active[: j2 - j1]):
                refs[j1 + k] = ref
    counter = max((_number(r, section) for r in taken), default=0)
    for row, found in zip(new, refs, strict=True):
        if found is None:
            counter += 1
            found = f"{section}.{counter}"
        row.ref = found


def _number(ref: str, section: str) -> int:
    tail = ref.removeprefix(section + ".")
    return int(tail) if tail.isdigit() else 0


def action_number(ref: str) -> str:
    """Return the last part of an action id: ``I.1a.2`` -> ``2``."""
    return ref.rsplit(".", 1)[-1]
