"""Atomic writes of Parquet tables and JSON manifests (write to a temporary file, then rename)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from pfpp_sim.errors import PfppError

__all__ = ["environment", "git_commit", "package_version", "write_bytes", "write_json", "write_parquet", "write_text"]


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
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise PfppError(f"cannot write {path}: {err.strerror or err}") from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame to Parquet atomically (no index; same data give the same bytes)."""
    return _atomic(Path(path), lambda handle: frame.to_parquet(handle, index=False, engine="pyarrow", compression="zstd"))


def write_json(obj: Any, path: str | Path) -> Path:
    """Write an object as indented JSON atomically."""
    return write_bytes(json.dumps(obj, indent=2, sort_keys=True, default=str).encode(), path)


def write_bytes(blob: bytes, path: str | Path) -> Path:
    """Write bytes (e.g. a PNG) atomically."""
    return _atomic(Path(path), lambda handle: handle.write(blob))


def write_text(text: str, path: str | Path) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes(text.encode("utf-8"), path)


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write bytes (e.g. a PNG image) atomically."""
    return _atomic(Path(path), lambda handle: handle.write(data))


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
