"""YAML loading that remembers where every value came from.

``load`` reads a file with ruamel.yaml, refuses duplicate keys, and returns a ``Document`` whose
mappings and lists know the line and column of every key and item. A file is read with ruamel's C
parser (libyaml, ``typ="safe"``, with a constructor that keeps each node's position): on a plan
of 100,000 actions that is about five times faster than the round-trip parser. Where the C parser
refuses the text, the round-trip parser reads it again and says exactly what is wrong and where
(and a ``%YAML 1.1`` directive, which only it honours, goes to it directly). Both resolve scalars
by the YAML 1.2 core schema, as ruamel does by default.
``validate`` runs a pydantic model over a document and turns every validation error into
``path:line:col: where: what``, all errors at once, as pre-commit does for its config (with Home
Assistant's line numbers). This module knows no schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from engine.errors import InputError, Location, ValidationErrors, display_path

M = TypeVar("M", bound=BaseModel)


def read_text(path: str | Path, *, what: str = "file") -> str:
    """Return the text of ``path``, or raise ``InputError`` saying why it cannot be read."""
    p = Path(path)
    name = display_path(p)
    if not p.exists():
        raise InputError(f"no such {what}", Location(name))
    if p.is_dir():
        raise InputError(f"is a directory; expected a {what}", Location(name))
    raw = p.read_bytes()
    nul = raw.find(b"\x00", 0, 8192)
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        raise InputError(f"is a binary file; expected a {what} in text (UTF-8)", Location(name, line))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); expected a {what} in UTF-8",
            Location(name, line),
        ) from None
    if not text.strip():
        raise InputError(f"is empty; expected a {what}", Location(name, 1))
    return text


@dataclass(frozen=True)
class Document:
    """A loaded YAML file: its data (mappings and lists that know their positions) and its name."""

    path: str
    data: Any

    def locate(self, loc: Sequence[str | int]) -> Location:
        """Return the position of the value at ``loc`` (keys and indexes), or the nearest parent."""
        return Location(self.path, *_position(self.data, loc))

    def locate_key(self, parent: Sequence[str | int], key: str | int) -> Location:
        """Return the position of the key ``key`` itself inside the mapping at ``parent``."""
        node = self.data
        for part in parent:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return self.locate(parent)
        at = _key_at(node, key)
        return Location(self.path, at[0] + 1, at[1] + 1) if at else self.locate(parent)

    def error(self, loc: Sequence[str | int], message: str) -> InputError:
        """Build an ``InputError`` at ``loc`` whose text starts with the breadcrumb of ``loc``."""
        where = breadcrumb(loc)
        return InputError(f"{where}: {message}" if where else message, self.locate(loc))


def load(path: str | Path, *, what: str = "YAML file") -> Document:
    """Read and parse ``path``; raise ``InputError`` with line and column on bad YAML."""
    name = display_path(path)
    return loads(read_text(path, what=what), name)


def loads(text: str, name: str) -> Document:
    """Parse YAML ``text`` that came from the file called ``name``."""
    if not DIRECTIVE.search(text):
        try:
            return Document(name, _fast(text))
        except Exception:  # whatever the C parser refuses, the round-trip parser decides, as it always did
            pass
    try:
        data = _round_trip(text)
    except DuplicateKeyError as exc:
        raise _marked_error(exc, name, _duplicate_message(exc)) from None
    except MarkedYAMLError as exc:
        raise _marked_error(exc, name, f"invalid YAML: {exc.problem or exc.context}") from None
    except ReaderError as exc:  # a control character: the reader knows only the offset
        line, col = _line_col(text, exc.position)
        raise InputError(
            f"character {exc.character!r} is not allowed in YAML; expected printable text", Location(name, line, col)
        ) from None
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", Location(name)) from None
    except ValueError as exc:  # ruamel builds timestamps unguarded: "month must be in 1..12"
        raise _impossible_date(text, name, exc) from None
    return Document(name, data)


DIRECTIVE = re.compile(r"^%", re.MULTILINE)  # %YAML 1.1 and the like


class _Map(dict[Any, Any]):
    """A mapping read by the C parser: ``at`` is its (line, col), ``places`` each key's and value's (0-based)."""

    at: tuple[int, int]
    places: dict[Any, tuple[tuple[int, int], tuple[int, int]]]


class _Seq(list[Any]):
    """A list read by the C parser: ``at`` is its (line, col), ``items`` each item's (0-based)."""

    at: tuple[int, int]
    items: list[tuple[int, int]]


def _at(node: Node) -> tuple[int, int]:
    return node.start_mark.line, node.start_mark.column


