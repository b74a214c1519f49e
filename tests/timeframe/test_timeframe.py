"""Tests of ``engine.timeframe``: every phrase of the seed plan, 250+ further phrases, properties.

The tables here are also the gold list of ``bench/bench_timeframe.py``: ``SEED`` holds the full
JSON object of every time-frame phrase of the seed plan (reference date 1999-09-28), ``EXTRA``
the kind, dates, rule, event, review flag and milestones of phrases of the kinds real plans,
audit follow-up tables and action plans use.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.timeframe import (
    _CTXS,
    _LIST_PARTS,
    _SEMICOLON_PARTS,
    _WORDINGS,
    KINDS,
    Milestone,
    Schedule,
    _new_milestone,
    _new_schedule,
    _wording,
    clear_caches,
    parse,
)
from engine.timeframe.clauses import _EVENT_SHAPES, _PLANS, _RELATIVE_SHAPES
from engine.timeframe.dated import _SHAPES
from engine.timeframe.tokens import scan, scan_slowly

ROOT = Path(__file__).resolve().parent.parent.parent
SEED_PLAN = ROOT / "plans" / "gb276-tc2-implementation-plan.txt"
SEED_REF = date(1999, 9, 28)
KEYS = ["text", "kind", "start", "due", "rrule", "milestones", "event", "needs_review", "reason"]

# Every distinct time-frame phrase of the seed plan (and the empty cell): the full JSON object
# without "text" (which is the phrase itself).
SEED: dict[str, dict[str, object]] = {
    "Completed by April 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-04-30",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-04-30 (the last day of 'April 2000')."),
    },
    "Annually or at least biennially": {
        "kind": "recurring",
        "start": None,
        "due": None,
        "rrule": "FREQ=YEARLY",
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": (
            "Read as recurring, FREQ=YEARLY ('Annually'); the looser bound 'at least "
            "biennially' (FREQ=YEARLY;INTERVAL=2) is kept here for the escalation rules."
        ),
    },
    "Continuously by e-mail etc. and periodic meetings": {
        "kind": "continuous",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": (
            "Read as continuous work with no end date ('Continuously'); the words 'by "
            "e-mail etc. and periodic meetings' qualify it."
        ),
    },
    "By end 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-12-31",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-12-31 (the date 'end 2000' stands for)."),
    },
    "Continuously": {
        "kind": "continuous",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as continuous work with no end date ('Continuously')."),
    },
    "Completed by November 2000 for 2002-03 P&B": {
        "kind": "deadline",
        "start": None,
        "due": "2000-11-30",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": (
            "Read as a deadline on 2000-11-30 (the last day of 'November 2000'); 'for "
            "2002-03 P&B' names what the work is for, not its date."
        ),
    },
    "Starting immediately": {
        "kind": "start",
        "start": "1999-09-28",
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a start on the reference date 1999-09-28 ('Starting immediately')."),
    },
    "Started, to be continued": {
        "kind": "continuous",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as continuous work with no end date ('Started, to be continued')."),
    },
    "First outputs by September 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-09-30",
        "rrule": None,
        "milestones": [{"label": "First outputs", "due": "2000-09-30", "start": None}],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-09-30 (the last day of 'September 2000')."),
    },
    "At the end of periods appropriate to specific situations": {
        "kind": "event",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": "end of periods appropriate to specific situations",
        "needs_review": True,
        "reason": ("Read as tied to an event, 'end of periods appropriate to specific situations', not to a date."),
    },
    "Biennially (each P&B) and updated periodically": {
        "kind": "recurring",
        "start": None,
        "due": None,
        "rrule": "FREQ=YEARLY;INTERVAL=2",
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": (
            "Read as recurring, FREQ=YEARLY;INTERVAL=2 ('Biennially'); the words '(each "
            "P&B) and updated periodically' qualify it."
        ),
    },
    "Continuously, as feasible": {
        "kind": "continuous",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as continuous work with no end date ('Continuously'); the words 'as feasible' qualify it."),
    },
    "Starting January 2000": {
        "kind": "start",
        "start": "2000-01-01",
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a start on 2000-01-01 (the first day of 'January 2000')."),
    },
    "Ongoing": {
        "kind": "continuous",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as continuous work with no end date ('Ongoing')."),
    },
    "Starting March 2000 for annual reports; November 2000 for global": {
        "kind": "window",
        "start": "2000-03-01",
        "due": "2000-11-30",
        "rrule": None,
        "milestones": [
            {"label": "annual reports", "due": None, "start": "2000-03-01"},
            {"label": "global", "due": "2000-11-30", "start": None},
        ],
        "event": None,
        "needs_review": True,
        "reason": (
            "Read as 2 dated parts (annual reports: start 2000-03-01, global: due "
            "2000-11-30), from the earliest start to the latest due date; 'November 2000 "
            "for global' has no verb of its own and is read as a deadline."
        ),
    },
    "On a regular basis": {
        "kind": "recurring",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": True,
        "reason": (
            "Read as recurring with no calendar rule ('On a regular basis'); the rhythm is not a calendar rule."
        ),
    },
    "By September": {
        "kind": "deadline",
        "start": None,
        "due": "2000-09-30",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": True,
        "reason": (
            "Read as a deadline on 2000-09-30 (the last day of 'September'); no year is "
            "given, so the next one after the reference date is assumed."
        ),
    },
    "By March 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-03-31",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-03-31 (the last day of 'March 2000')."),
    },
    "Planning of review to begin January 2000 and to finish end 2000": {
        "kind": "window",
        "start": "2000-01-01",
        "due": "2000-12-31",
        "rrule": None,
        "milestones": [{"label": "Planning of review", "due": "2000-12-31", "start": "2000-01-01"}],
        "event": None,
        "needs_review": False,
        "reason": (
            "Read as a window from 2000-01-01 (the first day of 'January 2000') to "
            "2000-12-31 (the date 'end 2000' stands for)."
        ),
    },
    "From January 2000 -- as part of review of field structure": {
        "kind": "start",
        "start": "2000-01-01",
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": (
            "Read as a start on 2000-01-01 (the first day of 'January 2000'); the words 'as "
            "part of review of field structure' qualify it without changing the date."
        ),
    },
    "Done by April 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-04-30",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-04-30 (the last day of 'April 2000')."),
    },
    "First results by July 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-07-31",
        "rrule": None,
        "milestones": [{"label": "First results", "due": "2000-07-31", "start": None}],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-07-31 (the last day of 'July 2000')."),
    },
    "First results by October 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-10-31",
        "rrule": None,
        "milestones": [{"label": "First results", "due": "2000-10-31", "start": None}],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-10-31 (the last day of 'October 2000')."),
    },
    "Linked to review of field structure": {
        "kind": "event",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": "review of field structure",
        "needs_review": True,
        "reason": ("Read as tied to an event, 'review of field structure', not to a date."),
    },
    "First part done by January 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-01-31",
        "rrule": None,
        "milestones": [{"label": "First part", "due": "2000-01-31", "start": None}],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-01-31 (the last day of 'January 2000')."),
    },
    "May 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-05-31",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-05-31 (the last day of 'May 2000')."),
    },
    "As required": {
        "kind": "unscheduled",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": True,
        "reason": ("Read as unscheduled: 'As required' names no date."),
    },
    "To be integrated in the field restructuring process": {
        "kind": "event",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": "field restructuring process",
        "needs_review": True,
        "reason": ("Read as tied to an event, 'field restructuring process', not to a date."),
    },
    "Action on these initiatives to start January 2000": {
        "kind": "start",
        "start": "2000-01-01",
        "due": None,
        "rrule": None,
        "milestones": [{"label": "Action on these initiatives", "due": None, "start": "2000-01-01"}],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a start on 2000-01-01 (the first day of 'January 2000')."),
    },
    "Completed by end 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-12-31",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-12-31 (the date 'end 2000' stands for)."),
    },
    "Starting January 2000 and continuing": {
        "kind": "start",
        "start": "2000-01-01",
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a start on 2000-01-01 (the first day of 'January 2000')."),
    },
    "Starting 2000": {
        "kind": "start",
        "start": "2000-01-01",
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a start on 2000-01-01 (the first day of '2000')."),
    },
    "First initiatives first half 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-06-30",
        "rrule": None,
        "milestones": [{"label": "First initiatives", "due": "2000-06-30", "start": None}],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-06-30 (the last day of 'first half 2000')."),
    },
    "As necessary": {
        "kind": "unscheduled",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": True,
        "reason": ("Read as unscheduled: 'As necessary' names no date."),
    },
    "By end 2001, meetings started with five additional donors": {
        "kind": "deadline",
        "start": None,
        "due": "2001-12-31",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": (
            "Read as a deadline on 2001-12-31 (the date 'end 2001' stands for); the words "
            "'meetings started with five additional donors' qualify it without changing the "
            "date."
        ),
    },
    "First initiatives by December 1999": {
        "kind": "deadline",
        "start": None,
        "due": "1999-12-31",
        "rrule": None,
        "milestones": [{"label": "First initiatives", "due": "1999-12-31", "start": None}],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 1999-12-31 (the last day of 'December 1999')."),
    },
    "Under negotiation": {
        "kind": "unscheduled",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": True,
        "reason": ("Read as unscheduled: 'Under negotiation' names no date."),
    },
    "By June 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-06-30",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-06-30 (the last day of 'June 2000')."),
    },
    "Starting December 1999": {
        "kind": "start",
        "start": "1999-12-01",
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a start on 1999-12-01 (the first day of 'December 1999')."),
    },
    "Completed by December 2000": {
        "kind": "deadline",
        "start": None,
        "due": "2000-12-31",
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": False,
        "reason": ("Read as a deadline on 2000-12-31 (the last day of 'December 2000')."),
    },
    "": {
        "kind": "unscheduled",
        "start": None,
        "due": None,
        "rrule": None,
        "milestones": [],
        "event": None,
        "needs_review": True,
        "reason": ("Read as unscheduled: the cell is empty, so no time can be derived."),
    },
}

# (text, reference date, fy_start, kind, start, due, rrule, event, needs_review,
#  milestones as (label, start, due)). The examples come first, then its conventions,
#  numeric dates, multi-part phrases, sessions, fiscal years, recurrences and vague phrases.
Row = tuple[
    str,
    str,
    "int | None",
    str,
    "str | None",
    "str | None",
    "str | None",
    "str | None",
    bool,
    tuple[tuple[str, "str | None", "str | None"], ...],
]
EXTRA: list[Row] = [
    ("By June 2000", "1999-09-28", None, "deadline", None, "2000-06-30", None, None, False, ()),
    ("Completed by end 2000", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    (
        "First outputs by September 2000",
        "1999-09-28",
        None,
        "deadline",
        None,
        "2000-09-30",
        None,
        None,
        False,
        (("First outputs", None, "2000-09-30"),),
    ),
    ("May 2000", "1999-09-28", None, "deadline", None, "2000-05-31", None, None, False, ()),
    ("Q4 2006", "2003-05-10", None, "deadline", None, "2006-12-31", None, None, False, ()),
    ("2nd half of 2005", "2003-05-10", None, "deadline", None, "2005-12-31", None, None, False, ()),
    ("Autumn 2003", "2003-05-10", None, "deadline", None, "2003-11-30", None, None, False, ()),
    ("Starting January 2000", "1999-09-28", None, "start", "2000-01-01", None, None, None, False, ()),
    ("Starting immediately", "2003-05-10", None, "start", "2003-05-10", None, None, None, False, ()),
    ("Effective immediately", "2003-05-10", None, "start", "2003-05-10", None, None, None, False, ()),
    ("ASAP", "2003-05-10", None, "start", "2003-05-10", None, None, None, True, ()),
    ("2005 onwards", "2003-05-10", None, "start", "2005-01-01", None, None, None, False, ()),
    (
        "to begin January 2000 and to finish end 2000",
        "1999-09-28",
        None,
        "window",
        "2000-01-01",
        "2000-12-31",
        None,
        None,
        False,
        (),
    ),
    ("between April and June 2003", "2002-11-15", None, "window", "2003-04-01", "2003-06-30", None, None, False, ()),
    ("from mid-2002 to end 2003", "2002-01-10", None, "window", "2002-07-01", "2003-12-31", None, None, False, ()),
    ("2004-2005", "2003-05-10", None, "window", "2004-01-01", "2005-12-31", None, None, False, ()),
    ("during 2006", "2003-05-10", None, "window", "2006-01-01", "2006-12-31", None, None, False, ()),
    ("over the coming two years", "2003-05-10", None, "window", "2003-05-10", "2005-05-10", None, None, False, ()),
    ("2002-03", "2001-06-01", None, "window", "2002-01-01", "2003-12-31", None, None, False, ()),
    (
        "Phase 1: 2003-2004; Phase 2: 2005-2006",
        "2002-06-01",
        None,
        "window",
        "2003-01-01",
        "2006-12-31",
        None,
        None,
        False,
        (("Phase 1", "2003-01-01", "2004-12-31"), ("Phase 2", "2005-01-01", "2006-12-31")),
    ),
    ("Annually", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY", None, False, ()),
    ("Biennially", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY;INTERVAL=2", None, False, ()),
    ("every two years", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY;INTERVAL=2", None, False, ()),
    ("quarterly", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY;INTERVAL=3", None, False, ()),
    ("twice a year", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6", None, False, ()),
    ("biannually", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6", None, False, ()),
    ("every year in October", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY;BYMONTH=10", None, False, ()),
    (
        "every three months, starting April 2002",
        "2002-01-15",
        None,
        "recurring",
        "2002-04-01",
        None,
        "FREQ=MONTHLY;INTERVAL=3",
        None,
        False,
        (),
    ),
    ("On a regular basis", "2003-05-10", None, "recurring", None, None, None, None, True, ()),
    (
        "at every steering committee meeting",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        None,
        "steering committee meeting",
        True,
        (),
    ),
    (
        "within two weeks after each field visit",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        None,
        "field visit",
        True,
        (),
    ),
    ("Annually or at least biennially", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY", None, False, ()),
    ("Continuously", "2003-05-10", None, "continuous", None, None, None, None, False, ()),
    ("Ongoing", "2003-05-10", None, "continuous", None, None, None, None, False, ()),
    ("Started, to be continued", "2003-05-10", None, "continuous", None, None, None, None, False, ()),
    ("A permanent function", "2003-05-10", None, "continuous", None, None, None, None, False, ()),
    ("Ongoing since 2001", "2003-05-10", None, "continuous", "2001-01-01", None, None, None, False, ()),
    ("Immediate and continuing", "2003-05-10", None, "continuous", "2003-05-10", None, None, None, False, ()),
    ("Continuous, reviewed every year", "2003-05-10", None, "continuous", None, None, "FREQ=YEARLY", None, False, ()),
    (
        "Linked to review of field structure",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "review of field structure",
        True,
        (),
    ),
    (
        "To be integrated in the field restructuring process",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "field restructuring process",
        True,
        (),
    ),
    (
        "at the next meeting of the board",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "next meeting of the board",
        True,
        (),
    ),
    ("within a year of approval", "2003-05-10", None, "event", None, None, None, "approval", True, ()),
    (
        "At the end of periods appropriate to specific situations",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "end of periods appropriate to specific situations",
        True,
        (),
    ),
    ("Under negotiation", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("As required", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("pending funding", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("as resources allow", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("short term", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("medium term", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("long term", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("TBD", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("n.a.", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("The Office will report to the Committee", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("end 2000", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    ("end-2000", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    ("end of 2000", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    ("by the close of the year", "1999-09-28", None, "deadline", None, "1999-12-31", None, None, False, ()),
    ("by 2007", "2003-05-10", None, "deadline", None, "2007-12-31", None, None, False, ()),
    ("first half 2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("H1 2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("mid-2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("second half of 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("H2 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("early 2004", "2003-05-10", None, "deadline", None, "2004-04-30", None, None, False, ()),
    ("late 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("Q1 2004", "2003-05-10", None, "deadline", None, "2004-03-31", None, None, False, ()),
    ("fourth quarter of 2003", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, False, ()),
    ("end of Q3 2004", "2003-05-10", None, "deadline", None, "2004-09-30", None, None, False, ()),
    ("Spring 2004", "2003-05-10", None, "deadline", None, "2004-05-31", None, None, False, ()),
    ("Summer 2004", "2003-05-10", None, "deadline", None, "2004-08-31", None, None, False, ()),
    ("Winter 2003/04", "2003-05-10", None, "deadline", None, "2004-02-29", None, None, False, ()),
    ("Winter 2004/05", "2003-05-10", None, "deadline", None, "2005-02-28", None, None, False, ()),
    ("By September", "1999-09-28", None, "deadline", None, "2000-09-30", None, None, True, ()),
    ("By the end of the second quarter", "2003-05-10", None, "deadline", None, "2003-06-30", None, None, True, ()),
    ("by the second quarter", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, True, ()),
    ("by 31 March", "2003-05-10", None, "deadline", None, "2004-03-31", None, None, True, ()),
    ("by December", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, True, ()),
    ("the following month", "2003-05-10", None, "deadline", None, "2003-06-30", None, None, False, ()),
    ("this autumn", "2003-05-10", None, "deadline", None, "2003-11-30", None, None, False, ()),
    ("by the end of the following year", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("next spring", "2003-05-10", None, "deadline", None, "2004-05-31", None, None, False, ()),
    ("by the end of the biennium", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, False, ()),
    ("within the current biennium", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, False, ()),
    ("during the current biennium", "2004-02-01", None, "window", "2004-01-01", "2005-12-31", None, None, False, ()),
    (
        "Completed by November 2000 for 2002-03 P&B",
        "1999-09-28",
        None,
        "deadline",
        None,
        "2000-11-30",
        None,
        None,
        False,
        (),
    ),
    ("FY2004", "2003-05-10", 10, "deadline", None, "2004-09-30", None, None, False, ()),
    ("Q2 FY2004", "2003-05-10", 10, "deadline", None, "2004-03-31", None, None, False, ()),
    ("FY 2004", "2003-05-10", 10, "deadline", None, "2004-09-30", None, None, False, ()),
    ("by the end of the current fiscal year", "2003-05-10", 10, "deadline", None, "2003-09-30", None, None, False, ()),
    ("first half of FY2005", "2003-05-10", 10, "deadline", None, "2005-03-31", None, None, False, ()),
    ("FY 2003/04", "2003-05-10", 4, "deadline", None, "2004-03-31", None, None, False, ()),
    ("2007-08", "2006-05-10", 4, "deadline", None, "2008-03-31", None, None, True, ()),
    ("FY2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, True, ()),
    ("Q2 FY2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, True, ()),
    (
        "by the November 2003 session of the Board",
        "2003-05-10",
        None,
        "deadline",
        None,
        "2003-11-30",
        None,
        None,
        False,
        (),
    ),
    ("at its 95th Session (June 2006)", "2005-11-15", None, "deadline", None, "2006-06-30", None, None, False, ()),
    (
        "during the November 2004 session",
        "2004-03-01",
        None,
        "window",
        "2004-11-01",
        "2004-11-30",
        None,
        None,
        False,
        (),
    ),
    ("at its 95th Session", "2005-11-15", None, "event", None, None, None, "95th Session", True, ()),
    (
        "before the next session of the Governing Body",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "next session of the Governing Body",
        True,
        (),
    ),
    ("within nine months", "2003-05-10", None, "deadline", None, "2004-02-10", None, None, False, ()),
    ("18 months", "2003-05-10", None, "deadline", None, "2004-11-10", None, None, False, ()),
    ("2 years", "2003-05-10", None, "deadline", None, "2005-05-10", None, None, False, ()),
    ("over the next nine months", "2003-05-10", None, "window", "2003-05-10", "2004-02-10", None, None, False, ()),
    ("within 30 days", "2003-05-10", None, "deadline", None, "2003-06-09", None, None, False, ()),
    ("within six weeks", "2003-05-10", None, "deadline", None, "2003-06-21", None, None, False, ()),
    ("by 05/08/2004", "2003-05-10", None, "deadline", None, "2004-08-05", None, None, True, ()),
    ("12/31/2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("2011/06", "2010-01-15", None, "deadline", None, "2011-06-30", None, None, False, ()),
    ("30-Jun-04", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("Oct. 1, 2005", "2003-05-10", None, "deadline", None, "2005-10-01", None, None, False, ()),
    ("31.12.2000", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    ("December 31, 2000", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    ("by 30 November 2001", "1999-09-28", None, "deadline", None, "2001-11-30", None, None, False, ()),
    ("no later than 30 November 2001", "1999-09-28", None, "deadline", None, "2001-11-30", None, None, False, ()),
    ("by 15 March 2003", "2002-06-01", None, "deadline", None, "2003-03-15", None, None, False, ()),
    ("2004-06-30", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    (
        "draft by March 2004; final by October 2004",
        "2003-05-10",
        None,
        "deadline",
        None,
        "2004-10-31",
        None,
        None,
        False,
        (("draft", None, "2004-03-31"), ("final", None, "2004-10-31")),
    ),
    (
        "Phase 1: Q2 2003; Phase 2: Q4 2003",
        "2003-01-10",
        None,
        "deadline",
        None,
        "2003-12-31",
        None,
        None,
        False,
        (("Phase 1", None, "2003-06-30"), ("Phase 2", None, "2003-12-31")),
    ),
    ("Short term (within 3 months)", "2003-05-10", None, "deadline", None, "2003-08-10", None, None, False, ()),
    ("Medium term (2-3 years)", "2003-05-10", None, "deadline", None, "2006-05-10", None, None, False, ()),
    (
        "Draft report by 30 June 2004 and final report by 31 December 2004",
        "2003-05-10",
        None,
        "deadline",
        None,
        "2004-12-31",
        None,
        None,
        False,
        (("Draft report", None, "2004-06-30"), ("final report", None, "2004-12-31")),
    ),
    (
        "Draft: June 2003, final: December 2003",
        "2003-01-10",
        None,
        "deadline",
        None,
        "2003-12-31",
        None,
        None,
        False,
        (("Draft", None, "2003-06-30"), ("final", None, "2003-12-31")),
    ),
    (
        "By end 2001, meetings started with five additional donors",
        "1999-09-28",
        None,
        "deadline",
        None,
        "2001-12-31",
        None,
        None,
        False,
        (),
    ),
    (
        "From January 2000 -- as part of review of field structure",
        "1999-09-28",
        None,
        "start",
        "2000-01-01",
        None,
        None,
        None,
        False,
        (),
    ),
    ("BY END-2000.", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    ("by end 2000;", "1999-09-28", None, "deadline", None, "2000-12-31", None, None, False, ()),
    ("  completed BY april 2000  ", "1999-09-28", None, "deadline", None, "2000-04-30", None, None, False, ()),
    ("Q4/2006", "2003-05-10", None, "deadline", None, "2006-12-31", None, None, False, ()),
    ("4Q 2006", "2003-05-10", None, "deadline", None, "2006-12-31", None, None, False, ()),
    ("2006 Q4", "2003-05-10", None, "deadline", None, "2006-12-31", None, None, False, ()),
    ("Year-end 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("by year-end", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, False, ()),
    ("By end-June 2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("mid-March 2004", "2003-05-10", None, "deadline", None, "2004-03-15", None, None, False, ()),
    ("beginning of 2005", "2003-05-10", None, "deadline", None, "2005-01-31", None, None, False, ()),
    (
        "from 1 January to 31 March 2004",
        "2003-05-10",
        None,
        "window",
        "2004-01-01",
        "2004-03-31",
        None,
        None,
        False,
        (),
    ),
    ("January-March 2004", "2003-05-10", None, "window", "2004-01-01", "2004-03-31", None, None, False, ()),
    ("Jan–Mar 2004", "2003-05-10", None, "window", "2004-01-01", "2004-03-31", None, None, False, ()),
    ("Q1-Q2 2004", "2003-05-10", None, "window", "2004-01-01", "2004-06-30", None, None, False, ()),
    ("2004 to 2006", "2003-05-10", None, "window", "2004-01-01", "2006-12-31", None, None, False, ()),
    ("September 2003 - February 2004", "2003-05-10", None, "window", "2003-09-01", "2004-02-29", None, None, False, ()),
    ("By June 2004 or December 2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, True, ()),
    ("by June 2004, subject to funding", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, True, ()),
    ("By June 2004 (first draft)", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    (
        "Within 6 months of the adoption of the strategy",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "adoption of the strategy",
        True,
        (),
    ),
    ("Six months after entry into force", "2003-05-10", None, "event", None, None, None, "entry into force", True, ()),
    ("After approval by the Board", "2003-05-10", None, "event", None, None, None, "approval by the Board", True, ()),
    (
        "Upon completion of the review",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "completion of the review",
        True,
        (),
    ),
    (
        "Following the adoption of the new policy",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "adoption of the new policy",
        True,
        (),
    ),
    ("In line with the budget cycle", "2003-05-10", None, "event", None, None, None, "budget cycle", True, ()),
    (
        "When the new system is in place",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "new system is in place",
        True,
        (),
    ),
    ("Subject to availability of funds", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("When funds become available", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("As and when required", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("On request", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("To be determined", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("Not applicable", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("In progress", "2003-05-10", None, "continuous", None, None, None, None, False, ()),
    ("Completed", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("2004 and beyond", "2003-05-10", None, "start", "2004-01-01", None, None, None, False, ()),
    ("As of 1 July 2004", "2003-05-10", None, "start", "2004-07-01", None, None, None, False, ()),
    ("With effect from 1 January 2005", "2003-05-10", None, "start", "2005-01-01", None, None, None, False, ()),
    ("not before March 2004", "2003-05-10", None, "start", "2004-03-01", None, None, None, False, ()),
    ("after June 2004", "2003-05-10", None, "start", "2004-07-01", None, None, None, False, ()),
    ("before March 2004", "2003-05-10", None, "deadline", None, "2004-02-29", None, None, False, ()),
    ("prior to 2005", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("no later than end of Q1 2005", "2003-05-10", None, "deadline", None, "2005-03-31", None, None, False, ()),
    ("Long term: 5 years", "2003-05-10", None, "deadline", None, "2008-05-10", None, None, False, ()),
    ("Short-term (by end 2003)", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, False, ()),
    ("Immediately", "2003-05-10", None, "start", "2003-05-10", None, None, None, False, ()),
    ("As soon as possible", "2003-05-10", None, "start", "2003-05-10", None, None, None, True, ()),
    ("Monthly", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY", None, False, ()),
    ("Fortnightly", "2003-05-10", None, "recurring", None, None, "FREQ=WEEKLY;INTERVAL=2", None, False, ()),
    ("bi-weekly", "2003-05-10", None, "recurring", None, None, "FREQ=WEEKLY;INTERVAL=2", None, True, ()),
    ("Semi-annually", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6", None, False, ()),
    ("Three times a year", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY;INTERVAL=4", None, False, ()),
    ("every 18 months", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY;INTERVAL=18", None, False, ()),
    (
        "Annual, by 31 March",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31",
        None,
        False,
        (),
    ),
    (
        "Twice a year (March and September)",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        "FREQ=YEARLY;BYMONTH=3,9",
        None,
        False,
        (),
    ),
    (
        "By end of March each year",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1",
        None,
        False,
        (),
    ),
    ("Each October", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY;BYMONTH=10", None, False, ()),
    (
        "Quarterly, from Q2 2003",
        "2003-01-10",
        None,
        "recurring",
        "2003-04-01",
        None,
        "FREQ=MONTHLY;INTERVAL=3",
        None,
        False,
        (),
    ),
    ("Annually, starting 2004", "2003-05-10", None, "recurring", "2004-01-01", None, "FREQ=YEARLY", None, False, ()),
    ("Annually until 2008", "2003-05-10", None, "recurring", None, "2008-12-31", "FREQ=YEARLY", None, False, ()),
    (
        "By June 2004 and annually thereafter",
        "2003-05-10",
        None,
        "recurring",
        None,
        "2004-06-30",
        "FREQ=YEARLY",
        None,
        False,
        (),
    ),
    (
        "Starting January 2004; annually thereafter",
        "2003-05-10",
        None,
        "recurring",
        "2004-01-01",
        None,
        "FREQ=YEARLY",
        None,
        False,
        (),
    ),
    ("Periodically", "2003-05-10", None, "recurring", None, None, None, None, True, ()),
    (
        "At each session of the Board",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        None,
        "session of the board",
        True,
        (),
    ),
    (
        "Ongoing; reported quarterly",
        "2003-05-10",
        None,
        "continuous",
        None,
        None,
        "FREQ=MONTHLY;INTERVAL=3",
        None,
        False,
        (),
    ),
    ("Continuous until end 2005", "2003-05-10", None, "deadline", None, "2005-12-31", None, None, False, ()),
    ("Ongoing from January 2004", "2003-05-10", None, "continuous", "2004-01-01", None, None, None, False, ()),
    ("Winter 2003", "2003-05-10", None, "deadline", None, "2004-02-29", None, None, True, ()),
    ("by the summer", "2003-05-10", None, "deadline", None, "2003-08-31", None, None, False, ()),
    # "the spring" a year on, or "the autumn" already begun: which one is assumed, so a person confirms it
    (
        "Before the spring session of Parliament",
        "1999-09-28",
        None,
        "deadline",
        None,
        "2000-02-29",
        None,
        None,
        True,
        (),
    ),
    (
        "Before the autumn session of Parliament",
        "1999-09-28",
        None,
        "deadline",
        None,
        "1999-08-31",
        None,
        None,
        True,
        (),
    ),
    ("end of next month", "2003-05-10", None, "deadline", None, "2003-06-30", None, None, False, ()),
    ("the following quarter", "2003-05-10", None, "deadline", None, "2003-09-30", None, None, False, ()),
    ("next year", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("by the beginning of 2005", "2003-05-10", None, "deadline", None, "2005-01-31", None, None, False, ()),
    ("early June 2004", "2003-05-10", None, "deadline", None, "2004-06-10", None, None, False, ()),
    ("late June 2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("Semester 1 2005", "2004-05-10", None, "deadline", None, "2005-06-30", None, None, False, ()),
    ("by mid-2005", "2004-05-10", None, "deadline", None, "2005-06-30", None, None, False, ()),
    ("from mid-2005", "2004-05-10", None, "start", "2005-07-01", None, None, None, False, ()),
    ("2004-06", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, True, ()),
    ("Dec 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("dec. 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("June '04", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("Jun-04", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("06/2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("1st March 2004", "2003-05-10", None, "deadline", None, "2004-03-01", None, None, False, ()),
    ("March 1st, 2004", "2003-05-10", None, "deadline", None, "2004-03-01", None, None, False, ()),
    ("15/03/2004", "2003-05-10", None, "deadline", None, "2004-03-15", None, None, False, ()),
    ("Target date: 31 December 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("Deadline: Q3 2004", "2003-05-10", None, "deadline", None, "2004-09-30", None, None, False, ()),
    ("Timeline: 2004-2006", "2003-05-10", None, "window", "2004-01-01", "2006-12-31", None, None, False, ()),
    ("in 2005", "2003-05-10", None, "deadline", None, "2005-12-31", None, None, False, ()),
    ("throughout 2005", "2003-05-10", None, "window", "2005-01-01", "2005-12-31", None, None, False, ()),
    ("Ongoing, with annual review", "2003-05-10", None, "continuous", None, None, "FREQ=YEARLY", None, False, ()),
    ("Started in 2002 and ongoing", "2003-05-10", None, "continuous", "2002-01-01", None, None, None, False, ()),
    ("Since 2001", "2003-05-10", None, "continuous", "2001-01-01", None, None, None, False, ()),
    ("every 6 months", "2003-05-10", None, "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6", None, False, ()),
    ("once a year", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY", None, False, ()),
    ("Weekly", "2003-05-10", None, "recurring", None, None, "FREQ=WEEKLY", None, False, ()),
    ("Daily", "2003-05-10", None, "recurring", None, None, "FREQ=DAILY", None, False, ()),
    ("Triennially", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY;INTERVAL=3", None, False, ()),
    ("Annual reports", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY", None, False, ()),
    ("On an annual basis", "2003-05-10", None, "recurring", None, None, "FREQ=YEARLY", None, False, ()),
    (
        "Biennially (each P&B) and updated periodically",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        "FREQ=YEARLY;INTERVAL=2",
        None,
        False,
        (),
    ),
    ("Upon request", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("Depending on the availability of resources", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    (
        "Subject to approval by the Executive Board",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "approval by the Executive Board",
        True,
        (),
    ),
    (
        "Next session of the Governing Body",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "Next session of the Governing Body",
        True,
        (),
    ),
    ("ASAP, and no later than June 2004", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("12/31/04", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, False, ()),
    ("2005年3月", "2003-05-10", None, "deadline", None, "2005-12-31", None, None, True, ()),
    ("first half", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, True, ()),
    ("by the end of the first half", "2003-05-10", None, "deadline", None, "2003-06-30", None, None, True, ()),
    (
        "Planning of review to begin January 2000 and to finish end 2000",
        "1999-09-28",
        None,
        "window",
        "2000-01-01",
        "2000-12-31",
        None,
        None,
        False,
        (("Planning of review", "2000-01-01", "2000-12-31"),),
    ),
    (
        "Starting March 2000 for annual reports; November 2000 for global",
        "1999-09-28",
        None,
        "window",
        "2000-03-01",
        "2000-11-30",
        None,
        None,
        True,
        (("annual reports", "2000-03-01", None), ("global", None, "2000-11-30")),
    ),
    ("in the coming months", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("by the end of the month", "2003-05-10", None, "deadline", None, "2003-05-31", None, None, False, ()),
    ("the current fiscal year", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, True, ()),
    ("by the end of the current fiscal year", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, True, ()),
    ("FY 2003/04", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, True, ()),
    ("Q2 FY2004", "2003-05-10", 4, "deadline", None, "2003-09-30", None, None, True, ()),
    ("2004/05", "2003-05-10", 4, "deadline", None, "2005-03-31", None, None, True, ()),
    ("at the 2004 session of the Conference", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, True, ()),
    ("by the March 2004 session", "2003-05-10", None, "deadline", None, "2004-03-31", None, None, False, ()),
    ("Immediately after approval", "2003-05-10", None, "event", None, None, None, "approval", True, ()),
    (
        "Phase I (2003-2004), Phase II (2005-2007)",
        "2002-06-01",
        None,
        "window",
        "2003-01-01",
        "2007-12-31",
        None,
        None,
        False,
        (("Phase I", "2003-01-01", "2004-12-31"), ("Phase II", "2005-01-01", "2007-12-31")),
    ),
    (
        "Q1 2004: draft; Q3 2004: final",
        "2003-05-10",
        None,
        "deadline",
        None,
        "2004-09-30",
        None,
        None,
        False,
        (("draft", None, "2004-03-31"), ("final", None, "2004-09-30")),
    ),
    (
        "Report by March 2004, review by June 2004, adoption by December 2004",
        "2003-05-10",
        None,
        "deadline",
        None,
        "2004-12-31",
        None,
        None,
        False,
        (("Report", None, "2004-03-31"), ("review", None, "2004-06-30"), ("adoption", None, "2004-12-31")),
    ),
    (
        "Mid-term review in 2004",
        "2003-05-10",
        None,
        "deadline",
        None,
        "2004-12-31",
        None,
        None,
        False,
        (("Mid-term review", None, "2004-12-31"),),
    ),
    (
        "Reports annually, or at least every two years",
        "2003-05-10",
        None,
        "recurring",
        None,
        None,
        "FREQ=YEARLY",
        None,
        False,
        (),
    ),
    ("By June 2004 (phase 2)", "2003-05-10", None, "deadline", None, "2004-06-30", None, None, False, ()),
    ("Short term, by end 2003", "2003-05-10", None, "deadline", None, "2003-12-31", None, None, False, ()),
    ("medium-term priority", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("Q5 2004", "2003-05-10", None, "deadline", None, "2004-12-31", None, None, True, (("Q5", None, "2004-12-31"),)),
    ("31.02.2004", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    (
        "the 87th Session of the Conference",
        "2003-05-10",
        None,
        "event",
        None,
        None,
        None,
        "87th Session of the Conference",
        True,
        (),
    ),
    ("every effort will be made", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("by the next biennium", "2003-05-10", None, "deadline", None, "2005-12-31", None, None, False, ()),
    ("Activities may continue", "2003-05-10", None, "unscheduled", None, None, None, None, True, ()),
    ("Fourth quarter 2005", "2005-03-15", None, "deadline", None, "2005-12-31", None, None, False, ()),
    ("Q3 2005 (revised from Q1 2005)", "2005-03-15", None, "deadline", None, "2005-09-30", None, None, True, ()),
    ("To be completed by 30 June 2006", "2005-03-15", None, "deadline", None, "2006-06-30", None, None, False, ()),
    ("Target: end-2006", "2005-03-15", None, "deadline", None, "2006-12-31", None, None, False, ()),
    (
        "June 2006 / December 2006",
        "2005-03-15",
        None,
        "deadline",
        None,
        "2006-12-31",
        None,
        None,
        False,
        (("June 2006", None, "2006-06-30"), ("December 2006", None, "2006-12-31")),
    ),
    (
        "Before the end of the current biennium",
        "2005-03-15",
        None,
        "deadline",
        None,
        "2005-12-31",
        None,
        None,
        False,
        (),
    ),
    (
        "By the fifty-ninth session of the General Assembly",
        "2005-03-15",
        None,
        "event",
        None,
        None,
        None,
        "fifty-ninth session of the General Assembly",
        True,
        (),
    ),
    (
        "At the next session of the Executive Board (June 2005)",
        "2005-03-15",
        None,
        "deadline",
        None,
        "2005-06-30",
        None,
        None,
        False,
        (),
    ),
    (
        "Within 12 months of the date of this report",
        "2005-03-15",
        None,
        "event",
        None,
        None,
        None,
        "date of this report",
        True,
        (),
    ),
    ("6 to 12 months", "2005-03-15", None, "deadline", None, "2006-03-15", None, None, False, ()),
    ("Ongoing (annual)", "2005-03-15", None, "continuous", None, None, "FREQ=YEARLY", None, False, ()),
    ("Annually, each April", "2005-03-15", None, "recurring", None, None, "FREQ=YEARLY;BYMONTH=4", None, False, ()),
    (
        "Yearly in Q1",
        "2005-03-15",
        None,
        "recurring",
        None,
        None,
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1",
        None,
        False,
        (),
    ),
    ("Every second year", "2005-03-15", None, "recurring", None, None, "FREQ=YEARLY;INTERVAL=2", None, False, ()),
    (
        "Twice yearly (spring and autumn)",
        "2005-03-15",
        None,
        "recurring",
        None,
        None,
        "FREQ=YEARLY;BYMONTH=5,11",
        None,
        False,
        (),
    ),
    ("July 2005 onward", "2005-03-15", None, "start", "2005-07-01", None, None, None, False, ()),
    ("From Q3 2005 onwards", "2005-03-15", None, "start", "2005-07-01", None, None, None, False, ()),
    (
        "Starting Q2 2005, completed by Q4 2006",
        "2005-03-15",
        None,
        "window",
        "2005-04-01",
        "2006-12-31",
        None,
        None,
        False,
        (),
    ),
    (
        "Began in 2004; completion expected in 2006",
        "2005-03-15",
        None,
        "window",
        "2004-01-01",
        "2006-12-31",
        None,
        None,
        False,
        (("Began in 2004", "2004-01-01", None), ("completion expected in 2006", None, "2006-12-31")),
    ),
    (
        "Partially implemented; full implementation by end 2005",
        "2005-03-15",
        None,
        "deadline",
        None,
        "2005-12-31",
        None,
        None,
        False,
        (("full implementation", None, "2005-12-31"),),
    ),
    ("Not started", "2005-03-15", None, "unscheduled", None, None, None, None, True, ()),
    ("Deferred", "2005-03-15", None, "unscheduled", None, None, None, None, True, ()),
    ("FY2006-07", "2005-03-15", None, "deadline", None, "2007-12-31", None, None, True, ()),
    ("June-July 2005", "2005-03-15", None, "window", "2005-06-01", "2005-07-31", None, None, False, ()),
    ("Spring/Summer 2005", "2005-03-15", None, "window", "2005-03-01", "2005-08-31", None, None, False, ()),
    (
        "Late 2005 / early 2006",
        "2005-03-15",
        None,
        "deadline",
        None,
        "2006-04-30",
        None,
        None,
        False,
        (("Late 2005", None, "2005-12-31"), ("early 2006", None, "2006-04-30")),
    ),
    ("By COB 15 April 2005", "2005-03-15", None, "deadline", None, "2005-04-15", None, None, False, ()),
    ("April 15th", "2005-03-15", None, "deadline", None, "2005-04-15", None, None, True, ()),
    ("Summer 2005 and beyond", "2005-03-15", None, "start", "2005-06-01", None, None, None, False, ()),
]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def seed_phrases() -> list[str]:
    """The time-frame cells of the seed plan: the text before " | |" on its 67 lines."""
    lines = SEED_PLAN.read_text(encoding="utf-8").splitlines()
    return [line[: -len(" | |")] for line in lines if line.endswith(" | |")]


def _row_id(row: Row) -> str:
    fy = f" fy{row[2]}" if row[2] else ""
    return f"{row[0].strip() or '<blank>'} [{row[1]}{fy}]"


# ---------------------------------------------------------------- the seed plan


def test_the_seed_table_holds_every_phrase_of_the_seed_plan() -> None:
    phrases = seed_phrases()
    assert len(phrases) == 67
    assert set(phrases) | {""} == set(SEED)


@pytest.mark.parametrize("text", list(SEED), ids=[t or "<empty>" for t in SEED])
def test_seed_phrase_reads_as_pinned(text: str) -> None:
    got = parse(text, SEED_REF).as_json()
    assert list(got) == KEYS
    assert got == {"text": text, **SEED[text]}
    assert json.loads(json.dumps(got)) == got


def test_seed_reading_of_linked_phrase_names_the_event_in_its_words() -> None:
    assert parse("Linked to review of field structure", SEED_REF).event == "review of field structure"


# ---------------------------------------------------------------- further phrases


@pytest.mark.parametrize(
    ("text", "ref", "fy", "kind", "start", "due", "rrule", "event", "review", "milestones"),
    EXTRA,
    ids=[_row_id(r) for r in EXTRA],
)
def test_phrase_reads_as_expected(
    text: str,
    ref: str,
    fy: int | None,
    kind: str,
    start: str | None,
    due: str | None,
    rrule: str | None,
    event: str | None,
    review: bool,
    milestones: tuple[tuple[str, str | None, str | None], ...],
) -> None:
    s = parse(text, date.fromisoformat(ref), fy_start=fy)
    got = (s.kind, _iso(s.start), _iso(s.due), s.rrule, s.event, s.needs_review)
    assert got == (kind, start, due, rrule, event, review)
    assert tuple((m.label, _iso(m.start), _iso(m.due)) for m in s.milestones) == milestones
    for value in (start, due, rrule):
        if value is not None:
            assert value in s.reason  # the reason says how the dates were found
    assert s.reason.startswith(("Read as", "The phrase defines")) and s.reason.endswith(".")


def test_there_are_at_least_150_further_phrases_beyond_the_seed() -> None:
    assert len({row[0] for row in EXTRA} - set(SEED)) >= 150


@pytest.mark.parametrize(
    ("ref", "due"),
    [("1999-09-28", "2000-09-30"), ("1999-08-31", "1999-09-30"), ("2003-10-01", "2004-09-30")],
)
def test_a_month_without_a_year_is_the_next_one_after_the_reference_month(ref: str, due: str) -> None:
    s = parse("By September", date.fromisoformat(ref))
    assert (_iso(s.due), s.needs_review) == (due, True)


def test_a_point_still_ahead_in_the_current_period_stays_in_it() -> None:
    ref = date(2003, 5, 10)
    assert parse("By the end of the second quarter", ref).due == date(2003, 6, 30)
    assert parse("By the end of the second quarter", date(2003, 7, 1)).due == date(2004, 6, 30)
    assert parse("by the end of May", ref).due == date(2003, 5, 31)
    assert parse("by May", ref).due == date(2004, 5, 31)


def test_fiscal_years_follow_the_fy_start_given() -> None:
    ref = date(2003, 5, 10)
    assert (parse("FY2004", ref, fy_start=10).start, parse("FY2004", ref, fy_start=10).due) == (None, date(2004, 9, 30))
    assert parse("during FY2004", ref, fy_start=10).start == date(2003, 10, 1)
    assert parse("during FY2004", ref, fy_start=7).start == date(2003, 7, 1)
    assert parse("during FY2004", ref).start == date(2004, 1, 1)
    assert parse("during FY 2003/04", ref, fy_start=4).due == date(2004, 3, 31)


def test_a_fiscal_year_start_that_is_no_month_is_ignored_with_a_review() -> None:
    s = parse("FY2004", date(2003, 5, 10), fy_start=13)
    assert s.due == date(2004, 12, 31) and s.needs_review and "13" in s.reason


def test_an_override_of_the_reference_date_moves_relative_readings() -> None:
    assert parse("within nine months", date(2003, 5, 31)).due == date(2004, 2, 29)
    assert parse("18 months", date(2004, 8, 31)).due == date(2006, 2, 28)
    assert parse("the following month", date(2003, 12, 15)).due == date(2004, 1, 31)


# ---------------------------------------------------------------- junk and the schema


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "\x00\xff",
        "\x00" * 40,
        "日本語のテキストです",
        "没有日期的中文文本",
        "نص عربي بدون تاريخ",
        "🙂🙂🙂",
        "by June 2000 " * 800,
        "-",
        "?",
        "   ",
        "\t\n",
    ],
    ids=[
        "10000-chars",
        "binary",
        "nuls",
        "japanese",
        "chinese",
        "arabic",
        "emoji",
        "long-repeat",
        "dash",
        "question-mark",
        "spaces",
        "whitespace",
    ],
)
def test_junk_is_unscheduled_with_a_reason(text: str) -> None:
    s = parse(text, SEED_REF)
    assert (s.kind, s.start, s.due, s.rrule, s.event, s.milestones) == ("unscheduled", None, None, None, None, ())
    assert s.needs_review
    assert s.reason.startswith("Read as unscheduled: ") and s.reason.endswith(".")
    assert s.text == text


def test_as_json_and_from_json_are_inverse() -> None:
    s = parse("Starting March 2000 for annual reports; November 2000 for global", SEED_REF)
    data = json.loads(json.dumps(s.as_json()))
    assert data["milestones"] == [
        {"label": "annual reports", "due": None, "start": "2000-03-01"},
        {"label": "global", "due": "2000-11-30", "start": None},
    ]
    assert Schedule.from_json(data) == s
    assert Schedule.from_json(data).milestones[1] == Milestone("global", date(2000, 11, 30), None)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "soon"},
        {"due": 20001130},
        {"milestones": None},
        {"needs_review": "no"},
        {"milestones": [{"label": 1}]},
        {"start": "2000-13-01"},
    ],
    ids=["kind", "due-type", "milestones-type", "review-type", "milestone-label", "bad-date"],
)
def test_from_json_rejects_malformed_objects(change: dict[str, object]) -> None:
    data = {**parse("By June 2000", SEED_REF).as_json(), **change}
    with pytest.raises(ValueError):
        Schedule.from_json(data)


def test_the_reader_never_reads_the_clock() -> None:
    sources = sorted((ROOT / "engine" / "timeframe").glob("*.py"))
    assert len(sources) > 1
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\.now\(|\.today\(|\butcnow\b|import time\b|\bopen\(", text), path


# ---------------------------------------------------------------- properties

_WORDS = sorted(
    {w for text in [*SEED, *(row[0] for row in EXTRA)] for w in text.split()}
    | {
        ";",
        ",",
        "(",
        ")",
        ":",
        "-",
        "--",
        "/",
        "and",
        "or",
        "0",
        "1",
        "13",
        "29",
        "31",
        "99",
        "1899",
        "2000",
        "2199",
        "2200",
        "9999",
        "february",
        "feb",
        "Q5",
        "H3",
        "FY99",
        "FY1999/2001",
        "2004-13",
        "31.02.2004",
        "30/02/2004",
        "every",
        "each",
    }
)
_PHRASES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=9).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(
    text=_PHRASES,
    ref=st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
    fy=st.one_of(st.none(), st.integers(min_value=0, max_value=13)),
)
def test_parse_never_raises_and_keeps_the_schema(text: str, ref: date, fy: int | None) -> None:
    s = parse(text, ref, fy_start=fy)
    data = s.as_json()
    assert list(data) == KEYS
    assert data["text"] == text and data["kind"] in KINDS
    assert isinstance(data["needs_review"], bool) and isinstance(data["reason"], str)
    for key in ("start", "due"):
        assert data[key] is None or date.fromisoformat(str(data[key])).isoformat() == data[key]
    for key in ("rrule", "event"):
        assert data[key] is None or isinstance(data[key], str)
    assert isinstance(data["milestones"], list)
    for m in s.milestones:
        assert isinstance(m.label, str) and m.label and (m.due or m.start)
    if s.start and s.due:
        assert s.due >= s.start
    if s.rrule is not None:
        rrulestr(s.rrule, dtstart=datetime(2000, 1, 1, tzinfo=UTC))
    if s.kind in ("event", "unscheduled") or (s.kind == "recurring" and s.rrule is None):
        assert s.needs_review
    if s.kind == "event":
        assert s.event
    assert s.reason.endswith(".") and "internal error" not in s.reason
    assert Schedule.from_json(json.loads(json.dumps(data))) == s


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=10).map(" ".join))
def test_the_word_dispatch_finds_what_the_whole_pattern_finds(text: str) -> None:
    low = text.lower()
    assert [(m.span(), m.lastgroup) for m in scan(low)] == [(m.span(), m.lastgroup) for m in scan_slowly(low)]


def test_the_word_dispatch_agrees_on_every_table_phrase() -> None:
    for text in [*SEED, *(row[0] for row in EXTRA)]:
        low = text.lower()
        assert [m.span() for m in scan(low)] == [m.span() for m in scan_slowly(low)], text


@pytest.mark.parametrize(
    "text", ["the end of the biennium", "End of the current biennium", "the end of 2002-03", "end of biennium 2002-03"]
)
def test_the_end_of_a_biennium_is_a_deadline_on_its_last_day(text: str) -> None:
    got = parse(text, date(2003, 5, 10))
    assert (got.kind, got.start, got.due, got.needs_review) == ("deadline", None, date(2003, 12, 31), False)
    whole = parse("the current biennium", date(2003, 5, 10))  # the whole biennium stays a window
    assert (whole.kind, whole.start, whole.due) == ("window", date(2002, 1, 1), date(2003, 12, 31))


# Constructions found in real French and Spanish plans that English plans write too
_SHARED = [
    ("Term: 1 July 2014 - end of the fortieth session of the Conference (July 2017)", "2014-07-01", "2017-07-31"),
    ("from 1 July 2016 to the end of the fortieth session of the Conference (July 2017)", "2016-07-01", "2017-07-31"),
    ("18-23 November 2009", "2009-11-18", "2009-11-23"),
    ("27 to 29 March 2019", "2019-03-27", "2019-03-29"),
    ("10, 11 and 12 May 2019", "2019-05-10", "2019-05-12"),
    ("01/05/2024 -> 14/07/2024", "2024-05-01", "2024-07-14"),
    ("during the years 2000-2015", "2000-01-01", "2015-12-31"),
    ("Strategic plan 2019 - 2034", "2019-01-01", "2034-12-31"),
]


@pytest.mark.parametrize(("text", "start", "due"), _SHARED, ids=[t for t, _, _ in _SHARED])
def test_windows_written_as_in_french_and_spanish_plans(text: str, start: str, due: str) -> None:
    got = parse(text, date(2017, 4, 28))
    assert (got.kind, got.start, got.due) == ("window", date.fromisoformat(start), date.fromisoformat(due))


def test_start_labels_dates_after_a_slash_and_fiscal_years_named_with_the() -> None:
    ref = date(2024, 12, 5)
    assert (parse("Start date: March 2022", ref).kind, parse("Start date: March 2022", ref).start) == (
        "start",
        date(2022, 3, 1),
    )
    assert parse("Due date: March 2022", ref).due == date(2022, 3, 31)
    assert parse("31/Dec/2024", ref).due == date(2024, 12, 31)
    assert parse("for the fiscal year 2025", ref).due == date(2025, 12, 31)
    assert parse("End 2024/ Early 2025", ref).due == date(2025, 4, 30)


def test_periods_after_an_unnamed_step_and_continuous_work_named_mid_phrase() -> None:
    ref = date(2024, 1, 1)
    assert (parse("within 30 days thereafter", ref).kind, parse("four days later", ref).kind) == ("event", "event")
    assert parse("Monitoring is an ongoing process", ref).kind == "continuous"
    assert parse("Data published annually online", ref).rrule == "FREQ=YEARLY"


def test_the_fast_schedule_is_the_schedule_its_fields_make() -> None:
    fields = (
        "by May",
        "window",
        date(2000, 1, 1),
        date(2000, 5, 31),
        None,
        (Milestone("a", None, None),),
        "x",
        True,
        "r",
    )
    fast, slow = _new_schedule(*fields), Schedule(*fields)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    with pytest.raises(AttributeError):
        fast.kind = "deadline"  # type: ignore[misc]
    got = parse("Completed by April 2000", date(1999, 9, 28))
    assert got == Schedule.from_json(got.as_json())


def test_a_reading_is_the_same_with_the_readers_caches_cleared() -> None:
    phrases = ["By April 2000", "Completed by end 2001", "between April and June 2003", "Annually, each April"]
    warm = [parse(text, date(1999, 9, 28)) for text in phrases]
    clear_caches()
    assert [parse(text, date(1999, 9, 28)) for text in phrases] == warm
    assert parse("d'ici fin 2000", date(1999, 9, 28), language="fr").due == date(2000, 12, 31)


def test_a_phrases_kept_words_are_those_written_afresh_and_are_bounded() -> None:
    clear_caches()
    phrases = [("Achevé dès le 1er avril 2000", "fr"), ("Monday 14 January 2019", "en"), ("¿?", "es"), ("BY MAY", "en")]
    first = [_wording(text, language) for text, language in phrases]
    assert [_WORDINGS[text, language] for text, language in phrases] == first
    assert first[0][:2] == ("Achevé dès le 1er avril 2000", "completed from the 1st april 2000")
    assert first[1][1] == " " * 7 + "14 january 2019" and first[2][1] is None and first[3] == ("BY MAY", "by may", None)
    clear_caches()
    assert not _WORDINGS
    assert [_wording(text, language)[:2] for text, language in phrases] == [w[:2] for w in first]
    for n in range(5000):
        parse(f"by {n}", date(1999, 9, 28))
    assert 0 < len(_WORDINGS) <= 4096


def test_the_fast_milestone_is_the_milestone_its_fields_make() -> None:
    fast, slow = _new_milestone("draft", date(2004, 3, 31), None), Milestone("draft", date(2004, 3, 31), None)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    with pytest.raises(AttributeError):
        fast.label = "final"  # type: ignore[misc]
    got = parse("draft by March 2004; final by October 2004", date(2003, 5, 10))
    assert got.milestones == (Milestone("draft", date(2004, 3, 31), None), Milestone("final", date(2004, 10, 31), None))


def test_a_phrase_read_again_is_read_anew_from_its_kept_words_for_its_date_setting_and_language() -> None:
    clear_caches()
    ref = date(1999, 9, 28)
    first = parse("Completed by May", ref, fy_start=13)
    again = parse("Completed by May", ref, fy_start=13)
    assert again == first and again is not first  # a new reading, not one kept
    assert again.reason.count("the fiscal-year start 13 is not a month and was ignored") == 1
    assert "fiscal-year start" not in parse("Completed by May", ref).reason
    assert parse("Completed by May", date(2000, 9, 28), fy_start=13).due == date(2001, 5, 31)
    assert parse("Completed by May", ref, fy_start=13).due == date(2000, 5, 31)
    told = parse("fin 2004", ref, language="fr")
    assert (told.reason, parse("fin 2004", ref).milestones) == (
        "Read as a deadline on 2004-12-31 (the date 'fin 2004' stands for).",
        (Milestone("fin", date(2004, 12, 31), None),),
    )
    assert parse("fin 2004", ref, language="fr") == told


def test_every_table_phrase_reads_the_same_with_the_caches_full_and_with_them_cleared() -> None:
    rows = [(text, SEED_REF, None) for text in SEED] + [(r[0], date.fromisoformat(r[1]), r[2]) for r in EXTRA]
    for text, ref, fy in rows:  # every phrase's words, skeleton, plans and shapes kept
        parse(text, ref, fy_start=fy)
    warm = [parse(text, ref, fy_start=fy) for text, ref, fy in rows]
    cold = []
    for text, ref, fy in rows:
        clear_caches()
        cold.append(parse(text, ref, fy_start=fy))
    assert warm == cold


def test_what_the_reader_keeps_between_phrases_is_bounded_and_cleared() -> None:
    clear_caches()
    for n in range(5000):
        parse(f"{n} by May 2004 then June 2004", date(1999, 9, 28))
        parse(f"{n} by May 2004; {n} by June 2004", date(1999, 9, 28))
        parse(f"{n} within three months; linked to review {n}", date(1999, 9, 28))
    kept = (_CTXS, _PLANS, _SHAPES, _LIST_PARTS, _SEMICOLON_PARTS, _RELATIVE_SHAPES, _EVENT_SHAPES)
    assert all(0 < len(k) <= 4096 for k in kept), [len(k) for k in kept]
    clear_caches()
    assert not any(kept)


def test_the_fast_schedule_is_a_schedule_to_copy_replace_and_pickle() -> None:
    got = parse("Starting March 2000 for annual reports; November 2000 for global", date(1999, 9, 28))
    assert type(got) is Schedule and type(got.milestones[0]) is Milestone
    changed = dataclasses.replace(got, kind="deadline")
    assert (changed.kind, changed.due, changed.milestones) == ("deadline", got.due, got.milestones) and changed != got
    assert pickle.loads(pickle.dumps(got)) == got and copy.copy(got) == got
