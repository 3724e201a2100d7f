#!/usr/bin/env bash
# Install a built FaceVault app for this user only (no root, nothing outside $HOME):
#   packaging/install.sh [APP_DIR]
# APP_DIR is the folder packaging/build.sh made (default: the folder this script sits in
# when it was copied there by the build, else dist/facevault in the checkout).
#
# Puts (XDG_DATA_HOME defaults to ~/.local/share):
#   ~/.local/lib/facevault/              the app folder (program files only, replaced whole)
#   ~/.local/bin/facevault               launcher: the CLI, and the desktop app with no arguments
#   $XDG_DATA_HOME/applications/facevault.desktop
#   $XDG_DATA_HOME/icons/hicolor/{16..512}x{..}/apps/facevault.png and scalable/apps/facevault.svg
# The program lives apart from ~/.local/share/facevault (the app's own per-user data), so
# packaging/uninstall.sh can remove it without touching vaults, settings or data.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ge 1 ]; then
  src=$1
elif [ -x "$here/facevault" ] && [ -d "$here/_internal" ]; then
  src=$here  # this copy of the script ships inside the built folder
else
  src="$here/../dist/facevault"
fi
[ -x "$src/facevault" ] && [ -d "$src/_internal" ] \
  || { echo "install: $src is not a built FaceVault folder (run packaging/build.sh)" >&2; exit 1; }
src=$(cd "$src" && pwd)

data_home=${XDG_DATA_HOME:-$HOME/.local/share}
bin_dir="$HOME/.local/bin"
app_dir="$HOME/.local/lib/facevault"
res="$src/_internal/resources"

# Copy beside the old install first and swap at the end, so a failed copy (disk full)
# leaves the previous version working.
mkdir -p "$(dirname "$app_dir")" "$bin_dir" "$data_home/applications"
staging="$app_dir.new.$$"
rm -rf "$staging"
trap 'rm -rf "$staging"' EXIT
cp -a "$src" "$staging"
"$staging/facevault" --version >/dev/null \
  || { echo "install: the copied app does not start; nothing was changed" >&2; exit 1; }
rm -rf "$app_dir.old"
[ -e "$app_dir" ] && mv "$app_dir" "$app_dir.old"
mv "$staging" "$app_dir"
rm -rf "$app_dir.old"

# A script, not a symlink: it names the install by absolute path, so it still works when
# ~/.local/bin is on PATH through another symlink, and it can be read to see what runs.
launcher="$bin_dir/facevault"
cat > "$launcher.tmp" <<EOF
#!/bin/sh
# FaceVault launcher, written by packaging/install.sh; removed by uninstall.sh.
exec "$app_dir/facevault" "\$@"
EOF
chmod 755 "$launcher.tmp"
mv "$launcher.tmp" "$launcher"

# The desktop entry must name the launcher by absolute path: desktop sessions often do
# not have ~/.local/bin on PATH.
desktop="$data_home/applications/facevault.desktop"
sed -e "s|^Exec=.*|Exec=$launcher|" -e "s|^TryExec=.*|TryExec=$launcher|" \
  "$res/facevault.desktop" > "$desktop.tmp"
mv "$desktop.tmp" "$desktop"

icons="$data_home/icons/hicolor"
for png in "$res"/icons/facevault-*.png; do
  size=$(basename "$png" .png); size=${size#facevault-}
  mkdir -p "$icons/${size}x${size}/apps"
  cp "$png" "$icons/${size}x${size}/apps/facevault.png"
done
mkdir -p "$icons/scalable/apps"
cp "$res/icons/facevault.svg" "$icons/scalable/apps/facevault.svg"

# Menus pick the entry up by themselves on most desktops; these caches speed it up where
# the tools exist. Their absence or failure is not an install failure.
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_home/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true

echo "install: FaceVault $("$launcher" --version | cut -d' ' -f2) installed"
echo "  program:  $app_dir"
echo "  launcher: $launcher"
echo "  menu:     $desktop"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "  note: $bin_dir is not on PATH; add it to use \`facevault\` in a terminal" ;;
esac
