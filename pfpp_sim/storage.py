"""Atomic writes of Parquet tables and JSON manifests (write to a temporary file, then rename),
and results folders that one run at a time fills whole (:func:`claim_folder`)."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pfpp_sim.errors import PfppError, ScenarioError

__all__ = [
    "METADATA_KEY",
    "Claim",
    "RunFolder",
    "claim_folder",
    "empty_folder",
    "holds_files",
    "lock_folder",
    "environment",
    "git_commit",
    "package_version",
    "read_json",
    "read_table",
    "read_toml",
    "readable_table",
    "table_metadata",
    "write_bytes",
    "write_json",
    "write_parquet",
    "write_text",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise PfppError(f"cannot write to {path.parent}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~_umask())  # as an ordinary new file, not the temporary file's 0600
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise PfppError(f"cannot write {path}: {err.strerror or err}") from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path: str | Path) -> dict:
    """Read a JSON manifest of a results folder.

    Raises
    ------
    PfppError
        One line naming the file, if it is missing, not JSON, or not an object.
    """
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise PfppError(f"{path.parent} has no {path.name} (expected a folder written by pfpp)") from err
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise PfppError(f"{path} is not readable JSON ({err.__class__.__name__}): the folder is damaged; rerun the command that wrote it") from err
    if not isinstance(value, dict):
        raise PfppError(f"{path} is not a manifest (expected a JSON object, got {type(value).__name__})")
    return value


def read_toml(path: str | Path, *, what: str) -> tuple[dict[str, Any], bytes]:
    """Read a TOML file a user wrote (a scenario, a sweep spec, a fit), and its bytes.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file should be, as errors say it: ``"an existing <what>"``.

    Returns
    -------
    (dict, bytes)
        The file's contents, and its bytes (for a hash of the file).

    Raises
    ------
    ScenarioError
        Naming the file, if it is missing, unreadable, not UTF-8 or not valid TOML.
    """
    path = Path(path)
    try:
        blob = path.read_bytes()
        text = blob.decode("utf-8-sig")
    except FileNotFoundError as err:
        raise ScenarioError(path, "", str(path), f"an existing {what}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(path, "", str(path), f"a readable UTF-8 TOML file ({err.__class__.__name__})") from err
    try:
        return tomllib.loads(text), blob
    except (ValueError, RecursionError) as err:  # TOMLDecodeError, an integer too long to convert, or nesting too deep
        reason = str(err) if isinstance(err, ValueError) else "tables or arrays nested too deep"
        raise ScenarioError(path, "", None, f"valid TOML ({reason})") from err


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a Parquet table of a results folder, checking its pages' checksums.

    Raises
    ------
    PfppError
        One line naming the file, if it is missing or damaged (truncated, altered).
    """
    path = Path(path)
    try:
        return pd.read_parquet(path, page_checksum_verification=True)
    except FileNotFoundError as err:
        raise PfppError(f"{path.parent} lacks {path.name} (expected every table its command writes; rerun that command)") from err
    except (OSError, ValueError) as err:  # pyarrow's errors are OSError (ArrowIOError) or ValueError (ArrowInvalid) subclasses
        reason = str(err).splitlines()[0] if str(err) else err.__class__.__name__
        raise PfppError(f"{path} is not a readable Parquet table ({reason}): the folder is damaged; rerun the command that wrote it") from err


def readable_table(path: str | Path) -> bool:
    """True when a Parquet file's footer and every column chunk can be read (a cheap check of a finished file)."""
    try:
        pd.read_parquet(path, page_checksum_verification=True)
    except (OSError, ValueError):
        return False
    return True


METADATA_KEY = b"pfpp_sim"
"""Key of the package's own entry in a Parquet file's schema metadata (see :func:`table_metadata`)."""


