"""Vision: frame sources, MediaPipe landmarker, ArcFace alignment, embedder, quality gates,
pipeline. May import cv2, mediapipe, onnxruntime, numpy, facevault.core, facevault.errors,
facevault.paths, facevault.modelstore. Never Qt. Heavy libraries are imported lazily.
"""
