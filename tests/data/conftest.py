"""The loaders' tests each read the vendored tables afresh."""

from __future__ import annotations

import pytest

from pfpp_sim import data


@pytest.fixture(autouse=True)
def fresh_tables():
    """Empty every cache of :mod:`pfpp_sim.data` before each test.

    The loaders keep what they read and derive. Without this, a test would see tables read
    by an earlier test, or before the tests started: mutation testing runs the tests once
    before it switches a mutant on, so a mutant in a cached loader would never run.
    """
    for loader in vars(data).values():
        if hasattr(loader, "cache_clear"):
            loader.cache_clear()
