"""The plain MediaPipe + OpenCV + onnxruntime script that `facevault bench speed` compares
FaceVault's pipeline against: the same models and steps with no FaceVault code in the loop
(no gates, no dataclasses, no checks). Not used by the app.

May import: stdlib, numpy, cv2, mediapipe, onnxruntime (lazily), facevault.vision.native_log.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

__all__ = ["plain_reference"]

log = logging.getLogger(__name__)


def plain_reference(
    frames: list[np.ndarray], landmarker_path: Path, embedder_path: Path, *, video: bool,
    mean: float = 127.0, std: float = 128.0, input_name: str = "input",
    output_name: str = "output", threads: int = 2,
) -> tuple[list[float], int]:
    """What a plain script does: MediaPipe + cv2 + onnxruntime, no FaceVault code.

    Returns per-frame times (ms, landmarks to unit embedding) and how many had a face.
    """
    import cv2
    import mediapipe as mp
    import onnxruntime as ort
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision import face_landmarker as fl
    from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
        VisionTaskRunningMode as Mode,
    )

    template = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                         [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as the embedder does
    sess = ort.InferenceSession(str(embedder_path), opts, providers=["CPUExecutionProvider"])
    options = fl.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(landmarker_path)),
        running_mode=Mode.VIDEO if video else Mode.IMAGE, num_faces=1,
    )
    times, ok = [], 0
    from facevault.vision.native_log import native_stderr_to_log

    with native_stderr_to_log(log):
        lm_task = fl.FaceLandmarker.create_from_options(options)
    with lm_task as lm:
        for i, rgb in enumerate(frames):
            t0 = time.perf_counter()
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            res = lm.detect_for_video(image, i * 33 + 1) if video else lm.detect(image)
            if res.face_landmarks:
                h, w = rgb.shape[:2]
                p = np.array([(q.x * w, q.y * h) for q in res.face_landmarks[0]], np.float32)
                five = np.stack([(p[33] + p[133]) / 2, (p[362] + p[263]) / 2, p[1], p[61], p[291]])
                m, _ = cv2.estimateAffinePartial2D(five, template, method=cv2.LMEDS)
                crop = cv2.warpAffine(rgb, m, (112, 112))
                x = ((crop.astype(np.float32) - mean) / std).transpose(2, 0, 1)[None]
                e = sess.run([output_name], {input_name: x})[0][0]
                e = e / np.linalg.norm(e)
                ok += 1
            times.append((time.perf_counter() - t0) * 1e3)
    return times, ok
