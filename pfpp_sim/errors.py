"""Errors raised for user mistakes: each names the file, key and bad value."""

from __future__ import annotations

__all__ = ["PfppError", "DataError", "ScenarioError", "InvariantError"]


class PfppError(Exception):
    """Base class for errors that the command line reports in one line."""


class DataError(PfppError):
    """A data table or place selector is missing, malformed or unknown."""


class ScenarioError(PfppError):
    """A scenario or sweep file is invalid: names file, key path, value and expectation."""

    def __init__(self, path, key: str, value, expected: str) -> None:
        self.path = str(path)
        self.key = key
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        super().__init__(_printable(f"{self.path}: {key or '<file>'} = {shown}: {expected}"))

    def __reduce__(self):
        # Rebuilt from its four parts when it crosses a process boundary (a worker or a Dask executor).
        return type(self), (self.path, self.key, self.value, self.expected)


def _printable(text: str) -> str:
    """Escape newlines and other unprintable characters, so an error stays on one line."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class InvariantError(PfppError):
    """A run broke an accounting or population invariant: names it, the month and place."""
