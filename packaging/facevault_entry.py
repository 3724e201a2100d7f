"""PyInstaller entry point: the same `main()` as the `facevault` console script.

No arguments starts the desktop app; anything else is the CLI.

FACEVAULT_BUNDLE_REPORT=1 makes the built app print, as JSON, where it finds its code and
models and which files it has mapped after importing its native libraries, then exit.
packaging/smoke.sh uses it to prove the app runs from the bundle alone (no source tree,
no virtual environment). It only reads and prints; it exists in the built app only.
"""

import multiprocessing
import os
import sys


def _bundle_report() -> int:
    import json

    from facevault import __version__, paths

    # load every native library the app uses, as an unlock would
    import cv2  # noqa: F401
    import onnxruntime  # noqa: F401
    from mediapipe.tasks.python.core import mediapipe_c_bindings
    from PySide6 import QtCore, QtGui, QtWidgets  # noqa: F401

    mediapipe_c_bindings.load_raw_library()
    mapped: set[str] = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    mapped.add(parts[5].strip())
    except OSError:  # not Linux
        pass
    report = {
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "bundle_root": str(paths.bundle_root()),
        "executable": sys.executable,
        "sys_path": sys.path,
        "models_dir": str(paths.models_dir()),
        "manifest": str(paths.manifest_path()),
        "mapped_files": sorted(mapped),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    # `facevault bench vault` measures peak RSS in a spawned child: a frozen app must let
    # multiprocessing take over when it is started as that child.
    multiprocessing.freeze_support()
    if os.environ.get("FACEVAULT_BUNDLE_REPORT") == "1":
        sys.exit(_bundle_report())
    from facevault.launcher import main

    sys.exit(main())