class RunFolder:
    """Finished runs kept one Parquet file each in a folder, written as they arrive (a :class:`pfpp_sim.jobs.Store`).

    A file is complete or absent: a write cut short by a kill leaves only a hidden
    temporary file, removed by :meth:`finished` (which a resumed run calls first), and a file damaged on disk since
    (its checksums fail) counts as not finished and is removed, so its run is redone.

    Parameters
    ----------
    folder : str or Path
    name : callable, optional
        ``name(key) -> file name`` of a run's table (default ``run-<key:07d>.parquet``, for integer keys).
    """

    def __init__(self, folder: str | Path, name: Callable[[Any], str] | None = None) -> None:
        self.folder = Path(folder)
        self._name = name or (lambda key: f"run-{key:07d}.parquet")
        self._written: dict[Any, pd.DataFrame] = {}  # the tables this object wrote: get needs no read of them

    def path(self, key: Any) -> Path:
        """The file of a run's table."""
        return self.folder / self._name(key)

    def _files(self) -> list[Path]:
        return sorted(self.folder.glob("run-*.parquet")) if self.folder.is_dir() else []

    def count(self) -> int:
        """Finished run files in the folder (whatever their keys)."""
        return len(self._files())

    def read_all(self) -> pd.DataFrame | None:
        """Every finished run's table, in file-name order, as one table (None if there is none)."""
        files = self._files()
        return pd.concat([read_table(f) for f in files], ignore_index=True) if files else None

    def finished(self, keys) -> set:
        """The keys whose file is there and readable; a damaged file is removed, as is a write cut short by a kill."""
        for stale in self.folder.glob(".run-*.tmp") if self.folder.is_dir() else []:
            stale.unlink()  # a write cut short by a kill; its run is redone
        held = set()
        for key in keys:
            path = self.path(key)
            if path.exists():
                if readable_table(path):
                    held.add(key)
                else:
                    path.unlink()  # written whole, then altered or cut on disk: run again
        return held

    def put(self, key: Any, table: pd.DataFrame) -> None:
        """Write a run's table atomically (and keep it, for :meth:`get`)."""
        write_parquet(table, self.path(key))
        self._written[key] = table

    def get(self, key: Any) -> pd.DataFrame:
        """A run's table: as this object wrote it, or else read, checking its checksums.

        A sweep gathers every run's table once they have all finished: only those of
        an earlier, resumed run are read (a thousand small files take seconds to read).
        """
        table = self._written.get(key)
        return read_table(self.path(key)) if table is None else table


def write_parquet(frame: pd.DataFrame, path: str | Path, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write a DataFrame to Parquet atomically (no index; same data give the same bytes).

    Each page carries a CRC checksum, so :func:`read_table` notices a file altered on disk
    instead of reading wrong numbers from it.

    Parameters
    ----------
    frame : DataFrame
    path : str or Path
    metadata : dict, optional
        JSON-serialisable facts about the table (e.g. ``{"units": {...}}``), kept in the
        file's schema metadata under :data:`METADATA_KEY` and read by :func:`table_metadata`.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata is not None:
        blob = json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: blob})
    return _atomic(Path(path), lambda handle: pq.write_table(table, handle, compression="zstd", write_page_checksum=True))


def table_metadata(path: str | Path) -> dict[str, Any]:
    """The facts :func:`write_parquet` kept with a table (``{}`` if none), without reading its data.

    Raises
    ------
    PfppError
        One line naming the file, if it is missing or not Parquet.
    """
    path = Path(path)
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError as err:
        raise PfppError(f"{path.parent} lacks {path.name} (expected every table its command writes; rerun that command)") from err
    except (OSError, ValueError) as err:
        raise PfppError(f"{path} is not a readable Parquet table ({err.__class__.__name__}): rerun the command that wrote it") from err
    blob = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(blob) if blob else {}


def write_json(obj: Any, path: str | Path) -> Path:
    """Write an object as indented JSON atomically, keys in their order (a scenario's tables keep theirs, which its hash counts)."""
    return write_bytes(json.dumps(obj, indent=2, default=str).encode(), path)


