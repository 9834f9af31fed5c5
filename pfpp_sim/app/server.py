"""Start the teaching app's web server (``pfpp app``)."""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import socket
import sys
import warnings

from pfpp_sim.errors import PfppError

__all__ = ["APP", "is_loopback", "serve", "solara_arguments"]

APP = "pfpp_sim.app.page:Page"
"""The Solara app that :func:`serve` runs."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``); False for anything else, names included."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def solara_arguments(host: str, port: int) -> list[str]:
    """Arguments of ``solara`` that run the app in production mode, without opening a browser or checking PyPI."""
    return ["run", APP, "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version"]


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: ignore closed connections
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PfppError(f"port {port} on {host} is already in use; choose another with --port") from err
            raise PfppError(f"cannot listen on {host}:{port}: {err.strerror}") from err


def serve(host: str = "127.0.0.1", port: int = 8765, *, allow_remote: bool = False) -> None:
    """Run the teaching app in a web server in this process until interrupted (Ctrl+C or SIGTERM).

    The app has no login, so it listens only on this machine unless ``allow_remote``
    is given; then anyone who can reach the machine can use it, and a warning says so.

    Parameters
    ----------
    host : str, default="127.0.0.1"
        Address to listen on.
    port : int, default=8765
    allow_remote : bool, default=False
        Allow a host that is not a loopback address (e.g. ``"0.0.0.0"`` for a room
        network).

    Raises
    ------
    PfppError
        If the host is not loopback and ``allow_remote`` is False, the port is not
        in 1-65535 or is in use, Solara is not installed, or the server fails.
    """
    if not is_loopback(host) and not allow_remote:
        raise PfppError(
            f"refusing to serve the app on {host}: it has no login, so it listens only on this machine "
            "(e.g. 127.0.0.1) unless remote access is explicitly allowed"
        )
    if not 1 <= int(port) <= 65535:
        raise PfppError(f"port {port} is not a TCP port: expected 1-65535")
    if importlib.util.find_spec("solara") is None:
        raise PfppError("the teaching app needs Solara: pip install 'solara==1.64.*' (the 'app' extra of pfpp_sim)")
    _check_port_free(host, int(port))
    if not is_loopback(host):
        print(
            f"warning: serving the app on {host}:{port}; it has no login, so anyone who can reach this machine "
            "on the network can use it",
            file=sys.stderr,
        )
    from solara.__main__ import cli  # imported here: Solara is an optional dependency
    from solara.server import settings

    import pfpp_sim.app.sides  # noqa: F401  the model's modules, before the server answers: the first page opened does not wait for them
    from pfpp_sim.app.assets import install_assets

    try:
        installed = install_assets()
    except PfppError as err:
        print(f"warning: {err}; the browser will need internet access to load the app", file=sys.stderr)
    else:
        if installed:
            print(f"installed the app's browser files from the npm registry: {', '.join(installed)}", file=sys.stderr)
    settings.telemetry.mixpanel_enable = False  # no usage data leaves a teaching room
    settings.assets.fontawesome_enabled = False  # the app uses Material Design icons only
    settings.theme.show_banner = False  # Solara's "runs on Solara" line sat over the right-hand charts
    # Solara warns on every page load over plain http on an address other than "localhost".
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
    try:
        cli.main(args=solara_arguments(host, int(port)), prog_name="pfpp app", standalone_mode=False)
    except SystemExit as err:
        if err.code not in (0, None):
            raise PfppError(f"the app server stopped with exit code {err.code}; its messages are above") from err
