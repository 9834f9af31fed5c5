"""Atomic writes: a file is complete or absent, whatever fails half way through writing it."""

from __future__ import annotations

import datetime as dt
import errno
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from faults import ctrl_c, disk_full, half_written

from pfpp_sim import storage
from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.storage import (
    RunFolder,
    claim_folder,
    empty_folder,
    holds_files,
    read_json,
    read_table,
    read_toml,
    readable_table,
    table_metadata,
    write_bytes,
    write_json,
    write_parquet,
    write_text,
)

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


# ---------------------------------------------------------------- reading back


def test_a_manifest_reads_back_as_written_keeping_key_order_and_naming_what_json_lacks(tmp_path):
    path = write_json({"b": 1, "a": [1.5, None], "when": dt.date(2024, 4, 1), "where": tmp_path}, tmp_path / "m.json")
    assert list(read_json(path)) == ["b", "a", "when", "where"]
    assert read_json(path) == {"b": 1, "a": [1.5, None], "when": "2024-04-01", "where": str(tmp_path)}
    assert path.read_text().startswith('{\n  "b": 1,')


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "{folder} has no m.json (expected a folder written by pfpp)"),
        ("{not json", "{path} is not readable JSON (JSONDecodeError): the folder is damaged; rerun the command that wrote it"),
        ("[1, 2]", "{path} is not a manifest (expected a JSON object, got list)"),
    ],
    ids=["missing", "damaged", "not_an_object"],
)
def test_a_manifest_that_is_missing_damaged_or_not_an_object_is_one_line_naming_it(tmp_path, content, expected):
    path = tmp_path / "m.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PfppError) as info:
        read_json(path)
    assert str(info.value) == expected.format(folder=tmp_path, path=path)


def test_a_table_reads_back_as_written_with_its_facts(tmp_path):
    path = write_parquet(NEW, tmp_path / "t.parquet", metadata={"units": {"value": "GBP"}, "n": 2})
    pd.testing.assert_frame_equal(read_table(path), NEW)
    assert table_metadata(path) == {"n": 2, "units": {"value": "GBP"}}
    assert table_metadata(write_parquet(OLD, tmp_path / "plain.parquet")) == {}
    assert readable_table(path) and pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    schema = pq.read_schema(path)
    assert schema.names == ["run", "value"], "no index column"
    assert schema.metadata[b"pfpp_sim"] == b'{"n":2,"units":{"value":"GBP"}}' and b"pandas" in schema.metadata


def test_a_run_folder_gives_back_the_tables_it_wrote_without_reading_them_and_reads_the_others(tmp_path, monkeypatch):
    earlier = RunFolder(tmp_path)
    earlier.put(1, OLD)  # a run finished before the sweep was resumed
    runs = RunFolder(tmp_path)
    runs.put(2, NEW)
    assert runs.finished([1, 2, 3]) == {1, 2}
    pd.testing.assert_frame_equal(runs.get(1), OLD)
    monkeypatch.setattr(storage, "read_table", lambda path: pytest.fail(f"read {path}"))
    assert runs.get(2) is NEW


def test_a_run_folder_counts_and_reads_its_finished_runs_in_file_name_order(tmp_path):
    runs = RunFolder(tmp_path / "runs")
    assert runs.count() == 0 and runs.read_all() is None and runs.finished([1]) == set()  # no folder yet
    runs.put(3, NEW)
    runs.put(1, OLD)
    write_parquet(OLD, tmp_path / "runs" / "design.parquet")  # not a run's file
    assert runs.path(3) == tmp_path / "runs" / "run-0000003.parquet"
    assert runs.count() == 2
    pd.testing.assert_frame_equal(runs.read_all(), pd.concat([OLD, NEW], ignore_index=True))
    named = RunFolder(tmp_path / "pairs", name=lambda key: f"run-{key[0]}-{key[1]}.parquet")
    named.put((2, 0), OLD)
    assert named.path((2, 0)).name == "run-2-0.parquet" and named.finished([(2, 0), (2, 1)]) == {(2, 0)}


def alter_a_data_byte(path: Path) -> None:
    """Flip one byte of a Parquet file inside its data pages, away from the footer."""
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_run_folder_removes_a_write_cut_short_and_a_damaged_file_so_that_their_runs_are_redone(tmp_path):
    runs = RunFolder(tmp_path)
    for key in (1, 2):
        runs.put(key, NEW)
    alter_a_data_byte(runs.path(2))
    cut_short = tmp_path / ".run-0000003.parquet.x1y2.tmp"  # as a kill during write_parquet leaves it
    cut_short.write_bytes(b"PAR1")
    assert RunFolder(tmp_path).finished([1, 2, 3]) == {1}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run-0000001.parquet"]


