"""Start a real Secret Service (dbus + gnome-keyring-daemon) in a private HOME for tests.

Debian packages: gnome-keyring dbus dbus-x11 (setup.sh --test installs them as root).
The daemons are stopped by process id when the context ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def available() -> str | None:
    """None when a Secret Service can be started here, else the reason it cannot."""
    missing = [p for p in ("dbus-launch", "gnome-keyring-daemon") if shutil.which(p) is None]
    if missing:
        return "not installed: " + ", ".join(missing) + " (setup.sh --test installs them as root)"
    return None


@contextlib.contextmanager
def running_secret_service() -> Iterator[dict[str, str]]:
    """Yields the environment variables that point `keyring` at the new Secret Service."""
    home = Path(tempfile.mkdtemp(prefix="fv-keyring-home-"))
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    (home / ".cache").mkdir()
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    pids: list[int] = []
    try:
        out = subprocess.run(
            ["dbus-launch", "--sh-syntax"], env=env, capture_output=True, text=True, timeout=20, check=True
        ).stdout
        for line in out.splitlines():
            if "=" not in line:
                continue
            key, _, value = line.rstrip(";").partition("=")
            value = value.strip("'")
            if key == "DBUS_SESSION_BUS_ADDRESS":
                env[key] = value
            elif key == "DBUS_SESSION_BUS_PID":
                pids.append(int(value))
        keyring_out = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input="test-password", env=env, capture_output=True, text=True, timeout=20, check=True,
        ).stdout
        for line in keyring_out.splitlines():
            key, _, value = line.partition("=")
            if key == "GNOME_KEYRING_PID":
                pids.append(int(value))
            elif key == "GNOME_KEYRING_CONTROL":
                env[key] = value
        yield {k: env[k] for k in ("HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS") if k in env}
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        shutil.rmtree(home, ignore_errors=True)
