# PyInstaller hook for mediapipe (pyinstaller-hooks-contrib has none for the 1.x wheels).
#
# mediapipe's Python layer is ctypes over one native library that it opens by path:
# importlib.resources.files("mediapipe.tasks.c") / "libmediapipe.so" (.dylib, .dll). The
# analysis never sees a ctypes load by path, so the library is collected here, at the same
# package-relative place. Data files (label maps, flatbuffer schemas) are not needed by the
# face landmarker task and are left out to keep the bundle smaller.
from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("mediapipe")
# `resources.files("mediapipe.tasks.c")` needs the package itself in the bundle
hiddenimports = ["mediapipe.tasks.c"]
