"""Owner assignment rules (``rules/owners.yaml``): section patterns to owner ids, first match wins.

A pattern is matched (shell-style, ``III.*`` or ``II.3``) against the action id, its section
and every enclosing section, so ``I.1`` covers ``I.1a`` and ``I.1b``. An owner written on the
action in the plan file wins over every rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from engine import yamlfile
from engine.errors import InputError, Location, ValidationErrors


class AssignRule(BaseModel):
    """One rule: actions matching ``match`` belong to ``owner``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str = Field(min_length=1)
    owner: str = Field(min_length=1)


class OwnerRulesFile(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    assign: list[AssignRule] = []


@dataclass(frozen=True, slots=True)
class OwnerRules:
    """Loaded rules with the place each came from."""

    rules: tuple[AssignRule, ...] = ()
    places: tuple[Location, ...] = ()

    def owner_for(self, ref: str, sections: Sequence[str]) -> tuple[str, int] | None:
        """Return (owner id, rule number from 1) for an action and its section chain, or None."""
        keys = (ref, *sections)
        for number, rule in enumerate(self.rules, 1):
            if any(fnmatchcase(key, rule.match) for key in keys):
                return rule.owner, number
        return None

    def check_owners(self, known: Iterable[str]) -> None:
        """Raise ``ValidationErrors`` for every rule that names an owner not in ``known``."""
        ids = set(known)
        errors = [
            InputError(f"assign[{i}].owner: unknown owner id {rule.owner!r}; add it to the owners directory", where)
            for i, (rule, where) in enumerate(zip(self.rules, self.places, strict=True))
            if rule.owner not in ids
        ]
        if errors:
            raise ValidationErrors(errors)


def load(path: str | Path) -> OwnerRules:
    """Read ``rules/owners.yaml``; a missing file means no rules."""
    if not Path(path).exists():
        return OwnerRules()
    doc = yamlfile.load(path, what="owner rules file")
    if not isinstance(doc.data, Mapping):
        raise InputError("expected a mapping with an 'assign:' list", doc.locate(()))
    parsed = yamlfile.validate(OwnerRulesFile, doc)
    places = tuple(doc.locate(("assign", i)) for i in range(len(parsed.assign)))
    return OwnerRules(tuple(parsed.assign), places)


def section_chain(section_key: str, parents: Mapping[str, str | None]) -> list[str]:
    """Return the section and its ancestors, innermost first."""
    chain: list[str] = []
    current: str | None = section_key
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain
