"""Plan importers: each reads one file format into a ``PlanDocument`` and writes nothing.

The text format (``gbtext``), Word (``docx``) and PDF (``pdf``) share one reader of table rows,
``gbtext.RowReader``; spreadsheets (``sheets``) and plan files (``planyaml``) have their own.
"""
