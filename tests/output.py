"""What a command printed on stderr, less the line saying where its scenario came from."""

from __future__ import annotations


def error_lines(stderr: str) -> list[str]:
    """The lines of ``stderr`` other than the provenance line(s) starting ``scenario ``."""
    return [line for line in stderr.strip().splitlines() if line and not line.startswith("scenario ")]
