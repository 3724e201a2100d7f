#!/usr/bin/env bash
# Smoke test of a built app folder, as on a machine without the source tree or a venv:
#   packaging/smoke.sh [dist/facevault]
# What it does:
#   1. copies the folder to a fresh temp dir and runs it with a clean environment
#      (env -i, PATH=/usr/bin:/bin, HOME in the temp dir, cwd elsewhere, no VIRTUAL_ENV);
#   2. when it may (root, or unprivileged user namespaces), runs it in a private mount
#      namespace where this checkout, the venv and the Python it was built from are covered
#      by empty tmpfs mounts, so the app cannot read them even by accident;
#   3. checks `facevault --version`, then the bundle report (FACEVAULT_BUNDLE_REPORT=1):
#      frozen, models and manifest from the bundle, no sys.path entry and no mapped file
#      from the checkout, the venv or the build Python;
#   4. a CLI round trip with real photos: init (5 photos of id01), add, get (other photos of
#      id01, output must equal the input), and get with id02's face must be refused (exit 1);
#   5. unless SMOKE_GUI=0: starts the app with no arguments on its own Xvfb display, waits
#      for a top-level "FaceVault" window (xwininfo), checks it has an icon (xprop) and
#      saves a screenshot of the screen.
# Environment: PHOTOS (default ../shared/data/photos beside the checkout, or
# FACEVAULT_TEST_DATA/photos), SMOKE_OUT (default test-artifacts/packaging: logs, report,
# screenshot), PYTHON (the dev venv's python, used only to take the screenshot), SMOKE_GUI.
set -euo pipefail

# ---------------------------------------------------------------- inner part
# Runs inside the clean environment (and namespace); uses only /usr/bin and /bin tools.
if [ "${1:-}" = "--inner" ]; then
  t=$2; shift 2
  hidden=("$@")
  app="$t/app/facevault"
  cd "$t/cwd"
  fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

  for d in "${hidden[@]}"; do
    if [ -e "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ]; then
      echo "smoke: note: $d is visible (no mount namespace); relying on the report checks"
    fi
  done

  version=$("$app" --version) || fail "--version exited $?"
  echo "smoke: --version: $version"
  case "$version" in "facevault "[0-9]*) ;; *) fail "unexpected --version output: $version" ;; esac

  FACEVAULT_BUNDLE_REPORT=1 "$app" > "$t/out/bundle-report.json" || fail "bundle report exited $?"
  report="$t/out/bundle-report.json"
  grep -q '"frozen": true' "$report" || fail "the app does not say it is frozen"
  grep -q "\"models_dir\": \"$t/app/_internal/models\"" "$report" || fail "models_dir is not the bundle's models/"
  grep -q "\"manifest\": \"$t/app/_internal/models/manifest.json\"" "$report" || fail "manifest is not the bundle's"
  for d in "${hidden[@]}"; do
    if grep -F -q "\"$d" "$report"; then
      grep -F "\"$d" "$report" | head -5 >&2
      fail "the app refers to $d (sys.path or a mapped file)"
    fi
  done
  echo "smoke: bundle report ok (frozen; models, manifest, sys.path and mapped files from the bundle or the system only)"

  # models shipped intact (sha256 against the bundled manifest)
  "$app" models verify > "$t/out/models-verify.txt" 2>&1 || { cat "$t/out/models-verify.txt" >&2; fail "models verify"; }

  v="$t/vault"
  printf 'the plans, %s\n' "$(date +%s%N)" > "$t/secret.txt"
  rc=0; "$app" init "$v" --face "$t/enroll_a" --recovery-code-file "$t/code.txt" --kdf-seconds 0.2 \
    > "$t/out/init.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$t/out/init.log" >&2; fail "init exited $rc"; }
  rc=0; "$app" add "$v" "$t/secret.txt" --face "$t/probe_a" > "$t/out/add.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$t/out/add.log" >&2; fail "add exited $rc"; }
  mkdir "$t/got"
  rc=0; "$app" get "$v" secret.txt -o "$t/got" --face "$t/probe_a" > "$t/out/get.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$t/out/get.log" >&2; fail "get exited $rc"; }
  cmp -s "$t/secret.txt" "$t/got/secret.txt" || fail "the file that came out differs from the one put in"
  rc=0; "$app" get "$v" secret.txt -o "$t/got/other.txt" --face "$t/probe_b" > "$t/out/get-other.log" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$t/out/get-other.log" >&2; fail "another person's face: exit $rc, expected 1 (not recognised)"; }
  [ ! -e "$t/got/other.txt" ] || fail "another person's face produced a file"
  echo "smoke: CLI round trip ok (init, add, get with id01; id02 refused with exit 1)"

  if [ -n "${SMOKE_DISPLAY:-}" ]; then
    # the GUI: started here, in the clean environment; the caller watches and screenshots
    DISPLAY=$SMOKE_DISPLAY "$app" > "$t/out/gui.log" 2>&1 &
    echo $! > "$t/gui.pid"
    # stay until the caller is done with the window
    # (or until the caller's folder is gone: a caller that failed must not leave us looping)
    while [ ! -e "$t/gui.done" ] && [ -d "$t" ]; do sleep 0.5; done
    kill "$(cat "$t/gui.pid")" 2>/dev/null || true
    wait || true
  fi
  exit 0