def write_text(text: str, path: str | Path) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes(text.encode("utf-8"), path)


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write bytes (e.g. a PNG image) atomically."""
    return _atomic(Path(path), lambda handle: handle.write(data))


class Claim:
    """A results folder claimed by one writer (see :func:`claim_folder`).

    Attributes
    ----------
    out : Path
        The folder the results will be in.
    """

    def __init__(self, out: Path) -> None:
        self.out = out

    def publish(self, write: Callable[[Path], dict[str, Path]]) -> dict[str, Path]:
        """Write the results into a new folder beside ``out``, then put it in ``out``'s place.

        Parameters
        ----------
        write : callable
            Writes every file into the folder it is given and returns their paths by name.

        Returns
        -------
        dict of str to Path
            The same files, at their place in ``out``.
        """
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".new", dir=self.out.parent))
        except OSError as err:
            raise PfppError(f"cannot write to {self.out.parent}: {err.strerror or err}") from err
        try:
            os.chmod(staging, 0o777 & ~_umask())
            try:
                files = write(staging)
            except PfppError as err:  # name the file where it was going, not the folder it was written in first
                raise PfppError(str(err).replace(str(staging), str(self.out))) from err
            old = None
            if self.out.exists():
                old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
                os.replace(self.out, old)
            os.replace(staging, self.out)
        except OSError as err:
            raise PfppError(f"cannot write {self.out}: {err.strerror or err}") from err
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return {name: self.out / path.name for name, path in files.items()}


@contextmanager
def claim_folder(out: str | Path, *, overwrite: bool, what: str = "results") -> Iterator[Claim]:
    """Claim a results folder for one writer, from before a run starts until its results are in it.

    Another process claiming the same folder meanwhile is refused. A folder that already
    holds files is refused unless ``overwrite``; its files are replaced only when the new
    results are complete (:meth:`Claim.publish` swaps whole folders), so the folder never
    mixes files of two runs and an interrupted run loses nothing.

    Parameters
    ----------
    out : str or Path
    overwrite : bool
        Replace what the folder holds.
    what : str, default="results"
        What is written, for messages.

    Raises
    ------
    PfppError
        One line: the folder holds files (and ``overwrite`` is false), another run holds
        it, or it cannot be written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PfppError(f"--out {out}: a folder for the {what}, not a file")
    if not overwrite and out.is_dir() and any(out.iterdir()):
        raise PfppError(f"--out {out} already holds files; give --overwrite to replace them, or choose another folder")
    with lock_folder(out):
        for stale in [*out.parent.glob(f".{out.name}.*.new"), *out.parent.glob(f".{out.name}.old-*")]:
            shutil.rmtree(stale, ignore_errors=True)  # left by a writer that was killed; nobody else holds the folder
        yield Claim(out)


def empty_folder(out: str | Path) -> None:
    """Remove everything a folder holds (the folder itself stays); nothing if it does not exist."""
    out = Path(out)
    for item in out.iterdir() if out.is_dir() else []:
        shutil.rmtree(item) if item.is_dir() else item.unlink()


def holds_files(out: str | Path) -> bool:
    """True when ``out`` is a folder that holds anything."""
    out = Path(out)
    return out.is_dir() and any(out.iterdir())


@contextmanager
def lock_folder(out: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder ``out`` (a hidden file beside it), or fail at once.

    Raises
    ------
    PfppError
        If another process holds it (one line).
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PfppError(f"cannot write to {out.parent}: {err.strerror or err}") from err
    path = out.with_name(f".{out.name}.lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PfppError(f"--out {out}: another pfpp command is writing to this folder; wait for it or choose another folder") from None
        if os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino:
            break  # the lock file is still the one on disk (not removed by a writer finishing meanwhile)
        os.close(fd)
    try:
        yield
    finally:
        os.unlink(path)
        os.close(fd)


def package_version() -> str:
    """Installed version of pfpp_sim (``"unknown"`` when run from a bare source tree)."""
    try:
        return metadata.version("pfpp_sim")
    except metadata.PackageNotFoundError:
        return "unknown"


def git_commit() -> str:
    """Commit of the source tree, with ``+dirty`` when it has uncommitted changes; ``"unknown"`` outside git."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def environment() -> dict[str, str]:
    """Versions of Python and the main libraries, for manifests."""
    versions = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "mesa", "pyarrow", "pydantic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions
