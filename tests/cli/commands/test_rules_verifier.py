"""``planwatch rules check`` refuses a verifier named by an owner id that the owners file does not have, at its
place (FILE:LINE:COL, exit 2); ``supervisor``, ``secretariat`` and known ids pass."""

from __future__ import annotations

from pathlib import Path

VERIFIER = "    verifier: supervisor"


def _name_verifier(who: str) -> int:
    """Write ``who`` as the defaults' verifier in rules/default.yaml; return its line number."""
    path = Path("rules/default.yaml")
    text = path.read_text(encoding="utf-8")
    assert VERIFIER in text
    path.write_text(text.replace(VERIFIER, f"    verifier: {who}", 1), encoding="utf-8")
    return next(
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if f"verifier: {who}" in line
    )


def test_an_unknown_verifier_is_refused_at_its_place(cli) -> None:  # type: ignore[no-untyped-def]
    line = _name_verifier("nobody-here")
    result = cli("rules", "check")
    assert result.code == 2
    assert result.err.startswith(f"rules/default.yaml:{line}:15: closure.verifier: unknown owner id 'nobody-here'; ")
    assert "add it to the owners directory" in result.err
    assert result.err.count("nobody-here") == 1  # one line for the defaults, not one per policy


def test_a_known_verifier_passes_and_another_owners_file_can_be_named(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    _name_verifier("program")
    assert cli("rules", "check").code == 0
    other = workdir / "staff.yaml"
    other.write_text("owners:\n  - id: someone\n    name: Someone\n    email: s@example.org\n    timezone: UTC\n")
    refused = cli("rules", "check", "--owners", str(other))
    assert refused.code == 2 and "unknown owner id 'program'" in refused.err


def test_the_shipped_rules_check_against_the_example_owners(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("rules", "check").code == 0
