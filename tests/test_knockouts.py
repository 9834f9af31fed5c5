"""The knockouts of tools/knockouts.py still edit the code they name, so a speed-up cannot silently unpin a mechanism."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools_module import load_tool

ROOT = Path(__file__).resolve().parent.parent


def _knockouts():
    return load_tool("knockouts").KNOCKOUTS


@pytest.mark.parametrize("knockout", _knockouts(), ids=lambda k: f"{k.name}-{k.effect[:30]}")
def test_each_knockout_removes_code_that_is_there_exactly_once(knockout):
    source = (ROOT / knockout.path).read_text(encoding="utf-8")
    assert source.count(knockout.old) == 1, f"{knockout.name}: {knockout.old!r} is not in {knockout.path} exactly once"
    assert all((ROOT / test.split("::")[0]).is_file() for test in knockout.tests), knockout.tests
