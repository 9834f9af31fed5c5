"""Solara's browser files, installed from the npm registry so the app works offline.

Solara's server sends the browser its front end (the Vuetify app, require.js) from a
cache folder in the Python environment, filling it from a public CDN on first use. A
teaching room, a CI machine or this project's machines may have no route to that CDN,
so :func:`install_assets` fills the cache once from the npm registry with ``npm pack``
(the same packages the CDN serves). Run it at install time; :func:`pfpp_sim.app.serve`
also runs it when files are missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from importlib import resources
from pathlib import Path

from pfpp_sim.errors import PfppError

__all__ = ["cache_dir", "install_assets", "missing_assets", "required_assets"]

_SPEC = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/")


def required_assets() -> list[str]:
    """npm package specs (``name@version``) the installed Solara's page loads from its CDN.

    Read from Solara's page template, so they follow Solara upgrades; of its two
    front ends, only the one matching the installed ipyvue (Vue 2 or 3) is needed.
    """
    import ipyvue

    template = resources.files("solara.server").joinpath("templates", "solara.html.j2").read_text(encoding="utf-8")
    vue3 = ipyvue.__version__.startswith("3")
    specs = sorted(set(_SPEC.findall(template)))
    return [s for s in specs if "solara-vuetify" not in s or ("solara-vuetify3-app" in s) == vue3]


def cache_dir() -> Path:
    """The folder Solara's server serves CDN files from (``SOLARA_ASSETS_PROXY_CACHE_DIR``)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing_assets(directory: Path | None = None) -> list[str]:
    """Required package specs that are not yet in the cache folder."""
    directory = cache_dir() if directory is None else directory
    return [spec for spec in required_assets() if not (directory / spec / "package.json").is_file()]


def install_assets(directory: Path | None = None, *, npm: str = "npm", timeout_s: float = 300.0) -> list[str]:
    """Fetch the missing front-end packages with ``npm pack`` and unpack them into the cache folder.

    Parameters
    ----------
    directory : Path, optional
        Cache folder (default: Solara's, see :func:`cache_dir`).
    npm : str, default="npm"
        The npm command.
    timeout_s : float, default=300.0

    Returns
    -------
    list of str
        Package specs installed (empty if nothing was missing).

    Raises
    ------
    PfppError
        If npm is not installed, fails or times out.
    """
    directory = cache_dir() if directory is None else directory
    missing = missing_assets(directory)
    if not missing:
        return []
    if shutil.which(npm) is None:
        raise PfppError(f"the app's browser files {', '.join(missing)} are missing and npm is not installed to fetch them")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(
                [npm, "pack", "--json", "--pack-destination", tmp, *missing],
                cwd=tmp, capture_output=True, text=True, timeout=timeout_s, check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise PfppError(f"npm pack {' '.join(missing)} did not finish in {timeout_s:.0f} s") from err
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise PfppError(f"npm pack {' '.join(missing)} failed: {last}")
        for package in json.loads(done.stdout):
            spec = f"{package['name']}@{package['version']}"
            unpacked = Path(tmp) / f"unpacked-{package['filename']}"
            with tarfile.open(Path(tmp) / package["filename"]) as archive:
                archive.extractall(unpacked, filter="data")
            target = directory / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            shutil.move(unpacked / "package", target)
    return missing
