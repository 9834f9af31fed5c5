"""tools/output_digest.py tells outputs apart, and gives the same digests for the same code whatever is kept in the process."""

from __future__ import annotations

import pandas as pd
from tools_module import load_tool

from pfpp_sim import model as model_module
from pfpp_sim import starting


def _tool():
    return load_tool("output_digest")


def test_a_changed_value_column_name_dtype_or_table_order_changes_the_digest():
    digest = _tool().digest
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    other = pd.DataFrame({"c": [0.5]})
    changed = [
        [table.assign(a=[1.0, 2.5]), other],
        [table.rename(columns={"b": "c"}), other],
        [table.astype({"a": "float32"}), other],
        [other, table],
    ]
    assert digest([table.copy(), other.copy()]) == digest([table, other])
    assert len({digest(tables) for tables in changed} | {digest([table, other])}) == len(changed) + 1


def test_runs_from_a_fresh_process_and_from_kept_set_ups_and_numbers_give_the_same_digests():
    tool = _tool()
    model_module._kept_set_up.cache_clear()
    starting._kept.cache_clear()
    fresh = tool.scenario_digests(horizon=3), tool.sweep_digest(2)
    kept = tool.scenario_digests(horizon=3), tool.sweep_digest(2)  # set-ups and residents' numbers read, not made
    assert model_module._kept_set_up.cache_info().hits > 0
    assert fresh == kept
