// Parses planwatch's feeds with ical.js (the parser inside Mozilla Thunderbird) and checks them
// against what the Python side expects. Run by tests/test_calendars_icaljs.py:
//   FEEDS_DIR=/path/with/*.ics/and/expectations.json node --test tests/js/feeds.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import ICAL from "ical.js";

const dir = process.env.FEEDS_DIR;
if (!dir) throw new Error("FEEDS_DIR is not set: run this through pytest (tests/test_calendars_icaljs.py)");
const expected = JSON.parse(readFileSync(join(dir, "expectations.json"), "utf8"));
const files = readdirSync(dir).filter((name) => name.endsWith(".ics")).sort();

test("every feed written has expectations", () => {
  assert.deepEqual(files, Object.keys(expected).sort());
});

for (const name of files) {
  test(`ical.js reads ${name} as planwatch wrote it`, () => {
    const text = readFileSync(join(dir, name), "utf8");
    const calendar = new ICAL.Component(ICAL.parse(text));
    for (const zone of calendar.getAllSubcomponents("vtimezone")) {
      ICAL.TimezoneService.register(zone);
    }
    const want = expected[name];
    const events = calendar.getAllSubcomponents("vevent").map((c) => new ICAL.Event(c));
    assert.equal(events.length, want.events.length, "number of VEVENTs");
    events.forEach((event, i) => checkEvent(event, want.events[i]));
    const todos = calendar.getAllSubcomponents("vtodo");
    assert.equal(todos.length, want.todos.length, "number of VTODOs");
    todos.forEach((todo, i) => checkTodo(todo, want.todos[i]));
  });
}

function checkEvent(event, want) {
  assert.equal(event.uid, want.uid);
  assert.equal(event.summary, want.summary, `summary of ${want.uid}`);
  assert.equal(event.description, want.description, `description of ${want.uid}`);
  assert.ok(event.startDate.isDate, `${want.uid} starts on a DATE`);
  assert.equal(event.startDate.toString(), want.start);
  assert.equal(event.endDate.toString(), want.end, `${want.uid} ends the next day (exclusive)`);
  assert.equal(event.component.getFirstPropertyValue("status"), want.status);
  const recurrence = event.component.getFirstPropertyValue("recurrence-id");
  assert.equal(recurrence ? recurrence.toString() : null, want.recurrence_id);
  if (want.occurrences) {
    const found = [];
    const iterator = event.iterator();
    for (let next = iterator.next(); next && found.length < want.occurrences.length; next = iterator.next()) {
      found.push(next.toString());
    }
    assert.deepEqual(found, want.occurrences, `occurrences of ${want.uid}`);
  }
  const alarms = event.component.getAllSubcomponents("valarm");
  assert.equal(alarms.length, want.alarms, `alarms of ${want.uid}`);
  if (alarms.length) {
    assert.equal(alarms[0].getFirstPropertyValue("trigger").toSeconds(), want.trigger_seconds);
  }
}

function checkTodo(todo, want) {
  assert.equal(todo.getFirstPropertyValue("uid"), want.uid);
  assert.equal(todo.getFirstPropertyValue("summary"), want.summary);
  const due = todo.getFirstPropertyValue("due");
  assert.equal(due.zone.tzid, want.tzid, `DUE of ${want.uid} is in the plan's zone`);
  assert.equal(due.toUnixTime(), want.due_unix, `DUE of ${want.uid} as an instant (VTIMEZONE read right)`);
  assert.equal(todo.getFirstPropertyValue("status"), want.status);
  assert.equal(todo.getFirstPropertyValue("percent-complete"), want.percent);
}
