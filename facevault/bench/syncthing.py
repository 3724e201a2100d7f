"""Two real Syncthing instances sharing one folder, on 127.0.0.1 only, for `facevault bench
sync` and the sync tests (tests/test_syncthing.py).

Each instance gets its own home; its config is written before it ever runs: listening and
the GUI/REST API on 127.0.0.1 ports picked here, global and local discovery, relays, NAT
traversal, STUN, usage and crash reporting and upgrades all off, and the other instance
introduced by its explicit tcp://127.0.0.1 address. Nothing else is ever contacted. The
instances are driven through the REST API (scan, pause, resume, status) and stopped by
their process ids.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["available", "Instance", "Pair", "running_pair", "tree_digest"]

FOLDER_ID = "facevault-test"
_OFF = {
    "globalAnnounceEnabled": "false", "localAnnounceEnabled": "false", "relaysEnabled": "false",
    "natEnabled": "false", "startBrowser": "false", "urAccepted": "-1", "urSeen": "3", "urURL": "",
    "autoUpgradeIntervalH": "0", "releasesURL": "", "crashReportingEnabled": "false",
    "crashReportingURL": "", "announceLANAddresses": "false", "restartOnWakeup": "false",
    "stunServer": "", "globalAnnounceServer": "", "reconnectionIntervalS": "1",
    "progressUpdateIntervalS": "-1",
}


def available() -> str | None:
    """None when Syncthing can run here, else why not."""
    if shutil.which("syncthing") is None:
        return "syncthing is not installed (./setup.sh --test installs it as root)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under `root` that the vault or the person owns (Syncthing's marker and
    temporary files, and this machine's lock, left out) -> sha256."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if ".stfolder" in rel.parts or p.name.startswith(".syncthing.") or p.name == ".lock":
            continue
        if p.is_file() and not p.name.startswith(".fvtmp-"):
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@dataclass
class Instance:
    name: str
    home: Path
    folder: Path
    gui_port: int
    listen_port: int
    device_id: str = ""
    api_key: str = field(default="", repr=False)
    proc: subprocess.Popen[bytes] | None = None

    # -- set-up (never contacts anything) ------------------------------------------------

    def generate(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        res = subprocess.run(["syncthing", "generate", f"--home={self.home}", "--no-default-folder",
                              "--skip-port-probing"], capture_output=True, text=True, timeout=60,
                             env=self._env())
        if res.returncode != 0:
            raise RuntimeError(f"syncthing generate failed: {res.stderr}")
        tree = ET.parse(self.home / "config.xml")
        me, key = tree.getroot().find("device"), tree.getroot().find("gui/apikey")
        if me is None or key is None or not key.text:
            raise RuntimeError("syncthing generate wrote an unexpected config")
        self.device_id = str(me.get("id"))
        self.api_key = key.text

    def configure(self, peer: Instance, *, watch: bool = False) -> None:
        """Write the config (before the first start). `watch`: Syncthing's own file watcher
        notices changes (1 s delay), as on a desktop; else only `scan` does."""
        path = self.home / "config.xml"
        tree = ET.parse(path)
        root = tree.getroot()
        me = root.find("device")
        assert me is not None
        me.set("name", self.name)
        root.find("gui/address").text = f"127.0.0.1:{self.gui_port}"  # type: ignore[union-attr]
        opts = root.find("options")
        assert opts is not None
        for tag, value in _OFF.items():
            el = opts.find(tag)
            if el is None:
                el = ET.SubElement(opts, tag)
            el.text = value
        for el in opts.findall("listenAddress"):
            opts.remove(el)
        ET.SubElement(opts, "listenAddress").text = f"tcp://127.0.0.1:{self.listen_port}"
        other = ET.SubElement(root, "device", id=peer.device_id, name=peer.name, compression="never",
                              introducer="false", skipIntroductionRemovals="false", introducedBy="")
        ET.SubElement(other, "address").text = f"tcp://127.0.0.1:{peer.listen_port}"
        ET.SubElement(other, "paused").text = "false"
        ET.SubElement(other, "autoAcceptFolders").text = "false"
        folder = ET.SubElement(root, "folder", id=FOLDER_ID, label="vault", path=str(self.folder),
                               type="sendreceive", rescanIntervalS="3600",
                               fsWatcherEnabled="true" if watch else "false",
                               fsWatcherDelayS="1", ignorePerms="false", autoNormalize="true")
        for dev in (self.device_id, peer.device_id):
            ET.SubElement(ET.SubElement(folder, "device", id=dev, introducedBy=""), "encryptionPassword")
        ET.SubElement(folder, "filesystemType").text = "basic"
        ET.SubElement(folder, "markerName").text = ".stfolder"
        ET.SubElement(folder, "maxConflicts").text = "10"
        ET.SubElement(folder, "paused").text = "false"
        tree.write(path)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ".stfolder").mkdir(exist_ok=True)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(STNOUPGRADE="1", STNODEFAULTFOLDER="1", STNORESTART="1", HOME=str(self.home),
                   all_proxy="", ALL_PROXY="")
        return env

    def start(self) -> None:
        log = open(self.home / "syncthing.log", "ab")
        self.proc = subprocess.Popen(
            ["syncthing", "serve", f"--home={self.home}", "--no-browser", "--no-restart", "--no-upgrade",
             f"--gui-address=http://127.0.0.1:{self.gui_port}", f"--logfile={self.home / 'st.log'}"],
            stdout=log, stderr=subprocess.STDOUT, env=self._env())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                if self.get("/rest/system/ping").get("ping") == "pong":
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"syncthing exited: {(self.home / 'syncthing.log').read_text()[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError("syncthing did not start in 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    # -- the REST API -------------------------------------------------------------------

    def _call(self, method: str, path: str, body: object = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.gui_port}{path}", method=method, data=data,
                                     headers={"X-API-Key": self.api_key, "Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
        with opener.open(req, timeout=30) as resp:
            answer: bytes = resp.read()
        return json.loads(answer) if answer else {}

    def get(self, path: str) -> dict[str, object]:
        out = self._call("GET", path)
        assert isinstance(out, dict)
        return out

    def post(self, path: str) -> None:
        self._call("POST", path)

    def scan(self) -> None:
        self.post(f"/rest/db/scan?folder={FOLDER_ID}")

    def pause(self) -> None:
        """Pause the shared folder (the connection stays up, so resuming is immediate)."""
        self._call("PATCH", f"/rest/config/folders/{FOLDER_ID}", {"paused": True})

    def resume(self) -> None:
        self._call("PATCH", f"/rest/config/folders/{FOLDER_ID}", {"paused": False})

    def idle(self) -> bool:
        try:
            status = self.get(f"/rest/db/status?folder={FOLDER_ID}")
        except urllib.error.HTTPError:
            return False  # the folder is restarting after a resume
        return status.get("state") == "idle" and status.get("needTotalItems") == 0

    def connections(self) -> dict[str, object]:
        conns = self.get("/rest/system/connections").get("connections")
        assert isinstance(conns, dict)
        return conns


@dataclass
class Pair:
    a: Instance
    b: Instance

    def pause(self) -> None:
        self.a.pause()
        self.b.pause()

    def resume(self) -> None:
        self.a.resume()
        self.b.resume()

    def connected(self) -> bool:
        peer = self.a.connections().get(self.b.device_id)
        return isinstance(peer, dict) and bool(peer.get("connected"))

    def wait_in_sync(self, timeout: float = 120.0) -> float:
        """Rescan both folders and wait until both are idle, need nothing and hold the same
        files; returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout
        while not self.connected():
            if time.monotonic() > deadline:
                raise TimeoutError("the two Syncthing instances did not connect")
            time.sleep(0.1)
        last_scan = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - last_scan > 2.0:
                with contextlib.suppress(urllib.error.HTTPError):  # not ready yet: next round
                    self.a.scan()
                    self.b.scan()
                    last_scan = time.monotonic()
            if self.a.idle() and self.b.idle() and tree_digest(self.a.folder) == tree_digest(self.b.folder):
                return time.monotonic() - start
            time.sleep(0.1)
        raise TimeoutError("the two copies did not converge")


@contextlib.contextmanager
def running_pair(root: Path, folder_a: Path, folder_b: Path, *, watch: bool = False) -> Iterator[Pair]:
    """Two configured, started and connected instances syncing folder_a with folder_b."""
    a = Instance("laptop", root / "st-a", folder_a, _free_port(), _free_port())
    b = Instance("desktop", root / "st-b", folder_b, _free_port(), _free_port())
    try:
        for inst in (a, b):
            inst.generate()
        a.configure(b, watch=watch)
        b.configure(a, watch=watch)
        for inst in (a, b):
            inst.start()
        pair = Pair(a, b)
        yield pair
    finally:
        for inst in (a, b):
            inst.stop()
