"""Load rule files (``rules/*.yaml``) into a ``RuleSet``, all or nothing.

A folder is read file by file in name order (``owners.yaml`` and ``events.yaml`` have loaders
of their own, and a file named as a holiday list is data, not rules). A file's ``defaults:``
fill what each of its policies leaves unsaid. Every error of every file is collected and the
whole set is rejected, one ``FILE:LINE:COL: where: what`` line per error.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine import yamlfile
from engine.countries import country_problem
from engine.errors import InputError, Location, ValidationErrors, display_path
from engine.rules.durations import BusinessCalendar
from engine.rules.holidays import RRULE_YEARS, parse_yaml, read_holidays
from engine.rules.policy import (
    DEFAULT_DELAY_CAUSES,
    Acceptance,
    ActionFacts,
    CampaignRule,
    CheckinRule,
    Closure,
    Defaults,
    Delivery,
    EscalateStep,
    Limits,
    Match,
    Policy,
    Recurrence,
    RemindStep,
    RuleFile,
    Stale,
    explain_match,
    fits,
)
from engine.zones import zone

OTHER_LOADERS = frozenset({"owners.yaml", "owners.yml", "events.yaml", "events.yml"})
EMPTY = "is empty; expected a rule file with 'policies:' (a list of policies)"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class RuleSet:
    """Validated policies in the order they are tried, each with the place it was written."""

    policies: tuple[Policy, ...] = ()
    places: tuple[Location, ...] = ()
    files: tuple[str, ...] = ()
    holiday_files: tuple[str, ...] = ()
    # each template a policy names: its name, where it is named, and the breadcrumb of that place
    templates: tuple[tuple[str, Location, str], ...] = ()
    # why an overdue action is late: the causes an owner chooses from (``delay_causes:`` of the rule files)
    delay_causes: tuple[str, ...] = DEFAULT_DELAY_CAUSES
    # each verifier named by owner id (``closure: {verifier: ID}``) and where it is written
    verifiers: tuple[tuple[str, Location], ...] = ()
    # the update campaigns the rules start (``campaigns:`` of the rule files), in file order
    campaigns: tuple[CampaignRule, ...] = ()

    def check_verifiers(self, known: Iterable[str]) -> None:
        """Raise ``ValidationErrors`` for every ``closure.verifier`` that names an owner id not in ``known``."""
        ids = set(known)
        errors = [
            InputError(
                f"closure.verifier: unknown owner id {who!r}; add it to the owners directory, or name 'supervisor' "
                "or 'secretariat'",
                where,
            )
            for who, where in dict.fromkeys(self.verifiers)  # policies that take the defaults' share one place
            if who not in ids
        ]
        if errors:
            raise ValidationErrors(errors)

    def calendar_of(self, tz: str, country: str | None = None) -> BusinessCalendar:
        """Return the business days of a recipient in zone ``tz`` (from ``country``) for what no single policy
        sends (digests): those of the first policy's delivery (normally the rule file's defaults)."""
        return calendar_for(self.policies[0].delivery, tz, country) if self.policies else BusinessCalendar()

    def policy_of(self, facts: ActionFacts) -> Policy | None:
        """Return the first policy whose ``match`` fits the action (``policy_for`` also says why)."""
        return next((policy for policy in self.policies if fits(policy.match, facts)), None)

    def policy_for(self, facts: ActionFacts) -> tuple[Policy | None, str]:
        """Return the first policy whose ``match`` fits the action, and a sentence saying why."""
        passed: list[str] = []
        for policy, place in zip(self.policies, self.places, strict=True):
            applies, why = explain_match(policy.match, facts)
            if applies:
                earlier = f"; earlier: {'; '.join(passed)}" if passed else ""
                return policy, f"policy {policy.name!r} ({place}) applies: {why}{earlier}"
            passed.append(f"{policy.name!r} does not apply: {why}")
        if not passed:
            return None, "no policy applies: the rules hold no policies"
        return None, f"no policy applies: {'; '.join(passed)}"


def load_rules(path: str | Path, templates: Sequence[Path] | None = None) -> RuleSet:
    """Return the rules of a folder (every rule file in it) or of one file; raise ``ValidationErrors``.

    Given ``templates`` (template folders), every e-mail template a policy names must be among them.
    """
    root = Path(path)
    if not root.exists():
        shown, full = display_path(root), str(root.resolve())
        raise InputError(
            f"no such rules folder or file{'' if shown == full else f' (looked for {full})'}; expected a folder of"
            " *.yaml rule files or one rule file (`planwatch init DIR` writes a project folder with the default rules)",
            Location(shown),
        )
    docs: dict[Path, yamlfile.Document] = {}
    errors: dict[Path, list[InputError]] = {}
    shaped: set[Path] = set()  # files that look like a holiday list rather than rules
    candidates = _rule_paths(root)
    for file in candidates:
        try:
            doc = _read(file)
        except InputError as exc:
            errors[file] = exc.errors if isinstance(exc, ValidationErrors) else [exc]
            continue
        if _looks_like_holidays(doc.data):
            shaped.add(file)
        try:
            docs[file] = _check_shape(doc)
        except InputError as exc:
            errors[file] = [exc]
    # A file named as a holiday list is data: it is read (and its errors told) as such.
    named = {ref for file, doc in docs.items() for ref in _holiday_refs(file, doc)}
    # A rule file that could not be read may be the one naming a holiday list: that list is then left unsaid.
    if any(file.resolve() not in named for file in errors if file not in shaped):
        named |= {file.resolve() for file in shaped}
    rule_docs = {file: doc for file, doc in docs.items() if file.resolve() not in named}
    found = [e for file, errs in errors.items() if file.resolve() not in named for e in errs]
    holidays = _Holidays()
    loaded: list[_Loaded] = []
    causes: list[str] = []
    campaigns: list[CampaignRule] = []
    for file, doc in rule_docs.items():
        try:
            loaded.extend(_policies(file, doc, holidays, causes, campaigns))
        except ValidationErrors as exc:
            found.extend(exc.errors)
    found.extend(_duplicate_names(rule_docs.values()))
    named_templates = tuple(t for x in loaded for t in x.templates)
    if templates is not None:
        found.extend(_unknown_templates(named_templates, templates))
    files = [doc.path for doc in rule_docs.values()]
    if found:
        raise ValidationErrors(_in_file_order(found, [display_path(f) for f in candidates]))
    return RuleSet(
        tuple(x.policy for x in loaded),
        tuple(x.place for x in loaded),
        tuple(files),
        tuple(holidays.used),
        named_templates,
        tuple(causes) or DEFAULT_DELAY_CAUSES,
        tuple(x.verifier for x in loaded if x.verifier is not None),
        tuple(campaigns),
    )


def template_names(folders: Sequence[Path]) -> list[str]:
    """Return the message templates of ``folders``: ``NAME`` of each ``email/NAME.txt.j2`` (partials left out)."""
    found = {p.name.removesuffix(".txt.j2") for folder in folders for p in (Path(folder) / "email").glob("*.txt.j2")}
    return sorted(name for name in found if not name.startswith("_"))


def _unknown_templates(named: Sequence[tuple[str, Location, str]], folders: Sequence[Path]) -> Iterator[InputError]:
    known = template_names(folders)
    where = ", ".join(display_path(Path(folder) / "email") for folder in folders) or "no template folder"
    for name, place, crumb in named:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        yield InputError(
            f"{crumb}: unknown template {name!r}{hint}: no email/{name}.txt.j2 in {where}; "
            f"expected one of {', '.join(known) or '(none)'}",
            place,
        )


def calendar_for(delivery: Delivery, tz: str | None = None, country: str | None = None) -> BusinessCalendar:
    """Return the business-day calendar of ``delivery`` (shared between policies that agree); with ``tz`` and
    ``country``, that of a recipient in that zone from that country (their country's holidays under
    ``holidays_by_country``, else their zone's under ``holidays_by_zone``, else ``holidays``)."""
    return _calendar(tuple(sorted(set(delivery.holidays_for(tz, country)))), delivery.business_days)


WORKDAY = timedelta(hours=8)  # a message found this long after a business day's delivery hour waits for the next


def working_instant(now: datetime, tz: str, country: str | None = None, rules: RuleSet | None = None) -> datetime:
    """Return when a message nobody is waiting for at their screen (a campaign's request, a request to verify, a
    notice to someone other than the person who just acted) reaches a recipient in zone ``tz``: at ``now`` during
    their working day (a business day of their calendar, from the delivery hour for eight hours, outside quiet
    hours), else at their next delivery hour on a business day, as reminders go. The rules' first policy (normally
    the defaults) gives the delivery hour and the business days; without rules, 09:00 on weekdays."""
    delivery = rules.policies[0].delivery if rules is not None and rules.policies else Delivery()
    calendar = calendar_for(delivery, tz, country)
    hour, quiet = delivery.hour, delivery.quiet_hours
    if quiet is not None and _quiet(hour, quiet):
        hour = quiet[1]
    place = zone(tz)
    local = now.astimezone(place)
    opens = datetime.combine(local.date(), hour, place).astimezone(UTC)
    if (
        calendar.on_or_after(local.date()) == local.date()
        and opens <= now < opens + WORKDAY
        and not (quiet is not None and _quiet(local.time(), quiet))
    ):
        return now
    day = calendar.on_or_after(local.date() if local.time() <= hour else local.date() + timedelta(days=1))
    return datetime.combine(day, hour, place).astimezone(UTC)


def _quiet(moment: time, quiet: tuple[time, time]) -> bool:
    begin, end = quiet
    return begin <= moment < end if begin < end else moment >= begin or moment < end


@functools.lru_cache(maxsize=64)
def _calendar(holidays: tuple[date, ...], business_days: bool) -> BusinessCalendar:
    return BusinessCalendar(holidays, enabled=business_days)


def describe_policy(policy: Policy) -> list[str]:
    """Return lines saying what ``policy`` sends and when (offsets, not dates)."""
    reminders = [f"{s.before} before the {s.anchor} date → {_who(s.to)} ({s.template})" for s in policy.remind]
    ladder = "; ".join(_step(s) for s in policy.escalate)
    lines = [
        f"reminders: {'; '.join(reminders) or 'none'}",
        f"check-in: {_checkin(policy.checkin)}",
        f"escalation (counted from the missed date): {ladder}" if ladder else "escalation: none",
    ]
    if policy.recurrence.completion_based or policy.recurrence.bound is not None:
        lines.append(f"recurrence: {_recurrence(policy.recurrence)}")
    lines.append(f"closure: {_closure(policy.closure)}")
    if policy.stale is not None:
        lines.append(f"stale: {_stale(policy.stale)}")
    lines.append(f"messages for actions {' or '.join(a.replace('_', ' ') for a in policy.acceptance.remind)}")
    return [*lines, f"delivery: {_delivery(policy.delivery)}", f"limits: {_limits(policy.limits)}"]


def _who(to: Sequence[str]) -> str:
    return ", ".join(to)


def _checkin(rule: CheckinRule | None) -> str:
    if rule is None:
        return "none"
    text = f"every {rule.every} → {_who(rule.to)} ({rule.template})"
    return text + (
        f"; unanswered after {rule.escalate_after}, the escalation ladder starts" if rule.escalate_after else ""
    )


def _step(step: EscalateStep) -> str:
    text = f"{'at once' if step.after.is_zero else step.after} → {_who(step.to)} ({step.template})"
    if step.repeat is not None:
        text += f", again every {step.repeat}"
    return text + (f" until {step.until}" if step.until is not None else "")


def _closure(rule: Closure) -> str:
    if rule.steps == 1:
        return "the owner's done closes the action"
    who = {"supervisor": "the owner's supervisor", "secretariat": "the secretariat"}.get(rule.verifier, rule.verifier)
    return (
        f"the owner reports it implemented, {who} verifies it; reminded every {rule.remind_after}, "
        f"the verifier's supervisor told after {rule.escalate_after}"
    )


def _stale(rule: Stale) -> str:
    text = f"no update for {rule.after} → owner ({rule.template})"
    return text + (
        f"; still none {rule.escalate_after} later, the escalation ladder starts" if rule.escalate_after else ""
    )


def _recurrence(rule: Recurrence) -> str:
    start = "counted from the last completion" if rule.completion_based else "counted from each occurrence"
    return start + (f"; escalates only {rule.bound} after it" if rule.bound is not None else "")


def _delivery(d: Delivery) -> str:
    days = "business days only" if d.business_days else "any day"
    parts = [f"{d.hour:%H:%M} in each recipient's own time zone", days, f"{len(set(d.holidays))} holidays"]
    if d.quiet_hours is not None:
        parts.append(f"quiet {d.quiet_hours[0]:%H:%M}-{d.quiet_hours[1]:%H:%M}")
    return ", ".join([*parts, f"digest {d.digest}"])


def _limits(lim: Limits) -> str:
    return (
        f"at most {lim.max_per_day} a day per recipient; repeats back off to every {lim.backoff_every} "
        f"after {lim.backoff_after}; after downtime, catches up what fell due in the last {lim.catch_up}"
    )


# ---------------------------------------------------------------------------------------- reading


def _rule_paths(root: Path) -> list[Path]:
    if not root.is_dir():
        return [root]
    found = [p for p in root.iterdir() if p.suffix in {".yaml", ".yml"} and p.name not in OTHER_LOADERS and p.is_file()]
    return sorted(found, key=lambda p: p.name)


def _read(path: Path) -> yamlfile.Document:
    if path.is_file() and not path.read_bytes().strip():
        raise InputError(EMPTY, Location(display_path(path), 1))
    doc = parse_yaml(yamlfile.read_text(path, what="rule file"), display_path(path))
    if doc.data is None:
        raise InputError(EMPTY, Location(doc.path, 1))
    return doc


def _looks_like_holidays(data: Any) -> bool:
    """Return whether parsed YAML has a holiday list's shape: a list, or ``holidays:`` without rules."""
    if isinstance(data, list):
        return bool(data) and all(isinstance(day, date) for day in data)
    return isinstance(data, Mapping) and "holidays" in data and not {"policies", "defaults"} & set(data)


def _check_shape(doc: yamlfile.Document) -> yamlfile.Document:
    if not isinstance(doc.data, Mapping):
        got = "a list" if isinstance(doc.data, list) else repr(doc.data)
        raise InputError(f"expected a mapping with 'policies:' (and optionally 'defaults:'), got {got}", doc.locate(()))
    return doc


@dataclass(frozen=True, slots=True)
class _Loaded:
    policy: Policy
    place: Location  # where the policy starts
    templates: tuple[tuple[str, Location, str], ...] = ()
    verifier: tuple[str, Location] | None = None  # a verifier named by owner id, and where


def _policies(
    path: Path, doc: yamlfile.Document, holidays: _Holidays, causes: list[str], campaigns: list[CampaignRule]
) -> Iterator[_Loaded]:
    """Yield each policy of a file with the file's defaults merged in; add its ``delay_causes`` to ``causes`` and
    its ``campaigns`` to ``campaigns``."""
    errors = [holidays.resolve(path, doc, loc) for loc in _delivery_locs(doc.data)]
    flat = [e for errs in errors for e in errs]
    try:
        parsed = yamlfile.validate(RuleFile, doc)
    except ValidationErrors as exc:
        flat.extend(_explain_unknown_key(e) for e in exc.errors)
        raise ValidationErrors(flat) from None
    if "policies" not in doc.data:
        flat.append(
            InputError(
                "missing required key 'policies'; expected a list of policies (it may be empty: 'policies: []')",
                doc.locate(()),
            )
        )
    if flat:
        raise ValidationErrors(flat)
    causes.extend(c.strip() for c in parsed.delay_causes or () if c.strip() not in causes)
    campaigns.extend(parsed.campaigns)
    for i, policy in enumerate(parsed.policies):
        merged = _with_defaults(policy, parsed.defaults)
        yield _Loaded(merged, doc.locate(("policies", i)), _templates(doc, i, merged), _verifier(doc, i, merged))


def _verifier(doc: yamlfile.Document, i: int, policy: Policy) -> tuple[str, Location] | None:
    """Return the owner id policy ``i`` names as its verifier, at its ``verifier:`` value (or the defaults')."""
    named = policy.closure.verifier
    if named in ("supervisor", "secretariat"):
        return None
    own = _node(doc.data, ("policies", i))
    said = isinstance(own, Mapping) and isinstance(own.get("closure"), Mapping) and "verifier" in own["closure"]
    return named, doc.locate(("policies", i, "closure", "verifier") if said else ("defaults", "closure", "verifier"))


def _templates(doc: yamlfile.Document, i: int, policy: Policy) -> tuple[tuple[str, Location, str], ...]:
    """Return each template policy ``i`` names, at its ``template:`` value (or at its step, for the default)."""
    steps: list[tuple[Loc, str]] = [(("policies", i, "remind", j), s.template) for j, s in enumerate(policy.remind)]
    if policy.checkin is not None:
        steps.append((("policies", i, "checkin"), policy.checkin.template))
    if policy.stale is not None:
        said = isinstance(_node(doc.data, ("policies", i)), Mapping) and "stale" in _node(doc.data, ("policies", i))
        steps.append((("policies", i, "stale") if said else ("defaults", "stale"), policy.stale.template))
    steps += [(("policies", i, "escalate", j), s.template) for j, s in enumerate(policy.escalate)]
    found: list[tuple[str, Location, str]] = []
    for loc, name in steps:
        try:
            node = _node(doc.data, loc)
        except (KeyError, IndexError, TypeError):
            node = None
        written = isinstance(node, Mapping) and "template" in node
        at: Loc = (*loc, "template") if written else loc
        found.append((name, doc.locate(at), yamlfile.breadcrumb((*loc, "template"))))
    return tuple(found)


def _with_defaults(policy: Policy, defaults: Defaults) -> Policy:
    """Return ``policy`` with the file's defaults under every delivery and limits key it does not set."""

    def merged(base: BaseModel, own: BaseModel) -> Any:
        return base.model_copy(update={key: getattr(own, key) for key in own.model_fields_set})

    own = policy.model_fields_set
    return policy.model_copy(
        update={
            "delivery": merged(defaults.delivery, policy.delivery),
            "limits": merged(defaults.limits, policy.limits),
            "closure": merged(defaults.closure, policy.closure),
            "stale": policy.stale if "stale" in own else defaults.stale,
            "acceptance": policy.acceptance if "acceptance" in own else defaults.acceptance,
        }
    )


def _delivery_locs(data: Mapping[str, Any]) -> Iterator[Loc]:
    defaults = data.get("defaults")
    if isinstance(defaults, Mapping) and isinstance(defaults.get("delivery"), Mapping):
        yield ("defaults", "delivery")
    policies = data.get("policies")
    for i, policy in enumerate(policies if isinstance(policies, list) else ()):
        if isinstance(policy, Mapping) and isinstance(policy.get("delivery"), Mapping):
            yield ("policies", i, "delivery")


def _node(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def _holiday_refs(path: Path, doc: yamlfile.Document) -> Iterator[Path]:
    if isinstance(doc.data, Mapping):
        for loc in _delivery_locs(doc.data):
            node = _node(doc.data, loc)
            refs = [node.get("holidays")]
            for key in ("holidays_by_zone", "holidays_by_country"):
                by = node.get(key)
                refs += [ref for ref in (by.values() if isinstance(by, Mapping) else ()) if ref != PACKAGE]
            yield from ((path.parent / ref).resolve() for ref in refs if isinstance(ref, str))


# --------------------------------------------------------------------------------------- holidays

PACKAGE = "package"  # under holidays_by_country: the ``holidays`` package's calendar of that country


def package_holidays(code: str, doc: yamlfile.Document, where: Loc) -> tuple[list[date], list[InputError]]:
    """Return the public holidays of country ``code`` from the ``holidays`` package (over the years holiday files'
    yearly rules cover), or the error, at ``where``'s ``code`` key, of a country the package does not know."""
    import holidays as calendars

    if code not in calendars.list_supported_countries():
        return [], [
            InputError(
                f"{yamlfile.breadcrumb((*where, code))}: the holidays package has no calendar for {code!r}; "
                "expected a country it knows, or a holiday file for this one",
                doc.locate_key(where, code),
            )
        ]
    first, last = RRULE_YEARS
    return sorted(calendars.country_holidays(code, years=range(first, last + 1))), []


class _Holidays:
    """Holiday files read during one load, each read once however many policies name it."""

    def __init__(self) -> None:
        self.read: dict[Path, list[date]] = {}
        self.used: list[str] = []

    def resolve(self, path: Path, doc: yamlfile.Document, delivery: Loc) -> list[InputError]:
        """Replace each holiday file's name (``delivery.holidays``, each zone's under ``delivery.holidays_by_zone``
        and each country's under ``delivery.holidays_by_country``, where ``package`` names the ``holidays``
        package's calendar of that country) by its dates; return their errors."""
        node = _node(doc.data, delivery)
        errors = self._resolve_one(path, doc, delivery, node, "holidays")
        by_zone = node.get("holidays_by_zone")
        if isinstance(by_zone, dict):
            for key in list(by_zone):
                errors += self._resolve_one(path, doc, (*delivery, "holidays_by_zone"), by_zone, key)
        by_country = node.get("holidays_by_country")
        if isinstance(by_country, dict):
            where = (*delivery, "holidays_by_country")
            for key in list(by_country):
                problem = country_problem(key)
                if problem is not None:  # said here, at the key; the model is then given only good codes
                    errors.append(InputError(f"{yamlfile.breadcrumb(where)}: {problem}", doc.locate_key(where, key)))
                    del by_country[key]
                elif by_country[key] == PACKAGE:
                    dates, error = package_holidays(key, doc, where)
                    by_country[key] = dates
                    errors += error
                else:
                    errors += self._resolve_one(path, doc, where, by_country, key)
        return errors

    def _resolve_one(
        self, path: Path, doc: yamlfile.Document, parent: Loc, node: dict[str, Any], key: str
    ) -> list[InputError]:
        ref = node.get(key)
        if not isinstance(ref, str):
            return []
        file = (path.parent / ref).resolve()
        if file in self.read:
            node[key] = self.read[file]
            return []  # its errors, if any, were reported where it was first named
        dates, errors = self._load(file, doc, parent, key, ref)
        self.read[file] = dates
        if not errors:
            self.used.append(display_path(file))
        node[key] = dates
        return errors

    @staticmethod
    def _load(
        file: Path, doc: yamlfile.Document, parent: Loc, key: str, ref: str
    ) -> tuple[list[date], list[InputError]]:
        try:
            text = yamlfile.read_text(file, what="holiday file")
        except InputError as exc:
            return [], [
                InputError(
                    f"{yamlfile.breadcrumb((*parent, key))}: cannot read {ref!r} ({exc}); "
                    "expected the path, relative to this rule file, "
                    "of a YAML list of dates or an iCalendar (.ics) file",
                    doc.locate_key(parent, key),
                )
            ]
        try:
            return read_holidays(file, text), []
        except ValidationErrors as exc:
            return [], exc.errors
        except InputError as exc:
            return [], [exc]


# ----------------------------------------------------------------------------------------- errors


# Which model a mapping at a breadcrumb (list indexes left out) is, to list its keys on a typo.
MODELS: dict[str, type[BaseModel]] = {
    "": RuleFile,
    "campaigns": CampaignRule,
    "defaults": Defaults,
    "defaults.delivery": Delivery,
    "defaults.limits": Limits,
    "policies": Policy,
    "policies.match": Match,
    "policies.remind": RemindStep,
    "policies.checkin": CheckinRule,
    "policies.escalate": EscalateStep,
    "policies.delivery": Delivery,
    "policies.limits": Limits,
    "policies.recurrence": Recurrence,
    "policies.closure": Closure,
    "policies.stale": Stale,
    "policies.acceptance": Acceptance,
    "defaults.closure": Closure,
    "defaults.stale": Stale,
    "defaults.acceptance": Acceptance,
}
UNKNOWN_KEY = re.compile(r"^(?P<crumb>\S+): unknown key (?P<key>'[^']*')$")


def _explain_unknown_key(error: InputError) -> InputError:
    """Add what the key may have meant and which keys the mapping takes."""
    found = UNKNOWN_KEY.match(error.message)
    if found is None:
        return error
    parent = re.sub(r"\[\d+\]", "", found["crumb"]).rpartition(".")[0]
    model = MODELS.get(parent)
    if model is None:
        return error
    keys = list(model.model_fields)
    key = found["key"].strip("'")
    close = difflib.get_close_matches(key, keys, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if (parent, key) == ("", "holidays"):
        hint = " (a holiday list is read only when a rule file names it under delivery: holidays:)"
    return InputError(f"{error.message}{hint}; expected one of {', '.join(keys)}", error.location)


def _duplicate_names(docs: Iterable[yamlfile.Document]) -> Iterator[InputError]:
    """Yield an error for each policy whose name an earlier one has (read from the YAML, valid or not)."""
    seen: dict[str, Location] = {}
    for doc in docs:
        policies = doc.data.get("policies")
        for i, policy in enumerate(policies if isinstance(policies, list) else ()):
            name = policy.get("name") if isinstance(policy, Mapping) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                yield doc.error(
                    ("policies", i, "name"),
                    f"policy name {name!r} is already used at {seen[name]}; "
                    "expected each policy to have a name of its own",
                )
            else:
                seen[name] = doc.locate(("policies", i))


def _in_file_order(errors: list[InputError], files: Sequence[str]) -> list[InputError]:
    """Sort errors by file (rule files in load order, then holiday files), then by line and column."""
    order = {name: n for n, name in enumerate(files)}
    for e in errors:
        path = e.location.path if e.location else ""
        order.setdefault(path, len(order))

    def key(e: InputError) -> tuple[int, int, int]:
        loc = e.location
        return (order[loc.path if loc else ""], (loc.line or 0) if loc else 0, (loc.col or 0) if loc else 0)

    return sorted(errors, key=key)