def test_a_table_altered_on_disk_is_caught_by_its_checksums_not_read_as_other_numbers(tmp_path):
    path = write_parquet(NEW, tmp_path / "t.parquet")
    alter_a_data_byte(path)
    assert not readable_table(path)
    with pytest.raises(PfppError, match=rf"^{path} is not a readable Parquet table \(.*\): the folder is damaged; rerun"):
        read_table(path)


def test_a_missing_or_truncated_table_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "gone.parquet"
    for read in (read_table, table_metadata):
        with pytest.raises(PfppError) as info:
            read(missing)
        assert str(info.value) == f"{tmp_path} lacks gone.parquet (expected every table its command writes; rerun that command)"
    cut = write_parquet(NEW, tmp_path / "cut.parquet")
    cut.write_bytes(cut.read_bytes()[:100])
    assert not readable_table(cut) and not readable_table(missing)
    try:
        pd.read_parquet(cut, page_checksum_verification=True)
    except (OSError, ValueError) as err:
        reason = str(err).splitlines()[0]
    with pytest.raises(PfppError) as info:
        read_table(cut)
    assert str(info.value) == f"{cut} is not a readable Parquet table ({reason}): the folder is damaged; rerun the command that wrote it"
    with pytest.raises(PfppError, match=rf"^{cut} is not a readable Parquet table \(ArrowInvalid\): rerun the command"):
        table_metadata(cut)


