"""Plan importers: each reads one file format into a ``PlanDocument`` and writes nothing."""
