"""The desktop app (PySide6): thin views over facevault.services, long work in workers.

This is the only package that may import PySide6. Widgets never import cv2, onnxruntime,
mediapipe or the crypto modules: they call facevault.services and draw what comes back.
The object graph (settings, models, secret store, thread pool) is built in gui/app.py and
passed down; there are no singletons.
"""
