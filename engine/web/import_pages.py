"""*Import a plan* (``/import``): the secretariat uploads a plan file, sees what importing it would store and
change (the same preview as ``planwatch import --dry-run``), and confirms.

The upload is kept in a folder of its own under the system's temporary folder, named by a random token, until
it is imported, uploaded anew or an hour old; nothing is stored in the database before the confirmation, and
an import that fails stores nothing. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.errors import PlanwatchError
from engine.importing import import_paths, preview_plan_file, sheet_options
from engine.languages import gettext
from engine.store import transaction
from engine.store.models import Owner, Plan
from engine.store.plans import ImportReport
from engine.web.auth import PageError, Posted, Signed, SignedIn, engine_of, now_of, same_token, settings_of
from engine.web.templating import N_, page, page_language

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 50 * 1024 * 1024  # a 200-page PDF is a few megabytes
KEEP_SECONDS = 3600  # an upload not imported within the hour is forgotten
UPLOADS = "planwatch-imports"
META = "upload.json"
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
ACCEPT = ".txt,.yaml,.yml,.docx,.pdf,.xlsx,.ods,.csv"
PLACE_WARNING = "the date line's place "  # plan_warnings' line for an unknown place, which names a command option
OPTIONS = ("tz", "date", "sheet", "columns", "encoding")  # the form's fields, kept with the upload
FIELDS = {
    "--tz": "Time zone",
    "--date": "Plan date",
    "--sheet": "Sheet",
    "--columns": "Columns",
    "--encoding": "Encoding",
}
MENTIONS: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (  # an option named inside a line
    (r"with --date YYYY-MM-DD", "in the Plan date field"),
    (r"--date (\d{4}-\d\d-\d\d)", r"the Plan date \1"),
    (r"with --encoding ([\w-]+)", r"with \1 in the Encoding field"),
    (r"with --encoding\b", "in the Encoding field"),
    (r"with --columns (\S+)", r"in the Columns field (\1)"),
    (r"leave --sheet out", "leave the Sheet field empty"),
    (r"--(tz|sheet|columns|encoding|date)\b", lambda m: "the " + FIELDS["--" + m.group(1)] + " field"),
)
REFUSED = "This form is missing its security token or has expired. Go back, reload the page and try again."


def _secretariat(who: Signed) -> None:
    if not who.viewer.sees_all:
        raise PageError(403, N_("Not yours to import"), N_("Only the secretariat and administrators import plans."))


def uploads_folder() -> Path:
    """Return the folder holding the uploads waiting for a confirmation."""
    return Path(tempfile.gettempdir()) / UPLOADS


@router.get("/import")
def import_page(request: Request, who: SignedIn) -> HTMLResponse:
    """Show the upload form."""
    _secretariat(who)
    return _form(request, who)


@router.post("/import")
async def upload(request: Request, who: SignedIn) -> HTMLResponse:
    """Keep the uploaded file and show what importing it would do; store nothing."""
    _secretariat(who)
    fields, files = await _multipart(request)
    if not same_token(fields.get("csrf"), who.csrf):
        raise PageError(403, N_("Form refused"), REFUSED)
    name, data = files.get("plan", ("", b""))
    if not name or not data:
        missing = gettext(page_language(request), "Choose a plan file to upload (the file was missing or empty).")
        return _form(request, who, error=missing, status=400)
    _forget_old(now_of(request).timestamp())
    token = secrets.token_urlsafe(24)
    folder = uploads_folder() / token
    folder.mkdir(parents=True, mode=0o700)
    path = folder / _safe_name(name)
    path.write_bytes(data)
    meta = {"owner": who.viewer.id, "name": Path(name).name or path.name}
    meta.update({key: fields.get(key, "").strip() for key in OPTIONS})
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    return _preview(request, who, token, folder, path, meta)


@router.post("/import/again")
def preview_again(request: Request, posted: Posted) -> HTMLResponse:
    """Show the kept upload's preview again with another time zone, date, sheet, columns or encoding."""
    who, form = posted
    _secretariat(who)
    folder, path, meta = _kept(form.get("token", ""), who)
    meta.update({key: form.get(key, "").strip() for key in OPTIONS})
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    return _preview(request, who, form["token"], folder, path, meta, forget_on_error=False)


@router.post("/import/confirm")
def confirm(request: Request, posted: Posted) -> HTMLResponse:
    """Import the kept upload, as previewed; on an error nothing is stored."""
    who, form = posted
    _secretariat(who)
    folder, path, meta = _kept(form.get("token", ""), who)
    try:
        reports = import_paths(
            engine_of(request),
            [path],
            settings_of(request),
            now_of(request),
            timezone=meta.get("tz") or None,
            sheet_options=_sheet_options(meta),
            names={path: f"{meta['name']} (uploaded by {who.viewer.name})"},
        )
    except PlanwatchError as exc:
        return _form(request, who, error=_one_line(exc, folder), name=meta["name"], status=400)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    done = reports[0]
    assert isinstance(done, ImportReport)  # an owners directory was refused at the preview
    with transaction(engine_of(request)) as session:
        plan = session.get(Plan, done.plan_id)
        unknown_place = plan.zone_review if plan is not None else ""
    names = _owner_names(request, done.owner_changed)
    return page(
        request,
        "import.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        active="import",
        done=done,
        owner_names=names,
        unknown_place=unknown_place,
        warnings=[_in_page_words(w) for w in done.warnings if not w.startswith(PLACE_WARNING)],
    )


def _form(request: Request, who: Signed, *, error: str = "", name: str = "", status: int = 200) -> HTMLResponse:
    return page(
        request,
        "import.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        status=status,
        active="import",
        error=error,
        filename=name,
        accept=ACCEPT,
        done=None,
    )


