"""``planwatch init DIR``: a new project folder that a secretariat edits, from the shipped files.

It holds ``rules/`` (copies of the default rule files), ``plans/`` (the example plan, its owners
and progress file), an empty ``templates/`` for overrides with a README, and a README saying what
each folder is for and what to run next. It is written only into a new or empty folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.errors import InputError, Location, display_path
from engine.shipped import plans_folder, rules_folder, templates_folder

SKIPPED = shutil.ignore_patterns("__pycache__", "*.py[co]", ".*")

README = """\
# A planwatch project

planwatch reads the folders below when it runs in this folder (`cd` here first).

| folder | what it is for |
|---|---|
| `plans/` | the plan and the people: `gb276-tc2-implementation-plan.txt` is the example plan (ILO Governing Body, GB.276/TC/2, 1999); `owners.yaml` lists the owners (name, e-mail, time zone, supervisor); `progress.yaml` is the example's progress, which the demo replays. Put your own plan and owners here. |
| `rules/` | when reminders, check-ins and escalations go out (`default.yaml`), the holidays no message goes out on (`holidays.yaml`), who owns which section (`owners.yaml`) and events with known dates (`events.yaml`). After an edit run `planwatch rules check`. |
| `templates/` | your own versions of the e-mails, pages and report, file by file; while it is empty, planwatch uses its own. See `templates/README.md`. |

## What to run next

    planwatch demo                 # the example plan's life, 1999-2001, in out/ (nothing else is touched)
    planwatch import plans/owners.yaml plans/gb276-tc2-implementation-plan.txt
    planwatch actions              # every action, its owner and how its time frame was read
    planwatch review               # the time frames that need a decision
    planwatch run                  # the service: a tick every minute sends what is due

The database is `planwatch.db` in this folder (`PLANWATCH_DATABASE_URL` chooses another). Messages go
to the Maildir `out/maildir` until `PLANWATCH_SMTP_URL` names a mail server. `planwatch --help` lists
every command; `planwatch COMMAND --help` shows one with an example.
"""  # noqa: E501 - a Markdown table row is one line

TEMPLATES_README = """\
# Your templates

planwatch looks for a template here first, then among its own: a file here replaces planwatch's
file of the same name and place, one file at a time. The folder starts empty, so everything is
planwatch's own.

    email/NAME.txt.j2, email/NAME.html.j2   the e-mails: reminder, final_reminder, overdue, escalation,
                                           checkin, digest, not_mine, extension_granted, delivery_report
    web/NAME.html.j2                        the web pages
    report/report.html.j2                   the progress report, as the web pages show it

Start from a copy of planwatch's own file and change it; when this folder was written they were in
{shipped}
(`email/README.md` there lists what each e-mail template is given). After an edit run
`planwatch templates check`: it renders every e-mail template against sample messages and lists
each problem as FILE:LINE.
"""


def new_project(target: Path) -> list[Path]:
    """Write a project folder at ``target`` (new or empty); return the files written, in order.

    Raises ``InputError`` (nothing written) when ``target`` is a file or a folder that is not empty.
    """
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "the folder is not empty" if target.is_dir() else "a file is there"
        raise InputError(
            f"{what}; planwatch init writes a project only into a new or empty folder (nothing was written)",
            Location(display_path(target)),
        )
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(rules_folder(), target / "rules", ignore=SKIPPED)
    shutil.copytree(plans_folder(), target / "plans", ignore=SKIPPED)
    (target / "templates").mkdir()
    (target / "templates" / "README.md").write_text(
        TEMPLATES_README.format(shipped=templates_folder()), encoding="utf-8"
    )
    (target / "README.md").write_text(README, encoding="utf-8")
    return sorted(p for p in target.rglob("*") if p.is_file())
