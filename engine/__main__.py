"""``python -m engine`` runs the planwatch command."""

from engine.cli.main import main

main()