def _preview(
    request: Request,
    who: Signed,
    token: str,
    folder: Path,
    path: Path,
    meta: dict[str, str],
    *,
    forget_on_error: bool = True,
) -> HTMLResponse:
    """Show the preview of the kept upload; on an error in the file, its one line (the upload is forgotten, unless
    it was already previewed and only the time zone or sheet asked for was wrong)."""
    settings = settings_of(request)
    try:
        shown = preview_plan_file(
            path, engine_of(request), settings, timezone=meta.get("tz") or None, sheet_options=_sheet_options(meta)
        )
    except PlanwatchError as exc:
        if forget_on_error:
            shutil.rmtree(folder, ignore_errors=True)
        return _form(request, who, error=_one_line(exc, folder), name=meta["name"], status=400)
    if shown is None:
        shutil.rmtree(folder, ignore_errors=True)
        message = gettext(page_language(request), "%(file)s: this is an owners directory; this page imports plans.") % {
            "file": meta["name"]
        }
        return _form(request, who, error=message, name=meta["name"], status=400)
    return page(
        request,
        "import_preview.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        active="import",
        shown=shown,
        owner_names=_owner_names(request, shown.changes.owners if shown.changes else []),
        by_section=shown.rows_by_section(),
        warnings=[_in_page_words(w) for w in shown.warnings if not w.startswith(PLACE_WARNING)],
        token=token,
        meta=meta,
    )


def _owner_names(request: Request, changed: list[tuple[str, str | None, str | None]]) -> dict[str, str]:
    """Return the names of the owners an import changes actions from and to, by id."""
    ids = {owner for _, old, new in changed for owner in (old, new) if owner}
    if not ids:
        return {}
    with transaction(engine_of(request)) as session:
        found = (session.get(Owner, owner_id) for owner_id in ids)
        return {owner.id: owner.name for owner in found if owner is not None}


def _kept(token: str, who: Signed) -> tuple[Path, Path, dict[str, str]]:
    """Return the folder, file and facts of an upload this person made and has not imported yet."""
    folder = uploads_folder() / token
    gone = PageError(
        404,
        N_("Upload not found"),
        N_("That upload was already imported or is more than an hour old. Upload the file again."),
    )
    if not TOKEN.fullmatch(token) or not (folder / META).is_file():
        raise gone
    meta: dict[str, str] = json.loads((folder / META).read_text(encoding="utf-8"))
    if meta.get("owner") != who.viewer.id:
        raise gone
    files = [p for p in folder.iterdir() if p.name != META]
    if len(files) != 1:
        raise gone
    return folder, files[0], meta


def _sheet_options(meta: dict[str, str]) -> dict[str, Any]:
    """Read the form's spreadsheet fields as ``planwatch import`` reads its options (the same errors)."""
    return sheet_options(meta.get("sheet"), meta.get("columns"), meta.get("encoding"), meta.get("date"))


def _in_page_words(text: str) -> str:
    """Return an error or warning line with the command's options named as the page's fields."""
    for option, label in FIELDS.items():
        if text.startswith(f"{option}: "):
            text = f"{label}: " + text.removeprefix(f"{option}: ")
    for option, words in MENTIONS:
        text = re.sub(option, words, text)
    return text


def _one_line(exc: PlanwatchError, folder: Path) -> str:
    """Return the error as the CLI prints it, naming the uploaded file rather than where it was kept, and the
    page's fields rather than the command's options."""
    text = str(exc)
    if text.startswith("planwatch: "):  # an option's error, which names no file
        text = text.removeprefix("planwatch: ")
    text = _in_page_words(text)
    for prefix in {str(folder.resolve()), str(folder)}:
        text = text.replace(prefix + "/", "")
    return text


def _safe_name(name: str) -> str:
    """Return the uploaded file's name cut to harmless characters, keeping its suffix (it tells the format)."""
    base = Path(name.replace("\\", "/")).name
    suffix = re.sub(r"[^A-Za-z0-9]", "", Path(base).suffix)[:8].lower()
    stem = re.sub(r"[^A-Za-z0-9._ -]", "_", Path(base).stem).strip(" .")[:80] or "plan"
    return f"{stem}.{suffix}" if suffix else stem


def _forget_old(now: float) -> None:
    """Remove the uploads older than ``KEEP_SECONDS``."""
    root = uploads_folder()
    if not root.is_dir():
        return
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


async def _multipart(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Return the text fields and the files (name, bytes) of a ``multipart/form-data`` body."""
    kind = request.headers.get("content-type", "")
    found = re.search(r'boundary="?([^";]+)"?', kind)
    if not kind.startswith("multipart/form-data") or not found:
        raise PageError(
            400, N_("Not an upload"), N_("This form sends a file; reload the page and choose the file again.")
        )
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD:
        raise PageError(413, N_("File too large"), f"planwatch accepts plan files of up to {MAX_UPLOAD // 2**20} MB.")
    body = await request.body()
    if len(body) > MAX_UPLOAD:
        raise PageError(413, N_("File too large"), f"planwatch accepts plan files of up to {MAX_UPLOAD // 2**20} MB.")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in body.split(b"--" + found.group(1).encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        disposition = next(
            (line for line in head.decode("utf-8", "replace").split("\r\n") if line.lower().startswith("content-disp")),
            "",
        )
        named = re.search(r'\bname="([^"]*)"', disposition)
        if named is None:
            continue
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if filename is not None:
            files[named.group(1)] = (filename.group(1), content)
        else:
            fields[named.group(1)] = content.decode("utf-8", "replace")
    return fields, files
