"""User errors: one line each, and intact after crossing a process boundary."""

from __future__ import annotations

import pickle

import pytest

from pfpp_sim.errors import DataError, InvariantError, ScenarioError


def test_scenario_error_names_file_key_value_and_expectation():
    err = ScenarioError("child.toml", "levers.pooling", 1.5, "a share in [0, 1]")
    assert str(err) == "child.toml: levers.pooling = 1.5: a share in [0, 1]"


def test_scenario_error_about_the_whole_file_says_so():
    assert str(ScenarioError("child.toml", "", None, "valid TOML")) == "child.toml: <file> = None: valid TOML"


def test_a_long_bad_value_is_shortened():
    message = str(ScenarioError("child.toml", "name", "x" * 500, "a name"))
    assert "x" * 56 + "..." in message and "x" * 60 not in message


@pytest.mark.parametrize("key", ["two\nlines", "carriage\rreturn", "line\u2028separator", "escape\x1b[31m"])
def test_scenario_error_with_control_characters_stays_on_one_printable_line(key):
    message = str(ScenarioError("child.toml", key, "v\nw", "expected\nsomething"))
    assert len(message.splitlines()) == 1
    assert message.isprintable()


def test_scenario_error_keeps_unicode_that_prints():
    assert "\u00e9t\u00e9.toml: caf\u00e9" in str(ScenarioError("\u00e9t\u00e9.toml", "caf\u00e9", 1, "x"))


@pytest.mark.parametrize(
    "err",
    [ScenarioError("child.toml", "levers.pooling", 1.5, "a share"), DataError("no such place"), InvariantError("ledger, month 3, place P")],
    ids=["scenario", "data", "invariant"],
)
def test_errors_raised_in_a_worker_process_reach_the_caller_intact(err):
    # Worker processes and Dask send exceptions back pickled.
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err)
    assert str(again) == str(err)
    assert vars(again) == vars(err)
