"""planwatch: turns an implementation plan into reminders, calendar feeds and escalations."""

__version__ = "0.1.0"
