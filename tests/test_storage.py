"""Atomic writes: a file is complete or absent, whatever fails half way through writing it."""

from __future__ import annotations

import errno
import os

import pandas as pd
import pyarrow.parquet as pq
import pytest
from faults import ctrl_c, disk_full, half_written

from pfpp_sim import storage
from pfpp_sim.errors import PfppError
from pfpp_sim.storage import write_json, write_parquet

OLD = pd.DataFrame({"run": [1, 2], "value": [0.5, 0.25]})
NEW = pd.DataFrame({"run": range(1000), "value": [i / 7 for i in range(1000)]})


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_disk_full_half_way_keeps_the_previous_file_and_names_the_path(tmp_path, monkeypatch):
    path = write_parquet(OLD, tmp_path / "table.parquet")
    monkeypatch.setattr(pq, "write_table", half_written(1, disk_full))
    with pytest.raises(PfppError) as info:
        write_parquet(NEW, path)
    assert str(info.value) == f"cannot write {path}: No space left on device"
    pd.testing.assert_frame_equal(pd.read_parquet(path), OLD)
    assert leftovers(tmp_path) == []


def test_disk_full_on_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(pq, "write_table", half_written(1, disk_full))
    with pytest.raises(PfppError, match="No space left on device"):
        write_parquet(NEW, tmp_path / "table.parquet")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_half_way_keeps_the_previous_file_and_removes_the_temporary_one(tmp_path, monkeypatch):
    path = write_parquet(OLD, tmp_path / "table.parquet")
    monkeypatch.setattr(pq, "write_table", half_written(1, ctrl_c))
    with pytest.raises(KeyboardInterrupt):
        write_parquet(NEW, path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), OLD)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES], ids=["read_only_file_system", "permission_denied"])
def test_a_folder_that_cannot_be_written_is_named_with_the_reason(tmp_path, monkeypatch, code):
    def refuse(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(storage.tempfile, "mkstemp", refuse)
    with pytest.raises(PfppError) as info:
        write_json({"a": 1}, tmp_path / "out" / "manifest.json")
    assert str(info.value) == f"cannot write to {tmp_path / 'out'}: {os.strerror(code)}"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="file modes do not stop root (the simulated case above runs)")
def test_a_read_only_folder_is_named_with_the_reason(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PfppError, match=f"cannot write to {folder}: Permission denied"):
            write_parquet(OLD, folder / "table.parquet")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_the_same_table_is_written_as_the_same_bytes(tmp_path):
    first = write_parquet(NEW, tmp_path / "a.parquet").read_bytes()
    assert write_parquet(NEW.copy(), tmp_path / "b.parquet").read_bytes() == first
