"""Auto-lock on screen lock, against real buses: the test starts a private D-Bus session bus
and a private "system" bus (dbus-daemon on unix sockets in the test's folder, nothing
else can reach them), runs the app on them, emits the signals a desktop sends when the
screen locks (the screensaver's ActiveChanged(true), GNOME's, and systemd-logind's Lock for
this login session) with dbus-send, and checks that the vault locks, its Open copies are
deleted and the window shows the unlock page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.media import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None or shutil.which("dbus-send") is None,
                                reason="needs dbus-daemon and dbus-send (setup.sh --test installs them)")

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _bus(folder: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    socket = folder / f"{name}.sock"
    config = folder / f"{name}.conf"
    config.write_text(CONFIG.format(socket=socket))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert socket.exists(), proc.stderr.read() if proc.stderr else b""
    return proc, f"unix:path={socket}"


@pytest.fixture()
def buses(tmp_path: Path) -> Iterator[dict[str, str]]:
    short = Path(os.environ.get("TMPDIR", "/tmp")) / f"fv-dbus-{os.getpid()}-{time.monotonic_ns()}"
    short.mkdir(mode=0o700)  # unix socket paths must stay short
    session, session_addr = _bus(short, "session")
    system, system_addr = _bus(short, "system")
    try:
        yield {"DBUS_SESSION_BUS_ADDRESS": session_addr, "DBUS_SYSTEM_BUS_ADDRESS": system_addr,
               "XDG_SESSION_ID": "c7"}
    finally:
        for p in (session, system):
            p.terminate()
            p.wait(10)
        shutil.rmtree(short, ignore_errors=True)


SIGNALS = {
    "freedesktop-screensaver": ("DBUS_SESSION_BUS_ADDRESS", "/org/freedesktop/ScreenSaver",
                                "org.freedesktop.ScreenSaver.ActiveChanged", ["boolean:true"]),
    "gnome-screensaver": ("DBUS_SESSION_BUS_ADDRESS", "/org/gnome/ScreenSaver",
                          "org.gnome.ScreenSaver.ActiveChanged", ["boolean:true"]),
    "logind-session-lock": ("DBUS_SYSTEM_BUS_ADDRESS", "/org/freedesktop/login1/session/c7",
                            "org.freedesktop.login1.Session.Lock", []),
}


def _start_app(buses: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    """tests/gui/session_lock_app.py on the private buses, with its own folders."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FACEVAULT_CONFIG_DIR=str(tmp_path / "config"),
               FACEVAULT_DATA_DIR=str(tmp_path / "data"), FACEVAULT_RUNTIME_DIR=str(tmp_path / "runtime"),
               **buses)
    (tmp_path / "work").mkdir()
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "tests" / "gui" / "session_lock_app.py"),
                             str(tmp_path / "work")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=REPO_ROOT)


@pytest.mark.parametrize("signal", sorted(SIGNALS))
def test_the_vault_locks_when_the_session_locks(buses: dict[str, str], tmp_path: Path, signal: str) -> None:
    app = _start_app(buses, tmp_path)
    try:
        assert app.stdout is not None
        ready = app.stdout.readline()
        assert ready.startswith("ready "), (ready, app.stderr.read() if app.stderr else "")
        copy = Path(ready.split(" ", 1)[1].strip())
        assert copy.read_bytes() == b"dear diary"  # an Open copy exists while unlocked
        bus_var, path, member, args = SIGNALS[signal]
        sent = subprocess.run(["dbus-send", f"--bus={buses[bus_var]}", "--type=signal", path, member, *args],
                              capture_output=True, text=True, timeout=10)
        assert sent.returncode == 0, sent.stderr
        line = app.stdout.readline()
        assert line, app.stderr.read() if app.stderr else ""
        seen = json.loads(line)
    finally:
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:  # a failed check: never leave the app running
            app.kill()
            app.wait(10)
    assert seen["vault_closed"] and seen["page"] == "UnlockPage"
    assert not seen["copy_exists"] and not copy.exists()


def test_a_screensaver_that_stops_does_not_lock(buses: dict[str, str], tmp_path: Path) -> None:
    """ActiveChanged(false) (the screen woke up) leaves an open vault open."""
    app = _start_app(buses, tmp_path)
    try:
        assert app.stdout is not None
        assert app.stdout.readline().startswith("ready ")
        subprocess.run(["dbus-send", f"--bus={buses['DBUS_SESSION_BUS_ADDRESS']}", "--type=signal",
                        "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver.ActiveChanged",
                        "boolean:false"], check=True, timeout=10)
        time.sleep(1.0)
        assert app.poll() is None  # still running: not locked
        subprocess.run(["dbus-send", f"--bus={buses['DBUS_SESSION_BUS_ADDRESS']}", "--type=signal",
                        "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver.ActiveChanged",
                        "boolean:true"], check=True, timeout=10)
        assert json.loads(app.stdout.readline())["vault_closed"]
    finally:
        app.kill()
        app.wait(30)