fi

# ---------------------------------------------------------------- outer part
cd "$(dirname "$0")/.."
repo=$PWD
src=$(cd "${1:-dist/facevault}" && pwd)
[ -x "$src/facevault" ] || { echo "smoke: $src/facevault not found; run packaging/build.sh" >&2; exit 1; }
py=${PYTHON:-$repo/.venv/bin/python}
photos=${PHOTOS:-${FACEVAULT_TEST_DATA:-$repo/../shared/data}/photos}
out=${SMOKE_OUT:-$repo/test-artifacts/packaging}
[ -d "$photos/id01" ] && [ -d "$photos/id02" ] || { echo "smoke: photos not found at $photos" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

t=$(mktemp -d /tmp/facevault-smoke.XXXXXX)
xvfb_pid=""; inner_pid=""
cleanup() {
  touch "$t/gui.done" 2>/dev/null || true
  [ -n "$inner_pid" ] && { kill "$inner_pid" 2>/dev/null || true; wait "$inner_pid" 2>/dev/null || true; }
  [ -n "$xvfb_pid" ] && { kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; }
  rm -rf "$t"
}
trap cleanup EXIT

echo "smoke: copying $src to $t/app"
cp -a "$src" "$t/app"
mkdir -p "$t/home" "$t/cwd" "$t/out" "$t/enroll_a" "$t/probe_a" "$t/probe_b"
# id01: the first 5 photos enroll, the rest unlock; id02: a different person
mapfile -t a < <(ls "$photos/id01"/*.jpg | sort)
mapfile -t b < <(ls "$photos/id02"/*.jpg | sort)
cp "${a[@]:0:5}" "$t/enroll_a/"; cp "${a[@]:5}" "$t/probe_a/"; cp "${b[@]:5}" "$t/probe_b/"
cp "$0" "$t/smoke.sh"

# What the app must not touch: this checkout, the venv and the Python it came from.
# A base Python in a system prefix (/usr, /usr/local) is not hidden whole, only its stdlib
# and site-packages; nested folders are dropped (the outer mount already covers them).
hidden=("$repo")
if [ -x "$py" ]; then
  while IFS= read -r d; do hidden+=("$d"); done < <("$py" -c 'import sys, sysconfig
system = {"/", "/usr", "/usr/local"}
for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
    if p.rstrip("/") in system or not p:
        for k in ("stdlib", "platstdlib", "purelib", "platlib"):
            print(sysconfig.get_path(k))
    else:
        print(p)')
fi
mapfile -t hidden < <(printf '%s\n' "${hidden[@]}" | sort -u | awk '
  { for (i = 1; i <= n; i++) if (index($0 "/", kept[i] "/") == 1) next; kept[++n] = $0; print }')
echo "smoke: hiding ${hidden[*]}"

clean_env=(env -i PATH=/usr/bin:/bin HOME="$t/home" LANG=C.UTF-8 TMPDIR=/tmp
           OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1)

# A private mount namespace with the hidden folders covered; plain clean env if not allowed.
ns=()
if unshare --mount --propagation private true 2>/dev/null; then
  ns=(unshare --mount --propagation private)
elif unshare --user --map-root-user --mount --propagation private true 2>/dev/null; then
  ns=(unshare --user --map-root-user --mount --propagation private)
fi
run_inner() {
  if [ ${#ns[@]} -gt 0 ]; then
    local mounts=""
    for d in "${hidden[@]}"; do mounts+="mount -t tmpfs -o size=1m none '$d' && "; done
    "${ns[@]}" /bin/sh -c "${mounts}exec \"\$@\"" sh "${clean_env[@]}" "$@" /bin/bash "$t/smoke.sh" --inner "$t" "${hidden[@]}"
  else
    echo "smoke: note: cannot make a mount namespace here; the checkout stays visible (report checks still apply)"
    "${clean_env[@]}" "$@" /bin/bash "$t/smoke.sh" --inner "$t" "${hidden[@]}"
  fi
}

gui=${SMOKE_GUI:-1}
if [ "$gui" = 1 ]; then
  for tool in Xvfb xwininfo xprop; do
    command -v "$tool" >/dev/null || { echo "smoke: $tool not found (./setup.sh --test installs it; SMOKE_GUI=0 skips the GUI)" >&2; exit 1; }
  done
  # our own X server; -displayfd picks a free display number and tells us which
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3> "$t/display" > "$t/out/xvfb.log" 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 50); do [ -s "$t/display" ] && break; sleep 0.1; done
  [ -s "$t/display" ] || { echo "smoke: Xvfb did not start" >&2; cat "$t/out/xvfb.log" >&2; exit 1; }
  display=":$(tr -d '\n' < "$t/display")"
  run_inner SMOKE_DISPLAY="$display" &
  inner_pid=$!
  # wait for the CLI part to finish and the app window to be mapped
  found=""
  for _ in $(seq 240); do
    if ! kill -0 "$inner_pid" 2>/dev/null; then break; fi
    if [ -e "$t/gui.pid" ]; then
      # a mapped top-level "FaceVault" window of a real size (Qt also makes a 1x1 hidden
      # group-leader window with the same name)
      found=$(DISPLAY=$display xwininfo -root -tree 2>/dev/null \
        | grep -E '"FaceVault[^"]*"' \
        | awk '{ if (match($0, /[0-9]+x[0-9]+\+/)) { split(substr($0, RSTART, RLENGTH - 1), wh, "x");
                 if (wh[1] >= 300 && wh[2] >= 200) { print; exit } } }' || true)
      [ -n "$found" ] && break
    fi
    sleep 0.5
  done
  if [ -z "$found" ]; then
    touch "$t/gui.done"; rc=0; wait "$inner_pid" || rc=$?; inner_pid=""
    cp -a "$t/out/." "$out/"
    [ "$rc" = 0 ] || { echo "smoke: FAIL (exit $rc)" >&2; exit "$rc"; }
    echo "smoke: FAIL: no FaceVault window appeared (log: $out/gui.log)" >&2; exit 1
  fi
  echo "smoke: window: $(echo "$found" | sed 's/^ *//')"
  # the window icon comes from the bundle's resources/icons (facevault.services.session)
  win=$(echo "$found" | awk '{print $1}')
  # the icon property may follow the window's mapping by a moment: look for up to 10 s
  icon=""
  for _ in $(seq 20); do
    if DISPLAY=$display xprop -id "$win" _NET_WM_ICON 2>/dev/null | head -c 200 | grep -q 'Icon ('; then
      icon=1; break
    fi
    sleep 0.5
  done
  [ -n "$icon" ] || { echo "smoke: FAIL: the window has no icon (resources/icons missing from the bundle?)" >&2; exit 1; }
  echo "smoke: window icon set"
  sleep 3  # let it paint (models load in the background; the start page shows at once)
  QT_QPA_PLATFORM=xcb DISPLAY=$display "$py" "$repo/packaging/screenshot.py" "$out/gui-screenshot.png" \
    || { echo "smoke: FAIL: screenshot" >&2; exit 1; }
  alive=1; kill -0 "$(cat "$t/gui.pid")" 2>/dev/null || alive=0
  touch "$t/gui.done"; rc=0; wait "$inner_pid" || rc=$?; inner_pid=""
  cp -a "$t/out/." "$out/"
  [ "$rc" = 0 ] || { echo "smoke: FAIL (exit $rc)" >&2; exit "$rc"; }
  [ "$alive" = 1 ] || { echo "smoke: FAIL: the GUI exited by itself (log: $out/gui.log)" >&2; exit 1; }
  echo "smoke: GUI ok, screenshot $out/gui-screenshot.png"
else
  rc=0; run_inner || rc=$?
  cp -a "$t/out/." "$out/"
  [ "$rc" = 0 ] || { echo "smoke: FAIL (exit $rc)" >&2; exit "$rc"; }
  echo "smoke: GUI not checked (SMOKE_GUI=0)"
fi
echo "smoke: passed"