@pytest.mark.parametrize(("umask", "mode"), [(0o027, 0o640), (0o002, 0o664)])
def test_text_and_bytes_are_written_whole_with_the_users_umask_in_new_folders(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        text = write_text("£5 – done\n", tmp_path / "a" / "b" / "note.md")
        blob = write_bytes(b"\x89PNG", tmp_path / "a" / "b" / "figure.png")
    finally:
        os.umask(old)
    assert text.read_text(encoding="utf-8") == "£5 – done\n" and blob.read_bytes() == b"\x89PNG"
    assert (text.stat().st_mode & 0o777, blob.stat().st_mode & 0o777) == (mode, mode)
    assert os.umask(old) == old, "the umask is left as it was"
    assert leftovers(tmp_path / "a" / "b") == []


def test_a_file_is_written_beside_its_place_under_a_hidden_temporary_name_then_renamed(tmp_path, monkeypatch):
    renamed = []
    real_replace = os.replace
    monkeypatch.setattr(storage.os, "replace", lambda src, dst: renamed.append((Path(src), Path(dst))) or real_replace(src, dst))
    write_json({"a": 1}, tmp_path / "manifest.json")
    (src, dst), = renamed
    assert dst == tmp_path / "manifest.json" and src.parent == tmp_path
    assert src.name.startswith(".manifest.json.") and src.name.endswith(".tmp")
    renamed.clear()
    with claim_folder(tmp_path / "x" / "out", overwrite=False) as claim:
        claim.publish(lambda folder: {"note": write_text("n", folder / "note.txt")})
    staging = [src for src, dst in renamed if dst == tmp_path / "x" / "out"]
    assert len(staging) == 1 and staging[0].parent == tmp_path / "x"
    assert staging[0].name.startswith(".out.") and staging[0].name.endswith(".new")


def test_a_folder_that_cannot_be_put_in_place_is_one_line_and_keeps_the_old_results(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with claim_folder(out, overwrite=False) as claim:
        claim.publish(lambda folder: {"note": write_text("old", folder / "note.txt")})

    def cross_device(*_args):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(storage.os, "replace", cross_device)
    with pytest.raises(PfppError) as info, claim_folder(out, overwrite=True) as claim:
        claim.publish(lambda folder: {"note": (folder / "note.txt").write_text("new") and folder / "note.txt"})
    assert str(info.value) == f"cannot write {out}: {os.strerror(errno.EXDEV)}"
    assert (out / "note.txt").read_text() == "old"
    (tmp_path / "file").write_text("x")
    with pytest.raises(PfppError) as info, claim_folder(tmp_path / "file" / "out", overwrite=False) as claim:
        pass
    assert str(info.value) == f"cannot write to {tmp_path / 'file'}: {os.strerror(errno.EEXIST)}"


def test_the_commit_is_the_packages_whatever_the_working_folder(tmp_path, monkeypatch):
    package = Path(storage.__file__).resolve().parent
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=package, capture_output=True, text=True)
    if head.returncode:
        pytest.skip("the package is not in a git checkout")
    monkeypatch.chdir(tmp_path)
    assert storage.git_commit().split("+")[0] == head.stdout.strip()


# ------------------------------------------------------------- results folders


def _files(folder) -> dict:
    return {"note": write_text("new", folder / "note.txt")}


def test_a_claimed_folder_is_filled_whole_replacing_what_it_held(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with claim_folder(out, overwrite=True) as claim:
        assert (tmp_path / ".out.lock").exists()
        files = claim.publish(_files)
    assert files == {"note": out / "note.txt"} and sorted(p.name for p in out.iterdir()) == ["note.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no lock, staging or old folder left beside it"


def test_a_folder_holding_files_is_refused_without_overwrite_and_an_empty_one_is_not(tmp_path):
    (tmp_path / "empty").mkdir()
    with claim_folder(tmp_path / "empty", overwrite=False) as claim:
        claim.publish(_files)
    with pytest.raises(PfppError) as info, claim_folder(tmp_path / "empty", overwrite=False):
        pass
    assert str(info.value) == f"--out {tmp_path / 'empty'} already holds files; give --overwrite to replace them, or choose another folder"
    (tmp_path / "file").write_text("x")
    with pytest.raises(PfppError, match=r"--out .*file: a folder for the sweep, not a file$"), claim_folder(tmp_path / "file", overwrite=True, what="sweep"):
        pass


def test_a_claim_makes_the_folders_above_it_and_a_lock_anyone_may_open_as_the_umask_allows(tmp_path):
    out = tmp_path / "a" / "b" / "out"
    umask = os.umask(0o022)
    try:
        with claim_folder(out, overwrite=False) as claim:
            assert (tmp_path / "a" / "b" / ".out.lock").stat().st_mode & 0o777 == 0o644
            claim.publish(_files)
    finally:
        os.umask(umask)
    assert (out / "note.txt").read_text() == "new"


def test_a_file_left_where_a_killed_writer_staged_does_not_stop_the_next_claim(tmp_path):
    out = tmp_path / "out"
    (tmp_path / ".out.killed.new").write_text("not a folder")
    (tmp_path / ".out.old-1").mkdir()
    with claim_folder(out, overwrite=False) as claim:
        claim.publish(_files)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.killed.new", "out"]


def test_emptying_a_folder_removes_its_files_and_folders_and_keeps_it(tmp_path):
    out = tmp_path / "out"
    assert not holds_files(out)
    empty_folder(out)  # nothing to empty
    out.mkdir()
    assert not holds_files(out)
    (out / "sub").mkdir()
    (out / "sub" / "run-1.parquet").write_text("x")
    (out / "manifest.json").write_text("{}")
    assert holds_files(out)
    empty_folder(out)
    assert out.is_dir() and not holds_files(out)
    (tmp_path / "file").write_text("x")
    assert not holds_files(tmp_path / "file")


def test_a_claim_says_what_it_is_for(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(PfppError) as info, claim_folder(tmp_path / "file", overwrite=True):
        pass
    assert str(info.value) == f"--out {tmp_path / 'file'}: a folder for the results, not a file"


def test_a_folder_another_writer_holds_is_refused_and_freed_when_it_is_done(tmp_path):
    out = tmp_path / "out"
    with claim_folder(out, overwrite=False):
        with pytest.raises(PfppError) as info, claim_folder(out, overwrite=False):
            pass
        assert str(info.value) == f"--out {out}: another pfpp command is writing to this folder; wait for it or choose another folder"
    with claim_folder(out, overwrite=False) as claim:
        claim.publish(_files)


def test_what_a_killed_writer_left_beside_the_folder_is_cleared_by_the_next(tmp_path):
    for stale in (".out.x1.new", ".out.old-123"):
        (tmp_path / stale).mkdir()
    (tmp_path / ".other.x1.new").mkdir()
    with claim_folder(tmp_path / "out", overwrite=False) as claim:
        claim.publish(_files)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.x1.new", "out"]


def test_a_writer_failing_names_the_file_in_the_folder_and_leaves_the_old_results(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")

    def fail(folder):
        raise PfppError(f"cannot write {folder / 'table.parquet'}: No space left on device")

    with pytest.raises(PfppError) as info, claim_folder(out, overwrite=True) as claim:
        claim.publish(fail)
    assert str(info.value) == f"cannot write {out / 'table.parquet'}: No space left on device"
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"] and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_published_folder_follows_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with claim_folder(tmp_path / "out", overwrite=False) as claim:
            claim.publish(_files)
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750


# ------------------------------------------------------------------ provenance


def test_the_version_commit_and_environment_name_what_made_a_result(monkeypatch):
    assert storage.package_version() == metadata.version("pfpp_sim")
    commit = storage.git_commit()
    assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit)
    env = storage.environment()
    assert list(env) == ["python", "numpy", "pandas", "mesa", "pyarrow", "pydantic"]
    assert env["python"] == platform.python_version() and env["pandas"] == pd.__version__

    def no_git(*_args, **_kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(storage.subprocess, "run", no_git)
    assert storage.git_commit() == "unknown"
    monkeypatch.setattr(storage.metadata, "version", lambda name: (_ for _ in ()).throw(metadata.PackageNotFoundError(name)))
    assert storage.package_version() == "unknown" and storage.environment()["numpy"] == "unknown"


def test_a_commit_with_uncommitted_changes_to_tracked_files_is_marked_dirty(monkeypatch):
    calls, answers = [], {"rev-parse": "abc123\n"}

    def fake_git(args, **kwargs):
        calls.append((args, kwargs))
        return subprocess.CompletedProcess(args, 0, stdout=answers[args[1]], stderr="")

    monkeypatch.setattr(storage.subprocess, "run", fake_git)
    for status, expected in ((" M pfpp_sim/model.py\n", "abc123+dirty"), ("", "abc123")):
        answers["status"] = status
        calls.clear()
        assert storage.git_commit() == expected
        package = str(Path(storage.__file__).resolve().parent)
        assert calls == [
            (["git", "rev-parse", "HEAD"], {"cwd": Path(package), "capture_output": True, "text": True, "timeout": 5, "check": True}),
            (["git", "status", "--porcelain", "--untracked-files=no"], {"cwd": Path(package), "capture_output": True, "text": True, "timeout": 5}),
        ]

    def not_a_checkout(args, **_kwargs):
        raise subprocess.CalledProcessError(128, args)

    monkeypatch.setattr(storage.subprocess, "run", not_a_checkout)
    assert storage.git_commit() == "unknown"


def test_a_reader_error_without_a_message_is_named_by_its_kind(tmp_path, monkeypatch):
    path = write_parquet(OLD, tmp_path / "t.parquet")
    monkeypatch.setattr(storage.pd, "read_parquet", lambda *_a, **_k: (_ for _ in ()).throw(OSError()))
    with pytest.raises(PfppError) as info:
        read_table(path)
    assert str(info.value) == f"{path} is not a readable Parquet table (OSError): the folder is damaged; rerun the command that wrote it"


def test_a_table_with_a_filtered_index_is_saved_without_it(tmp_path):
    path = write_parquet(NEW.iloc[::2], tmp_path / "t.parquet")
    assert pq.read_schema(path).names == ["run", "value"]
    pd.testing.assert_frame_equal(read_table(path), NEW.iloc[::2].reset_index(drop=True))


# ------------------------------------------------------------- files users wrote


def test_a_toml_file_is_read_with_its_bytes_and_a_leading_byte_order_mark_is_allowed(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_bytes(b"\xef\xbb\xbfname = 'x'\n")
    assert read_toml(path, what="sweep file") == ({"name": "x"}, b"\xef\xbb\xbfname = 'x'\n")
    assert read_toml(str(path), what="sweep file")[0] == {"name": "x"}


@pytest.mark.parametrize(
    ("content", "named", "expected"),
    [
        (None, True, "an existing sweep file"),
        (b"name = '\xff'\n", True, "a readable UTF-8 TOML file (UnicodeDecodeError)"),
        (b"name = \n", False, "valid TOML (Invalid value (at line 1, column 8))"),
        (b"a = " + b"[" * 2000 + b"]" * 2000 + b"\n", False, "valid TOML (tables or arrays nested too deep)"),
    ],
    ids=["missing", "not UTF-8", "not TOML", "nested too deep"],
)
def test_a_toml_file_that_cannot_be_read_is_named_with_what_it_should_be(tmp_path, content, named, expected):
    path = tmp_path / "spec.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ScenarioError) as info:
        read_toml(path, what="sweep file")
    assert (info.value.path, info.value.key, info.value.value, info.value.expected) == (str(path), "", str(path) if named else None, expected)
    assert str(info.value).startswith(f"{path}: <file> = ") and str(info.value).endswith(f": {expected}")
    assert isinstance(info.value.__cause__, (OSError, UnicodeDecodeError, ValueError, RecursionError))


def test_a_toml_file_that_is_a_folder_is_named_as_unreadable(tmp_path):
    with pytest.raises(ScenarioError) as info:
        read_toml(tmp_path, what="scenario")
    assert info.value.expected == "a readable UTF-8 TOML file (IsADirectoryError)"
