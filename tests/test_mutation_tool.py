"""tools/mutation.py writes decorated functions plainly, so mutmut mutates them, and they still behave the same."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from tools_module import load_tool

ROOT = Path(__file__).resolve().parent.parent


MUTATION = load_tool("mutation")


SOURCE = textwrap.dedent('''
    import functools


    def twice(f):
        return lambda *a: 2 * f(*a)


    @functools.cache
    @twice
    def area(
        w, h,
    ):
        return w * h


    class Box:
        def __init__(self, w):
            self._w = w

        @property
        def w(self):
            return self._w

        @w.setter
        def w(self, value):
            self._w = value

        @staticmethod
        def unit():
            return 1

        @classmethod
        def make(cls):
            return cls(3)
''')


def _decorated(source: str) -> dict[str, list[str]]:
    return {
        node.name: [ast.unparse(d) for d in node.decorator_list]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.decorator_list
    }


def test_decorators_are_applied_after_the_function_in_the_same_order_and_it_behaves_the_same():
    out = MUTATION.undecorate(SOURCE)
    assert "    area = (functools.cache)((twice)(area))\n" not in out  # at the function's own indentation
    assert "\narea = (functools.cache)((twice)(area))\n" in out
    assert "\n    w = (property)(w)\n" in out
    # A setter names the property being defined, and staticmethod and classmethod are mutated as they are.
    assert _decorated(out) == {"w": ["w.setter"], "unit": ["staticmethod"], "make": ["classmethod"]}
    before, after = {}, {}
    exec(compile(SOURCE, "before", "exec"), before)
    exec(compile(out, "after", "exec"), after)
    assert after["area"](3, 4) == before["area"](3, 4) == 24
    assert after["area"].cache_info().currsize == 1
    box = after["Box"].make()
    box.w = 5
    assert (box.w, after["Box"].unit()) == (5, 1)


@pytest.mark.parametrize("module", MUTATION.config()["mutmut"]["only_mutate"])
def test_every_mutated_module_keeps_its_definitions_once_undecorated(module):
    source = (ROOT / module).read_text(encoding="utf-8")
    out = MUTATION.undecorate(source)
    compile(out, module, "exec")
    names = sorted(n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef))
    assert sorted(n.name for n in ast.walk(ast.parse(out)) if isinstance(n, ast.FunctionDef)) == names
    left = {name: d for name, d in _decorated(out).items() if set(d) - {"staticmethod", "classmethod"}}
    assert all(any(name in text for text in d) for name, d in left.items()), left


def test_a_modules_copy_runs_its_tests_with_the_conftest_that_empties_the_caches(tmp_path):
    import subprocess
    import sys
    import tomllib

    base = MUTATION.config()["mutmut"]
    settings = tomllib.loads(MUTATION.mutmut_section(base, "pfpp_sim/streams.py", ["tests/test_streams.py"]))["tool"]["mutmut"]
    assert settings["only_mutate"] == ["pfpp_sim/streams.py"]
    assert settings["also_copy"] == [*base["also_copy"], "conftest.py"], "mutmut runs the tests in its own copy"
    # Each test finds the module's cache empty, so it runs the (mutated) function itself.
    (tmp_path / "counted.py").write_text("import functools\ncalls = []\n\n@functools.cache\ndef f():\n    calls.append(1)\n")
    (tmp_path / "conftest.py").write_text(MUTATION.CACHE_CONFTEST.format(module="counted"))
    (tmp_path / "test_twice.py").write_text(
        "import counted\n\ndef test_one():\n    counted.f()\n    assert len(counted.calls) == 1\n\n"
        "def test_two():\n    counted.f()\n    assert len(counted.calls) == 2\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout
