"""Owner assignment rules (``rules/owners.yaml``): section patterns to owner ids, first match wins.

A pattern is matched (shell-style, ``III.*`` or ``II.3``) against the action id, its section
and every enclosing section, so ``I.1`` covers ``I.1a`` and ``I.1b``. An owner written on the
action in the plan file wins over every rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import translate
from functools import lru_cache
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
        if not self.rules:
            return None
        pattern = _compiled(tuple(rule.match for rule in self.rules))
        number = min((_first_rule(pattern, key) for key in (ref, *sections)), default=_NONE)
        return None if number == _NONE else (self.rules[number - 1].owner, number)

    def matcher(self, parents: Mapping[str, str | None]) -> OwnerMatcher:
        """Return the rules ready for the actions of one plan whose sections' parents are ``parents``."""
        return OwnerMatcher(self, parents)

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

    def unknown_owners(self, known: Iterable[str]) -> list[int]:
        """Return the numbers (from 1) of the rules that name an owner not in ``known``."""
        ids = set(known)
        return [n for n, rule in enumerate(self.rules, 1) if rule.owner not in ids]

    def check_used(self, known: Iterable[str], given: Mapping[int, Sequence[str]]) -> str:
        """Check the rules' owners where they matter: raise ``ValidationErrors`` for each rule that names an owner
        not in ``known`` and would give actions (``given``: rule number to action ids) their owner. Return a
        warning (or "") naming the other rules with unknown owners: they give no action anything, and are skipped.
        """
        unknown = self.unknown_owners(known)
        errors = []
        for n in unknown:
            refs = given.get(n)
            if not refs:
                continue
            rule = self.rules[n - 1]
            shown = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            errors.append(
                InputError(
                    f"assign[{n - 1}].owner: unknown owner id {rule.owner!r}: the rule (match {rule.match!r}) "
                    f"would give it {shown}, and your owners directory has no {rule.owner!r}; "
                    "remove the rule or add the owner",
                    self.places[n - 1],
                )
            )
        if errors:
            raise ValidationErrors(errors)
        if not unknown:
            return ""
        names = ", ".join(dict.fromkeys(self.rules[n - 1].owner for n in unknown))
        return (
            f"{self.places[unknown[0] - 1]}: {len(unknown)} rule(s) name owners your owners directory does not have "
            f"({names}) and match no action of this plan that needs one, so they were skipped; "
            "if they are the example plan's rules, remove them (or add those owners)"
        )


class OwnerMatcher:
    """The rules of one plan: the patterns compiled into one expression, each section's chain matched once.

    A plan's actions share few sections, so an action costs at most one match of its own id (a rule
    may name actions too) against the rule that its section chain already got; none when its id does
    not begin as any earlier rule's pattern does (``III.*`` begins with ``III.``).
    """

    def __init__(self, rules: OwnerRules, parents: Mapping[str, str | None]) -> None:
        self.rules = rules.rules
        self.parents = parents
        self.pattern = _compiled(tuple(rule.match for rule in self.rules)) if self.rules else None
        self.by_section: dict[str, int] = {}
        starts = [_literal_start(rule.match) for rule in self.rules]
        # the beginnings an id needs to match a rule before rule n (n from 1), by n
        self.earlier = {n: tuple(starts[: n - 1]) for n in range(1, len(starts) + 1)}

    def owner_for(self, ref: str, section_key: str) -> tuple[str, int] | None:
        """Return (owner id, rule number from 1) for the action ``ref`` in ``section_key``, or None."""
        pattern = self.pattern
        if pattern is None:
            return None
        number = self.by_section.get(section_key)
        if number is None:
            chain = section_chain(section_key, self.parents)
            number = self.by_section[section_key] = min(_first_rule(pattern, key) for key in chain)
        if number > 1 and ref.startswith(self.earlier.get(number, ("",))):
            number = min(number, _first_rule(pattern, ref))
        return None if number == _NONE else (self.rules[number - 1].owner, number)


_NONE = 1 << 30  # the rule number of "no rule matches": above every real one


def _literal_start(pattern: str) -> str:
    """Return what every key a shell-style pattern matches begins with: the pattern up to its first ``*``, ``?``
    or ``[``."""
    cut = min((at for at in map(pattern.find, "*?[") if at >= 0), default=len(pattern))
    return pattern[:cut]


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One expression for all patterns, in order: the first alternative that matches a whole key wins,
    and its group (``r`` and the rule number) says which rule it is."""
    return re.compile("|".join(f"(?P<r{n}>{translate(p)})" for n, p in enumerate(patterns, 1)))


def _first_rule(pattern: re.Pattern[str], key: str) -> int:
    """Return the number of the first rule whose pattern matches ``key`` whole, or ``_NONE``."""
    found = pattern.match(key)
    return _NONE if found is None or found.lastgroup is None else int(found.lastgroup[1:])


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
