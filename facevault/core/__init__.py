"""Pure core: IronMask, crypto primitives, STREAM, KDF, on-disk formats, key slots, vault.

May import: numpy, cryptography, argon2, the standard library and facevault.errors.
Never: Qt, cv2, onnxruntime, mediapipe, keyring.
"""
