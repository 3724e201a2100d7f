"""No secret and no face in a repr: a printed object, a log line or a traceback's locals must
not carry a recovery code, a passphrase, a codeword, a key or an embedding.

Two checks: every dataclass in the package whose field looks like a secret or holds face
data (by name or type) hides it (field(repr=False), or a hand-written __repr__); and the
objects people's secrets actually pass through, built with marker values, print none of them.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re

import numpy as np
import pytest

import facevault

SENSITIVE_NAME = re.compile(
    r"(^|_)(key|keys|secret|secrets|code|passphrase|codeword|template|templates|embedding|"
    r"embeddings|probe|probes|seed|pin|password|ikm|private|helper|landmarks|rgb|image|frame|"
    r"parts|store)($|_)")
SENSITIVE_TYPE = re.compile(r"ndarray|Factor|EnrolledFace|SecretLookup|SecretStore")
HARMLESS_TYPE = re.compile(r"^(int|float|bool|int \| None|float \| None|bool \| None)$")

# Fields that match the patterns but are public or plain words, each with the reason.
PUBLIC = {
    "facevault.core.slots.Slot.public_key": "an X25519 public key: public by design",
    "facevault.vision.pipeline.FaceObservation.code": "a rejection reason code ('no_face')",
    "facevault.vision.pipeline.FaceObservation.gate_code": "the gate's reason code",
    "facevault.vision.quality.Verdict.code": "a quality reason code",
    "facevault.services.capture.CaptureParts.pipelines": "a factory of pipelines, no data",
    "facevault.gui.context.AppContext.settings_store": "where settings live, no secret",
    "facevault.gui.context.AppContext.secret_store": "a factory; the keyring holds the secret",
    "facevault.bench.accuracy.AccuracyReport.probe_mode": "the name of a probe mode",
    "facevault.bench.speed.SpeedReport.frame_size": "a width and a height",
    "facevault.vision.cloak.Surrogate.template": "the fixed five-point crop template of a model, no face",
}


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(facevault.__path__, "facevault."):
        if info.name.endswith("__main__") or info.name == "facevault.launcher":
            continue
        names.append(info.name)
    return names


def _generated_repr(cls: type) -> bool:
    """Whether cls.__repr__ is the one @dataclass wrote (it is wrapped by recursive_repr)."""
    return hasattr(cls.__repr__, "__wrapped__") and cls.__repr__.__qualname__.startswith(cls.__qualname__)


def _sensitive(f: dataclasses.Field[object]) -> bool:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if HARMLESS_TYPE.match(str(kind)):
        return False
    return bool(SENSITIVE_NAME.search(f.name) or SENSITIVE_TYPE.search(str(kind)))


def test_every_dataclass_hides_its_secrets_and_faces() -> None:
    pytest.importorskip("PySide6")
    checked, leaks = 0, []
    for name in _modules():
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if not (isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == name):
                continue
            checked += 1
            custom = not _generated_repr(obj) and obj.__repr__ is not object.__repr__
            for f in dataclasses.fields(obj):
                where = f"{name}.{obj.__qualname__}.{f.name}"
                if where in PUBLIC or not f.repr or custom or not _sensitive(f):
                    continue
                leaks.append(f"{where}: {f.type}")
    assert checked > 50  # the walk found the package's dataclasses
    assert leaks == []


def test_the_objects_secrets_pass_through_print_none_of_them() -> None:
    from facevault.core import facekey
    from facevault.core.factors import DeviceSecret, FaceFactor, Factors, PassphraseFactor, RecoveryFactor
    from facevault.core.kinds import Guess
    from facevault.services.enroll import Created

    code, passphrase = "RECOVERYMARKER7", "passphrase-marker"
    embedding = np.full(512, 0.0441941738, dtype=np.float32)  # 1/sqrt(512)
    enrolled = facekey.enroll(embedding / np.linalg.norm(embedding))
    device = b"D" * 32
    offer = Factors(FaceFactor((embedding,)), RecoveryFactor(code), PassphraseFactor(passphrase),
                    DeviceSecret("entry", device))
    texts = [repr(offer), str(offer), repr(enrolled), repr(Guess(enrolled.codeword, enrolled)),
             repr(Created(vault=None, recovery_code=code))]  # type: ignore[arg-type]
    for text in texts:
        assert code not in text and passphrase not in text
        assert "0.0441" not in text and "0.04419" not in text  # no embedding value
        assert enrolled.codeword.hex()[:16] not in text and repr(enrolled.codeword)[:20] not in text
        assert enrolled.helper.hex()[:16] not in text and device.hex()[:16] not in text
        assert "DDDD" not in text
