#!/usr/bin/env bash
# Remove what packaging/install.sh put under ~/.local, and nothing else:
#   packaging/uninstall.sh
# Vaults (wherever you made them), settings, the per-user data folder and OS keyring
# entries are kept; the script prints where they are so you can delete them yourself.
set -euo pipefail

data_home=${XDG_DATA_HOME:-$HOME/.local/share}
bin_dir="$HOME/.local/bin"
app_dir="$HOME/.local/lib/facevault"
launcher="$bin_dir/facevault"
icons="$data_home/icons/hicolor"

# Only a launcher this install wrote is removed (a pip-installed `facevault` in
# ~/.local/bin is someone else's file).
if [ -f "$launcher" ] && grep -q "written by packaging/install.sh" "$launcher" 2>/dev/null; then
  rm -f "$launcher"
elif [ -e "$launcher" ]; then
  echo "uninstall: keeping $launcher (not written by install.sh)"
fi
rm -rf "$app_dir" "$app_dir".new.* "$app_dir.old"
rm -f "$data_home/applications/facevault.desktop"
for d in "$icons"/*/apps; do
  rm -f "$d/facevault.png" "$d/facevault.svg"
done

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_home/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true

echo "uninstall: FaceVault's program, launcher, menu entry and icons are removed."
echo "Kept (delete them yourself if you want them gone):"
echo "  your vaults, wherever you created them"
echo "  settings:  ${XDG_CONFIG_HOME:-$HOME/.config}/facevault"
echo "  data:      $data_home/facevault"
echo "  caches:    ${XDG_CACHE_HOME:-$HOME/.cache}/facevault"
echo "  device-unlock secrets in the OS keyring (service name 'facevault')"
