#!/usr/bin/env bash
# Build FaceVault as a one-folder desktop app with PyInstaller: dist/facevault/
#   packaging/build.sh            build (needs ./setup.sh first: the venv and the models)
#   packaging/build.sh --smoke    build, then run packaging/smoke.sh on the result
# Environment: PYTHON (default .venv/bin/python), DIST (default dist), WORK (default build).
# The result runs without the source tree or a virtual environment; packaging/install.sh
# puts it under ~/.local. See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-.venv/bin/python}
dist=${DIST:-dist}
work=${WORK:-build}
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1

[ -x "$py" ] || { echo "build: $py not found; run ./setup.sh first" >&2; exit 1; }

# PyInstaller is a build tool, not an app dependency: it lives in the `packaging` extra and
# is installed on first use so `./setup.sh` stays lean for people who never build.
if ! "$py" -c 'import PyInstaller' >/dev/null 2>&1; then
  echo "build: installing the packaging extra (PyInstaller)"
  "$py" -m pip install --quiet -e '.[packaging]'
fi

# The models ship inside the app: refuse to build without them, checked against the
# manifest's sha256 (an app with a missing or corrupt model would fail at first unlock).
"$py" -m facevault models verify >/dev/null 2>&1 || "$py" -m facevault models install

# PyInstaller must import facevault from this checkout, never a stale copy elsewhere.
export PYTHONNOUSERSITE=1

start=$(date +%s)
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" packaging/facevault.spec
end=$(date +%s)

app="$dist/facevault"
[ -x "$app/facevault" ] || { echo "build: $app/facevault was not produced" >&2; exit 1; }
# The built folder is what gets handed out: it carries its own install/uninstall scripts.
cp packaging/install.sh packaging/uninstall.sh "$app/"
echo "build: $(cd "$app" && pwd) in $((end - start)) s, $(du -sh "$app" | cut -f1)"

if [ "$smoke" = 1 ]; then
  packaging/smoke.sh "$app"
fi
