"""The one place that knows every filesystem path FaceVault uses.

Environment overrides (for tests, packaging and users who want them):
  FACEVAULT_MANIFEST     the model manifest (default: models/manifest.json in the checkout)
  FACEVAULT_MODELS_DIR   where model files live (default: the bundle's models/ in a frozen
                         build, the source tree's models/ when running from a checkout,
                         else the per-user data dir)
  FACEVAULT_DATA_DIR     per-user data (default: platformdirs user data dir)
  FACEVAULT_CACHE_DIR    the fallback for the runtime dir below (default: platformdirs cache)
  FACEVAULT_CONFIG_DIR   settings, recent vaults (default: platformdirs config dir)
  FACEVAULT_RUNTIME_DIR  files opened from a vault while it is unlocked (default: the
                         per-user runtime dir, $XDG_RUNTIME_DIR/facevault on Linux; the
                         cache dir's runtime/ where the system has none)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["bundle_root", "manifest_path", "models_dir", "data_dir", "cache_dir", "config_dir",
           "resources_dir", "user_models_file", "runtime_dir"]


APP_NAME = "facevault"
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def bundle_root() -> Path | None:
    """The unpacked bundle folder of a PyInstaller build (its models/ ship inside), else None."""
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        return Path(meipass)
    return None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def manifest_path() -> Path:
    """The model manifest: models/manifest.json in the checkout (or the bundle's copy)."""
    env = _env_path("FACEVAULT_MANIFEST")
    if env is not None:
        return env
    bundle = bundle_root()
    if bundle is not None:
        return bundle / "models" / "manifest.json"
    return SOURCE_ROOT / "models" / "manifest.json"


def models_dir() -> Path:
    env = _env_path("FACEVAULT_MODELS_DIR")
    if env is not None:
        return env
    bundle = bundle_root()
    if bundle is not None:
        return bundle / "models"
    checkout = SOURCE_ROOT / "models"
    if (SOURCE_ROOT / "pyproject.toml").exists() and checkout.is_dir():
        return checkout
    return data_dir() / "models"


def data_dir() -> Path:
    env = _env_path("FACEVAULT_DATA_DIR")
    if env is not None:
        return env
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    env = _env_path("FACEVAULT_CACHE_DIR")
    if env is not None:
        return env
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def config_dir() -> Path:
    env = _env_path("FACEVAULT_CONFIG_DIR")
    if env is not None:
        return env
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def runtime_dir() -> Path:
    """Where the desktop app keeps files opened from an unlocked vault (a per-user folder
    the system empties at log-out or reboot where it has one)."""
    env = _env_path("FACEVAULT_RUNTIME_DIR")
    if env is not None:
        return env
    if sys.platform.startswith("linux"):
        # only a real per-user runtime dir: without one, platformdirs would fall back to a
        # folder in the shared /tmp (and warn); the cache dir is ours
        xdg = os.environ.get("XDG_RUNTIME_DIR", "")
        if xdg and Path(xdg).is_dir() and os.access(xdg, os.W_OK):
            return Path(xdg) / APP_NAME
        return cache_dir() / "runtime"
    import platformdirs

    runtime = Path(platformdirs.user_runtime_dir(APP_NAME))
    if runtime.parent.is_dir() and os.access(runtime.parent, os.W_OK):
        return runtime
    return cache_dir() / "runtime"


def resources_dir() -> Path:
    """The shipped resources (icons, the measured attack figures): the bundle's copy in a
    frozen build, else the checkout's."""
    bundle = bundle_root()
    if bundle is not None and (bundle / "resources").is_dir():
        return bundle / "resources"
    return SOURCE_ROOT / "resources"


def user_models_file() -> Path:
    """Models a user registered (e.g. their own ArcFace ONNX), beside the shipped manifest."""
    return config_dir() / "user_models.json"
