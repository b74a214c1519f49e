"""Evidence: files and links attached to a closure report or a dated update.

A file is checked before it is kept: its name must end in a type people use for evidence
(``ACCEPTED``), its first bytes must say the same (a ``.pdf`` that is really a program is refused;
``filetype`` reads the magic bytes), and it must not be larger than the configured limit. It is kept in
the database (``Evidence.data``) or, when a folder is configured (``PLANWATCH_EVIDENCE_DIR``), in that
folder under its sha256, so the same file attached twice is stored once. A link must be an http(s)
address. The web serves a file only to people who may see its action, always as an attachment.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import filetype
from sqlmodel import Session, col, select

from engine.errors import InputError
from engine.store.followup_models import Evidence
from engine.store.models import Action


def N_(message: str) -> str:
    """Mark ``message`` for translation: the pages say a refusal in their reader's language."""
    return message


# extension → (what people call it, the Content-Type it is served with, the type its first bytes must show)
ACCEPTED: dict[str, tuple[str, str, str | None]] = {
    "pdf": ("PDF", "application/pdf", "pdf"),
    "docx": ("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "odt": (N_("OpenDocument text"), "application/vnd.oasis.opendocument.text", "odt"),
    "ods": (N_("OpenDocument spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet", "ods"),
    "png": (N_("PNG image"), "image/png", "png"),
    "jpg": (N_("JPEG image"), "image/jpeg", "jpg"),
    "jpeg": (N_("JPEG image"), "image/jpeg", "jpg"),
    "txt": (N_("plain text"), "text/plain; charset=utf-8", None),
    "csv": ("CSV", "text/csv; charset=utf-8", None),
}
ACCEPTED_WORDS = N_("PDF, Word (.docx), Excel (.xlsx), OpenDocument (.odt, .ods), PNG, JPEG, plain text (.txt) or CSV")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_NAME = 120
MAX_URL = 2000


class EvidenceError(InputError):
    """A file or link that cannot be kept as evidence; the message names it and says what is accepted.

    ``template`` (marked with ``N_``) and ``values`` let a page say it in its reader's language.
    """

    def __init__(self, template: str, **values: str) -> None:
        super().__init__(template % values if values else template)
        self.template, self.values = template, values


@dataclass(frozen=True, slots=True)
class EvidenceStore:
    """Where evidence files go (``folder``: None keeps them in the database) and how large one may be."""

    folder: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES


def megabytes(size: int) -> str:
    """Return a size in bytes as people read it ("2.5 MB", "800 KB")."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if size >= 1024:
        return f"{round(size / 1024)} KB"
    return f"{size} bytes"


def clean_name(name: str) -> str:
    """Return a file name safe to keep and to send back: the last path part, printable, at most 120 characters."""
    base = re.split(r"[\\/]", name.strip())[-1]
    text = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable() and c not in '"<>|*?:')
    text = text.strip(" .")
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 5 else text[:MAX_NAME]
    return text


def check_file(name: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, str]:
    """Return (clean name, Content-Type) of an acceptable evidence file; raise ``EvidenceError`` saying why not."""
    shown = clean_name(name)
    if not shown:
        raise EvidenceError(N_("the file has no name; give it one ending in its type, like report.pdf"))
    ext = shown.rpartition(".")[2].lower() if "." in shown else ""
    if ext not in ACCEPTED:
        raise EvidenceError(
            N_("%(name)s: .%(ext)s files are not accepted as evidence; send %(accepted)s")
            if ext
            else N_("%(name)s: files without a type in their name are not accepted as evidence; send %(accepted)s"),
            name=shown,
            ext=ext,
            accepted=ACCEPTED_WORDS,
        )
    if not data:
        raise EvidenceError(N_("%(name)s: the file is empty; choose the file again"), name=shown)
    if len(data) > max_bytes:
        raise EvidenceError(
            N_(
                "%(name)s: the file is %(size)s, more than the %(limit)s accepted; "
                "send a smaller file or a link to where it is kept"
            ),
            name=shown,
            size=megabytes(len(data)),
            limit=megabytes(max_bytes),
        )
    words, content_type, magic = ACCEPTED[ext]
    found = filetype.guess(data)
    if magic is None:
        if found is not None or not _is_text(data):
            raise EvidenceError(
                N_("%(name)s: the name says %(words)s, but the file is not text; check it is the right file"),
                name=shown,
                words=words,
            )
    elif found is None or found.extension != magic:
        raise EvidenceError(
            N_("%(name)s: the name says %(words)s, but its content is a .%(seen)s file; check it is the right file")
            if found is not None
            else N_(
                "%(name)s: the name says %(words)s, but its content is not a file of that type; "
                "check it is the right file"
            ),
            name=shown,
            words=words,
            seen=found.extension if found is not None else "",
        )
    return shown, content_type


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_link(url: str) -> str:
    """Return a link that may be kept as evidence (an http or https address); raise ``EvidenceError`` if not."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or len(text) > MAX_URL:
        raise EvidenceError(
            N_("%(link)s is not a web address; give links like https://example.org/report.pdf"), link=repr(text[:80])
        )
    if any(c.isspace() or not c.isprintable() for c in text):
        raise EvidenceError(
            N_("%(link)s: a web address has no spaces; copy it again from the browser"), link=repr(text[:80])
        )
    return text


def attach_file(
    session: Session,
    action: Action,
    now: datetime,
    *,
    who: str,
    name: str,
    data: bytes,
    store: EvidenceStore,
    closure_id: int | None = None,
    update_id: int | None = None,
) -> Evidence:
    """Check and keep a file about ``action`` (of a closure report or an update); return its row (``now``: UTC)."""
    shown, content_type = check_file(name, data, store.max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    stored = _save(store.folder, digest, data) if store.folder is not None else ""
    assert action.id is not None
    row = Evidence(
        action_id=action.id,
        closure_id=closure_id,
        update_id=update_id,
        kind="file",
        name=shown,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        data=None if stored else data,
        stored_path=stored,
        at=now,
        who=who,
    )
    session.add(row)
    return row


def attach_link(
    session: Session,
    action: Action,
    now: datetime,
    *,
    who: str,
    url: str,
    closure_id: int | None = None,
    update_id: int | None = None,
) -> Evidence:
    """Keep a link about ``action`` (of a closure report or an update); return its row (``now``: UTC)."""
    text = check_link(url)
    assert action.id is not None
    row = Evidence(
        action_id=action.id,
        closure_id=closure_id,
        update_id=update_id,
        kind="link",
        url=text,
        name=text,
        at=now,
        who=who,
    )
    session.add(row)
    return row


def _save(folder: Path, digest: str, data: bytes) -> str:
    """Write ``data`` under ``folder`` by its sha256 (once); return the path relative to the folder."""
    relative = f"{digest[:2]}/{digest}"
    target = folder / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    return relative


def content_of(evidence: Evidence, store: EvidenceStore) -> bytes:
    """Return a file's bytes, from the database or the folder; raise ``EvidenceError`` when it is missing."""
    if evidence.data is not None:
        return evidence.data
    if not evidence.stored_path or store.folder is None:
        raise EvidenceError(f"{evidence.name}: the file is not kept here (no evidence folder is configured)")
    path = store.folder / evidence.stored_path
    try:
        data = path.read_bytes()
    except OSError:
        raise EvidenceError(f"{evidence.name}: the file is missing from the evidence folder") from None
    if hashlib.sha256(data).hexdigest() != evidence.sha256:
        raise EvidenceError(f"{evidence.name}: the file in the evidence folder was changed since it was attached")
    return data


def evidence_of(session: Session, action_id: int) -> list[Evidence]:
    """Return the evidence of one action, oldest first."""
    query = select(Evidence).where(Evidence.action_id == action_id).order_by(col(Evidence.at), col(Evidence.id))
    return list(session.exec(query).all())


def evidence_for(
    session: Session, *, closure_ids: Sequence[int] = (), update_ids: Sequence[int] = ()
) -> list[Evidence]:
    """Return the evidence of the given closure reports and updates, oldest first."""
    found: list[Evidence] = []
    if closure_ids:
        found += session.exec(select(Evidence).where(col(Evidence.closure_id).in_(list(closure_ids)))).all()
    if update_ids:
        found += session.exec(select(Evidence).where(col(Evidence.update_id).in_(list(update_ids)))).all()
    return sorted({e.id: e for e in found}.values(), key=lambda e: (e.at, e.id or 0))


def served_type(evidence: Evidence) -> str:
    """Return the Content-Type a file is served with: its checked type, never HTML."""
    ext = evidence.name.rpartition(".")[2].lower()
    return ACCEPTED[ext][1] if ext in ACCEPTED else "application/octet-stream"


def disposition(name: str) -> str:
    """Return a Content-Disposition that makes the browser save the file (RFC 6266, with an ASCII fallback)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name) or "evidence"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