class _Placing(SafeConstructor):
    """The safe constructor, building mappings and lists that keep their nodes' positions."""

    def construct_yaml_map(self, node: MappingNode) -> Iterator[_Map]:
        data = _Map()
        yield data
        data.update(self.construct_mapping(node))  # merges (<<) folded in, duplicate keys refused
        data.at, data.places = _at(node), {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                key = self.construct_object(key_node)
                if isinstance(key, str | int | float | bool | date):
                    data.places[key] = (_at(key_node), _at(value_node))

    def construct_yaml_seq(self, node: SequenceNode) -> Iterator[_Seq]:
        data = _Seq()
        yield data
        data.extend(self.construct_sequence(node))
        data.at, data.items = _at(node), [_at(item) for item in node.value]


_Placing.add_constructor("tag:yaml.org,2002:map", _Placing.construct_yaml_map)
_Placing.add_constructor("tag:yaml.org,2002:seq", _Placing.construct_yaml_seq)


def _fast(text: str) -> Any:
    yaml = YAML(typ="safe", pure=False)  # the C parser when ruamel.yaml.clib is installed
    yaml.Constructor = _Placing
    yaml.allow_duplicate_keys = False
    return yaml.load(text)


def _round_trip(text: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml.load(text)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


IMPOSSIBLE_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


def _impossible_date(text: str, name: str, exc: ValueError) -> InputError:
    """Find the date YAML could not build (2000-13-01) and say where it is."""
    for n, line in enumerate(text.splitlines(), 1):
        for m in IMPOSSIBLE_DATE.finditer(line.split("#")[0]):
            try:
                date(*map(int, m.groups()))
            except ValueError:
                return InputError(
                    f"{m[0]} is not a date ({exc}); expected a date like 2000-04-30", Location(name, n, m.start() + 1)
                )
    return InputError(f"invalid YAML: {exc}", Location(name))


def validate(model: type[M], doc: Document) -> M:
    """Return ``model`` validated from ``doc``, or raise ``ValidationErrors`` listing every error."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors = [_to_input_error(doc, err) for err in exc.errors()]
    raise ValidationErrors(_sorted(errors))


# pydantic's words for common mistakes, said the way people who edit YAML would say them.
FRIENDLY = {
    "date_parsing": "expected a date like 2000-04-30",
    "date_from_datetime_parsing": "expected a date like 2000-04-30",
    "date_type": "expected a date like 2000-04-30",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "string_type": "expected text",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list (lines starting with '- ')",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "string_pattern_mismatch": "expected letters, digits, '.', '_' or '-' only",
}


def breadcrumb(loc: Sequence[str | int]) -> str:
    """Return ``actions[3].due`` for the location ``("actions", 3, "due")``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _sorted(errors: list[InputError]) -> list[InputError]:
    def key(e: InputError) -> tuple[int, int]:
        loc = e.location
        return (loc.line or 0, loc.col or 0) if loc else (0, 0)

    return sorted(errors, key=key)


def _to_input_error(doc: Document, err: Mapping[str, Any]) -> InputError:
    loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
    kind = err["type"]
    if kind == "extra_forbidden":
        parent, key = loc[:-1], loc[-1]
        return InputError(f"{breadcrumb(loc)}: unknown key {key!r}", doc.locate_key(parent, key))
    if kind == "missing":
        return doc.error(loc[:-1], f"missing required key {loc[-1]!r}")
    message = FRIENDLY.get(kind) or str(err["msg"])
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind not in {"value_error", "assertion_error"} and "input" in err:
        message += f", got {_short(err['input'])}"
    return doc.error(loc, message)


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _position(node: Any, loc: Sequence[str | int]) -> tuple[int | None, int | None]:
    at = _node_at(node)
    for part in loc:
        inside = (
            part in node
            if isinstance(node, Mapping)
            else isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if not inside:
            break
        at, node = _value_at(node, part) or at, node[part]
    return (at[0] + 1, at[1] + 1) if at else (None, None)


def _node_at(node: Any) -> tuple[int, int] | None:
    if isinstance(node, CommentedMap | CommentedSeq):
        return node.lc.line, node.lc.col
    return getattr(node, "at", None) if isinstance(node, _Map | _Seq) else None


def _value_at(node: Any, part: str | int) -> tuple[int, int] | None:
    """Where the value at key or index ``part`` of ``node`` starts (for a key without one: the key)."""
    if isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
        return tuple(node.lc.item(part))
    if isinstance(node, _Seq) and isinstance(part, int) and 0 <= part < len(node.items):
        return node.items[part]
    if isinstance(node, CommentedMap):
        try:
            return tuple(node.lc.value(part))
        except (KeyError, TypeError):
            return _key_at(node, part)
    if isinstance(node, _Map) and part in node.places:
        return node.places[part][1]
    return None


def _key_at(node: Any, key: str | int) -> tuple[int, int] | None:
    if isinstance(node, CommentedMap) and key in node:
        return tuple(node.lc.key(key))
    if isinstance(node, _Map) and key in node.places:
        return node.places[key][0]
    return None


def _marked_error(exc: MarkedYAMLError, name: str, message: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return InputError(message, Location(name))
    return InputError(message, Location(name, mark.line + 1, mark.column + 1))


def _duplicate_message(exc: DuplicateKeyError) -> str:
    first = exc.context_mark
    problem = (exc.problem or "").strip()
    key = problem.split('"')[1] if problem.count('"') >= 2 else problem
    where = f" (first at line {first.line + 1})" if first is not None else ""
    return f"duplicate key {key!r}{where}; each key may appear once"
