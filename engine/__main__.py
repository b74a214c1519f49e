"""``python -m engine`` runs the planwatch command."""

from engine.cli import main

main()
