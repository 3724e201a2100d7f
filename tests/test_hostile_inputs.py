"""The hostile-input battery: a vault folder, a file or an argument made to break FaceVault.

Each case copies a fresh vault (or file) into its own folder, damages it one way, and runs
the real CLI in a subprocess with a deadline. Every case must end with its documented exit
code (README's table) and a one-line message (`facevault: ...`, plus at most a `hint:`),
within 10 s, with no traceback, nothing new that other users can read, and no decrypted
byte anywhere but the output a successful command was asked to write.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from facevault.core.kdf import TEST_PARAMS, KdfParams

MARKER = b"HOSTILE-BATTERY-PLAINTEXT-7f3a"
DEADLINE = 10.0
GIB = 1 << 30


@dataclass
class World:
    root: Path
    vault: Path  # a pristine vault: two files, a snapshot and a journal
    code: Path  # its recovery code, in an owner-only file
    sealed: Path  # a single encrypted file (face identity), plaintext MARKER
    sealed_code: Path
    identity: Path
    old_journal: Path  # the vault's journal before c.txt was added (for the rollback case)
    passvault: Path  # a face+passphrase vault
    passfile: Path
    v1vault: Path  # a version-1 vault (face and recovery slots), its code in v1code
    v1code: Path


@dataclass
class Case:
    name: str
    expect: int
    args: Callable[[Path, World], list[str]]
    setup: Callable[[Path, World], None] = lambda d, w: None
    prime: bool = False  # open the copy once first (this computer pins it), then damage it
    wants: str = ""  # a word the message must contain
    output: str | None = None  # the file a successful run writes (may hold plaintext)
    stdin: bytes | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _face(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(512)
    return v / np.linalg.norm(v)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from facevault.services import files
    from tests.helpers.vaults import create

    root = tmp_path_factory.mktemp("hostile")
    os.environ.setdefault("FACEVAULT_DATA_DIR", str(root / "fixture-data"))
    created = create(root / "vault", _face(1))
    vault = created.vault
    vault.add_bytes("a.txt", MARKER + b" a" * 3000)
    vault.add_bytes("b.txt", MARKER + b" b")
    vault.compact()
    old_journal = root / "old-journal.fvj"
    shutil.copy2(next((root / "vault" / "journal").iterdir()), old_journal)
    vault.add_bytes("c.txt", MARKER + b" c")  # one record after the snapshot
    vault.close()
    code = root / "code.txt"
    code.write_text(created.recovery_code + "\n")
    os.chmod(code, 0o600)

    ident, ident_code = files.new_identity(_face(2))
    identity = root / "me.fvid"
    files.write_identity(identity, ident)
    plain = root / "plain.txt"
    plain.write_bytes(MARKER + b" single file")
    sealed = root / "sealed.fvf"
    for _ in files.encrypt_to(plain, sealed, ident):
        pass
    plain.unlink()
    sealed_code = root / "sealed-code.txt"
    sealed_code.write_text(ident_code + "\n")

    passfile = root / "pass.txt"
    passfile.write_text("correct horse\n")
    create(root / "passvault", _face(3), mode="face+passphrase", passphrase="correct horse").vault.close()

    from facevault.core import facekey
    from facevault.core.factors import Factors, RecoveryFactor
    from facevault.core.kinds import Kind
    from facevault.core.recovery import new_recovery_code
    from facevault.core.v1.sealing import SlotPlan as V1Plan
    from facevault.core.v1.vault import create_vault as create_v1

    v1code_text = new_recovery_code()
    v1 = create_v1(root / "v1vault", [V1Plan(Kind.FACE, Factors(facekey.enroll(_face(4))), TEST_PARAMS),
                                      V1Plan(Kind.RECOVERY, Factors(RecoveryFactor(v1code_text)), TEST_PARAMS)])
    v1.add_bytes("old.txt", MARKER + b" v1")
    v1.close()
    v1code = root / "v1code.txt"
    v1code.write_text(v1code_text + "\n")
    return World(root, root / "vault", code, sealed, sealed_code, identity, old_journal,
                 root / "passvault", passfile, root / "v1vault", v1code)


# --- damage ---------------------------------------------------------------------------

def _one(folder: Path, sub: str, suffix: str) -> Path:
    return sorted((folder / sub).glob(f"*{suffix}"))[0]


def _header(d: Path) -> Path:
    return _one(d / "vault", "headers", ".fvh")


def _journal(d: Path) -> Path:
    return _one(d / "vault", "journal", ".fvj")


def _snapshot(d: Path) -> Path:
    return _one(d / "vault", "snapshots", ".fvs")


def _object(d: Path) -> Path:  # the largest object: a.txt
    return max((d / "vault" / "objects").glob("*.fvo"), key=lambda p: p.stat().st_size)


def _link(target: str) -> Callable[[Path], None]:
    def do(path: Path) -> None:
        path.unlink()
        path.symlink_to(target)
    return do


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path, 0o600)


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _truncate(fraction: float) -> Callable[[Path], None]:
    def do(path: Path) -> None:
        with open(path, "r+b") as f:
            f.truncate(int(path.stat().st_size * fraction))
    return do


def _flip(offset: int) -> Callable[[Path], None]:
    def do(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[offset % len(data)] ^= 0x40
        path.write_bytes(bytes(data))
    return do


def _random_same_size(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _sparse(size: int) -> Callable[[Path], None]:
    def do(path: Path) -> None:
        with open(path, "r+b") as f:
            f.truncate(size)
    return do


def _kdf_bomb(path: Path) -> None:
    """A slot asking Argon2id for t=64 at 4 GiB: hours of work if run."""
    data = path.read_bytes()
    assert data.count(TEST_PARAMS.to_bytes()) == 1
    path.write_bytes(data.replace(TEST_PARAMS.to_bytes(), KdfParams(64, 4 * 1024 * 1024, 1).to_bytes()))


def _kdf_bomb_v1(path: Path) -> None:
    """Every version-1 slot asking Argon2id for t=64 at 4 GiB."""
    data = path.read_bytes()
    assert data.count(TEST_PARAMS.to_bytes()) == 2
    path.write_bytes(data.replace(TEST_PARAMS.to_bytes(), KdfParams(64, 4 * 1024 * 1024, 1).to_bytes()))


def _v1copy(d: Path, w: World) -> None:
    shutil.copytree(w.v1vault, d / "v1", symlinks=True)


def _v1ls(d: Path, w: World, keep: bool = False) -> list[str]:
    return ["ls", str(d / "v1"), "--recovery-code-from", str(w.v1code)] + (["--keep-v1"] if keep else [])


def on(pick: Callable[[Path], Path], *damage: Callable[[Path], None]) -> Callable[[Path, World], None]:
    def setup(d: Path, w: World) -> None:
        target = pick(d)
        for step in damage:
            step(target)
    return setup


def _v(d: Path) -> str:
    return str(d / "vault")


def ls(d: Path, w: World) -> list[str]:
    return ["ls", _v(d), "--recovery-code-from", str(w.code)]


def get(name: str = "a.txt") -> Callable[[Path, World], list[str]]:
    return lambda d, w: ["get", _v(d), name, "-o", str(d / "out" / "got.txt"), "--recovery-code-from", str(w.code)]


def _mkout(d: Path, w: World) -> None:
    (d / "out").mkdir(mode=0o700)


def both(*steps: Callable[[Path, World], None]) -> Callable[[Path, World], None]:
    def setup(d: Path, w: World) -> None:
        for s in steps:
            s(d, w)
    return setup


def _write(rel: str, data: bytes) -> Callable[[Path, World], None]:
    def setup(d: Path, w: World) -> None:
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    return setup


def _swap_foreign(d: Path, w: World) -> None:
    from tests.helpers.vaults import create

    shutil.rmtree(d / "vault")
    other = create(d / "vault", _face(9))
    other.vault.close()
    (d / "code.txt").write_text(other.recovery_code + "\n")


def _rollback(d: Path, w: World) -> None:
    """An older, authentic journal put back: c.txt would vanish."""
    shutil.copy2(w.old_journal, next((d / "vault" / "journal").iterdir()))


CASES: list[Case] = [
    # the header
    Case("header-symlink-dev-zero", 3, ls, on(_header, _link("/dev/zero")), wants="symbolic link"),
    Case("header-symlink-dev-urandom", 3, ls, on(_header, _link("/dev/urandom"))),
    Case("header-symlink-elsewhere", 3, ls, on(_header, _link("/etc/passwd"))),
    Case("header-fifo", 3, ls, on(_header, _fifo), wants="regular"),
    Case("header-is-a-folder", 3, ls, on(_header, _folder)),
    Case("header-truncated-half", 3, ls, on(_header, _truncate(0.5))),
    Case("header-truncated-to-one-byte", 3, ls, on(_header, _truncate(1e-6))),
    Case("header-empty", 3, ls, on(_header, _truncate(0))),
    Case("header-sparse-8-gib", 3, ls, on(_header, _sparse(8 * GIB)), wants="too large"),
    Case("header-bit-flip-start", 3, ls, on(_header, _flip(9))),
    Case("header-bit-flip-end", 3, ls, on(_header, _flip(-3))),
    Case("header-random-bytes", 3, ls, on(_header, _random_same_size)),
    Case("headers-folder-missing", 3, ls, lambda d, w: shutil.rmtree(d / "vault" / "headers")),
    Case("headers-folder-is-a-file", 3, ls,
         lambda d, w: (shutil.rmtree(d / "vault" / "headers"), (d / "vault" / "headers").write_bytes(b"x"))),
    Case("kdf-bomb-in-a-slot", 3,
         lambda d, w: ["ls", str(d / "passvault"), "--face", str(_PHOTOS), "--passphrase-file", str(w.passfile)],
         lambda d, w: (shutil.copytree(w.passvault, d / "passvault"),
                       _kdf_bomb(_one(d / "passvault", "headers", ".fvh"))), wants="refused"),
    # the journal and the snapshot
    Case("journal-symlink-dev-zero", 3, ls, on(_journal, _link("/dev/zero"))),
    Case("journal-fifo", 3, ls, on(_journal, _fifo)),
    Case("journal-sparse-8-gib", 3, ls, on(_journal, _sparse(8 * GIB)), wants="too large"),
    Case("journal-bit-flip", 3, ls, on(_journal, _flip(-40))),
    Case("journal-random-bytes", 3, ls, on(_journal, _random_same_size)),
    Case("journal-torn-tail-is-a-crash-not-an-attack", 0, ls, on(_journal, _truncate(0.97))),
    Case("snapshot-symlink-dev-zero", 3, ls, on(_snapshot, _link("/dev/zero"))),
    Case("snapshot-garbage", 3, ls, on(_snapshot, _random_same_size)),
    Case("snapshot-sparse-8-gib", 3, ls, on(_snapshot, _sparse(8 * GIB))),
    # the objects
    Case("object-missing", 3, get(), both(_mkout, on(_object, lambda p: p.unlink())), wants="missing"),
    Case("object-truncated", 3, get(), both(_mkout, on(_object, _truncate(0.5)))),
    Case("object-bit-flip-last-chunk", 3, get(), both(_mkout, on(_object, _flip(-20))), wants="modified"),
    Case("object-symlink-dev-zero", 3, get(), both(_mkout, on(_object, _link("/dev/zero")))),
    Case("object-fifo", 3, get(), both(_mkout, on(_object, _fifo))),
    Case("object-sparse-8-gib", 3, get(), both(_mkout, on(_object, _sparse(8 * GIB)))),
    Case("objects-folder-symlink-to-etc", 3, get(),
         both(_mkout, lambda d, w: (shutil.rmtree(d / "vault" / "objects"), (d / "vault" / "objects").symlink_to("/etc")))),
    # junk beside the vault's files
    Case("stray-huge-file-in-the-vault", 0, ls, _write("vault/huge.bin", b"")),
    Case("stray-symlink-loop-in-objects", 0, ls,
         lambda d, w: (d / "vault" / "objects" / "loop.fvo").symlink_to(d / "vault" / "objects" / "loop.fvo")),
    Case("garbage-conflict-copy-of-a-header", 3, ls,
         lambda d, w: (d / "vault" / "headers" / (_header(d).stem + ".sync-conflict-20261201-101010-ABCDEFG.fvh")).write_bytes(os.urandom(4096))),
    # the folder itself
    Case("vault-path-missing", 2, lambda d, w: ["ls", str(d / "nowhere"), "--recovery-code-from", str(w.code)]),
    Case("vault-path-is-a-file", 3, ls, lambda d, w: (shutil.rmtree(d / "vault"), (d / "vault").write_bytes(b"x"))),
    Case("vault-path-is-dev-null", 3, lambda d, w: ["ls", "/dev/null", "--recovery-code-from", str(w.code)]),
    Case("vault-folder-empty", 3, ls, lambda d, w: (shutil.rmtree(d / "vault"), (d / "vault").mkdir())),
    Case("vault-swapped-for-another", 3, lambda d, w: ["ls", _v(d), "--recovery-code-from", str(d / "code.txt")],
         _swap_foreign, prime=True, wants="another vault"),
    Case("vault-rolled-back", 3, ls, _rollback, prime=True, wants="rolled back"),
    # codes and secrets
    Case("recovery-code-wrong", 1, lambda d, w: ["ls", _v(d), "--recovery-code-from", str(d / "bad.txt")],
         _write("bad.txt", b"ABCDE-FGHJK-MNPQR-STVWX-YZ012-34567\n")),
    Case("recovery-code-garbage", 1, lambda d, w: ["ls", _v(d), "--recovery-code-from", str(d / "bad.txt")],
         _write("bad.txt", "\u202e\x00\x01 drop table;".encode())),
    Case("recovery-code-file-is-a-fifo", 2, lambda d, w: ["ls", _v(d), "--recovery-code-from", str(d / "fifo")],
         lambda d, w: os.mkfifo(d / "fifo", 0o600), wants="regular"),
    Case("recovery-code-file-is-dev-zero", 2, lambda d, w: ["ls", _v(d), "--recovery-code-from", "/dev/zero"]),
    Case("recovery-code-file-huge", 2, lambda d, w: ["ls", _v(d), "--recovery-code-from", str(d / "big.txt")],
         _write("big.txt", b"A" * (1 << 20)), wants="too large"),
    Case("recovery-code-file-missing", 2, lambda d, w: ["ls", _v(d), "--recovery-code-from", str(d / "none")]),
    Case("recovery-code-from-stdin", 0, lambda d, w: ["ls", _v(d), "--recovery-code-from", "-"],
         stdin=b""),  # stdin filled in by the runner from w.code
    Case("recovery-code-not-utf8", 2, lambda d, w: ["ls", _v(d), "--recovery-code-from", str(d / "bin")],
         _write("bin", b"\xff\xfe\xfa")),
    Case("ask-without-a-terminal", 2, lambda d, w: ["ls", _v(d), "--ask-recovery-code"]),
    Case("passphrase-file-is-a-folder", 2,
         lambda d, w: ["ls", str(w.passvault), "--face", str(_PHOTOS), "--passphrase-file", str(d)]),
    # outputs
    Case("get-output-exists", 2, get(), both(_mkout, _write("out/got.txt", b"keep me")), wants="exists"),
    Case("get-output-folder-missing", 2, get()),
    Case("get-output-is-a-dangling-symlink", 2, get(),
         both(_mkout, lambda d, w: (d / "out" / "got.txt").symlink_to(d / "elsewhere.txt")), wants="exists"),
    Case("get-overwrite-replaces-a-symlink-never-follows-it", 0,
         lambda d, w: get()(d, w) + ["--overwrite"],
         both(_mkout, _write("victim.txt", b"untouched"),
              lambda d, w: (d / "out" / "got.txt").symlink_to(d / "victim.txt")), output="out/got.txt"),
    Case("get-name-not-in-vault", 2, get("nope.txt"), _mkout),
    Case("get-name-dot-dot", 2, get("../a.txt"), _mkout),
    # inputs to add
    Case("add-a-fifo", 2, lambda d, w: ["add", _v(d), str(d / "fifo"), "--recovery-code-from", str(w.code)],
         lambda d, w: os.mkfifo(d / "fifo", 0o600)),
    Case("add-dev-zero", 2, lambda d, w: ["add", _v(d), "/dev/zero", "--recovery-code-from", str(w.code)]),
    Case("add-a-folder", 2, lambda d, w: ["add", _v(d), str(d), "--recovery-code-from", str(w.code)]),
    Case("add-a-missing-file", 2, lambda d, w: ["add", _v(d), str(d / "none"), "--recovery-code-from", str(w.code)]),
    # single encrypted files
    Case("decrypt-truncated", 3, lambda d, w: ["decrypt", str(d / "s.fvf"), "-o", str(d / "out.txt"),
                                               "--recovery-code-from", str(w.sealed_code)],
         lambda d, w: (shutil.copy(w.sealed, d / "s.fvf"), _truncate(0.9)(d / "s.fvf"))),
    Case("decrypt-bit-flip", 3, lambda d, w: ["decrypt", str(d / "s.fvf"), "-o", str(d / "out.txt"),
                                              "--recovery-code-from", str(w.sealed_code)],
         lambda d, w: (shutil.copy(w.sealed, d / "s.fvf"), _flip(-5)(d / "s.fvf"))),
    Case("decrypt-random-bytes", 3, lambda d, w: ["decrypt", str(d / "s.fvf"), "-o", str(d / "out.txt"),
                                                  "--recovery-code-from", str(w.sealed_code)],
         _write("s.fvf", os.urandom(5000))),
    Case("decrypt-empty-file", 3, lambda d, w: ["decrypt", str(d / "s.fvf"), "-o", str(d / "out.txt"),
                                                "--recovery-code-from", str(w.sealed_code)], _write("s.fvf", b"")),
    Case("decrypt-dev-zero", 2, lambda d, w: ["decrypt", "/dev/zero", "-o", str(d / "out.txt"),
                                              "--recovery-code-from", str(w.sealed_code)]),
    Case("decrypt-sparse-8-gib", 3, lambda d, w: ["decrypt", str(d / "s.fvf"), "-o", str(d / "out.txt"),
                                                  "--recovery-code-from", str(w.sealed_code)],
         lambda d, w: (shutil.copy(w.sealed, d / "s.fvf"), _sparse(8 * GIB)(d / "s.fvf"))),
    Case("encrypt-to-a-garbage-identity", 3,
         lambda d, w: ["encrypt", str(w.code), "--to", str(d / "id.fvid"), "-o", str(d / "x.fvf")],
         _write("id.fvid", os.urandom(300))),
    Case("encrypt-to-dev-zero-identity", 3,
         lambda d, w: ["encrypt", str(w.code), "--to", "/dev/zero", "-o", str(d / "x.fvf")]),
    # version-1 vaults (upgraded in place when opened; --keep-v1 reads them as they are)
    Case("v1-header-symlink-dev-zero", 3, lambda d, w: _v1ls(d, w, keep=True),
         lambda d, w: (_v1copy(d, w), _link("/dev/zero")(d / "v1" / "vault.fvh")), wants="symbolic link"),
    Case("v1-header-truncated", 3, lambda d, w: _v1ls(d, w),
         lambda d, w: (_v1copy(d, w), _truncate(0.3)(d / "v1" / "vault.fvh"))),
    Case("v1-index-sparse-8-gib", 3, lambda d, w: _v1ls(d, w, keep=True),
         lambda d, w: (_v1copy(d, w), _sparse(8 * GIB)(d / "v1" / "index.fve")), wants="too large"),
    Case("v1-index-garbage", 3, lambda d, w: _v1ls(d, w, keep=True),
         lambda d, w: (_v1copy(d, w), _random_same_size(d / "v1" / "index.fve"))),
    Case("v1-kdf-bomb-in-the-recovery-slot", 3, lambda d, w: _v1ls(d, w),
         lambda d, w: (_v1copy(d, w), _kdf_bomb_v1(d / "v1" / "vault.fvh")), wants="refused"),
    Case("v1-upgrade-of-a-healthy-copy", 0, lambda d, w: _v1ls(d, w), _v1copy),
    # creating
    Case("init-over-an-existing-vault", 2, lambda d, w: ["init", _v(d), "--face", str(_PHOTOS)], wants="empty"),
    Case("init-on-a-file", 2, lambda d, w: ["init", str(w.code), "--face", str(_PHOTOS)]),
]

PHOTOS_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
_PHOTOS = PHOTOS_ROOT / "id01"


def _run(case: Case, d: Path, w: World, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[bytes], float]:
    stdin = w.code.read_bytes() if case.stdin is not None else None
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "facevault", *case.args(d, w)], input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, env=env, timeout=60)
    return proc, time.monotonic() - start


def _walk(root: Path) -> dict[Path, os.stat_result]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            found[p] = p.lstat()
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, world: World, tmp_path: Path) -> None:
    if not _PHOTOS.is_dir() and "--face" in " ".join(case.args(tmp_path, world)):
        pytest.skip("needs ../shared/data/photos")
    d = tmp_path / "case"
    d.mkdir(mode=0o700)
    shutil.copytree(world.vault, d / "vault", symlinks=True)
    env = dict(os.environ, FACEVAULT_DATA_DIR=str(tmp_path / "data"),
               FACEVAULT_RUNTIME_DIR=str(tmp_path / "runtime"), **case.extra)
    if case.prime:
        primed = subprocess.run([sys.executable, "-m", "facevault", *ls(d, world)], capture_output=True,
                                env=env, timeout=60, stdin=subprocess.DEVNULL)
        assert primed.returncode == 0, primed.stderr
    case.setup(d, world)
    before = _walk(d)
    proc, seconds = _run(case, d, world, env)
    err = proc.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in proc.stderr and b"Traceback" not in proc.stdout, err
    assert "internal error" not in err, err
    assert proc.returncode == case.expect, f"exit {proc.returncode}, wanted {case.expect}: {err}"
    assert seconds < DEADLINE, f"took {seconds:.1f} s"
    if case.expect != 0:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines and lines[0].startswith("facevault: "), err
        assert all(ln.startswith("hint: ") for ln in lines[1:]), err
        assert len(lines) <= 2, err
        assert case.wants.lower() in lines[0].lower(), err
    after = _walk(d)
    for path, st in after.items():
        changed = path not in before or before[path].st_mtime_ns != st.st_mtime_ns
        if changed and not stat.S_ISLNK(st.st_mode) and not stat.S_ISFIFO(st.st_mode):
            assert stat.S_IMODE(st.st_mode) & 0o077 == 0, f"{path} is {oct(stat.S_IMODE(st.st_mode))}"
        if stat.S_ISREG(st.st_mode) and path.parent.name != "objects" and st.st_size < (1 << 26):
            if case.output is not None and path == d / case.output:
                continue
            assert MARKER not in path.read_bytes(), f"plaintext left in {path}"
    if case.name == "get-overwrite-replaces-a-symlink-never-follows-it":
        assert (d / "victim.txt").read_bytes() == b"untouched"
        assert not (d / "out" / "got.txt").is_symlink()
        assert MARKER in (d / "out" / "got.txt").read_bytes()


def test_the_battery_has_forty_kinds() -> None:
    assert len({c.name for c in CASES}) >= 40
