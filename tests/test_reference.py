"""The scenario and sweep reference (docs/reference.md) is generated from the models and kept current."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from pfpp_sim.evidence import sourced_parameters
from pfpp_sim.reference import DEFAULTS_FROM, reference
from pfpp_sim.scenario import Intervention, Levers, Programme, RunSettings, Scenario, UserSource, load_scenario
from pfpp_sim.sweep import Parameter, SweepSpec

DOC = Path(__file__).resolve().parents[1] / "docs" / "reference.md"


def test_the_reference_in_docs_is_what_the_models_generate():
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/reference.md is out of date: run `python -m pfpp_sim.reference docs/reference.md`"
    )


@pytest.mark.parametrize("model", [Scenario, RunSettings, Levers, Programme, Intervention, UserSource, SweepSpec, Parameter])
def test_every_key_of_every_file_table_is_in_the_reference(model: type[BaseModel]):
    text = reference()
    for key in model.model_fields:
        assert f"| `{key}` |" in text, f"{model.__name__}.{key}"


def test_every_sourced_quantity_of_the_default_preset_is_listed_with_its_unit_and_source():
    text = reference()
    for path, value in sourced_parameters(load_scenario(DEFAULTS_FROM, calibration="none")):
        if path.startswith(("world.", "mechanisms.")):
            assert f"| `{path}` | {value.value:g} | {value.unit} |" in text, path
            assert f"`{value.source}`" in text


def test_the_reference_shows_each_levers_limits_and_default():
    text = reference()
    assert "| `pooling` | number | 0 to 1 | `0` |" in text
    assert "| `funding_period_months` | integer (optional) | 3 to 60 | absent |" in text
    assert "| `horizon_months` | integer | 1 to 240 | required (e.g. `60`) |" in text


def test_every_design_of_a_sweep_is_in_the_run_count_table():
    (designs,) = [typing.get_args(a) for a in [SweepSpec.model_fields["design"].annotation]]
    text = reference()
    for design in designs:
        assert f"| `{design}` |" in text
