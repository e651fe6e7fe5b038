#!/usr/bin/env bash
# Install (or remove) the Matting Studio application folder this script sits in.
#
#   ./install.sh              install for the current user (~/.local)
#   sudo ./install.sh --system   install for everyone (/opt/matting-studio, /usr/local)
#   ./install.sh --prefix DIR    install under DIR (DIR/lib/matting-studio, DIR/bin, DIR/share)
#   ./install.sh --uninstall [--system | --prefix DIR]
#
# Copies the folder to PREFIX/lib/matting-studio (or /opt/matting-studio with --system), links
# PREFIX/bin/matting-studio to it, and installs the .desktop entry, AppStream metainfo and icons
# so the app shows up in the desktop's application menu and opens photos from the file manager.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
APP_ID=io.github.mattingstudio.MattingStudio
prefix="$HOME/.local" appdir="" uninstall=0
while [ $# -gt 0 ]; do
  case $1 in
    --system) prefix=/usr/local appdir=/opt/matting-studio ;;
    --prefix) prefix=$2; shift ;;
    --uninstall) uninstall=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
prefix=$(mkdir -p "$prefix" && cd "$prefix" && pwd)
appdir=${appdir:-$prefix/lib/matting-studio}
share=$prefix/share

icons() { (cd "$1" && find hicolor -name "$APP_ID.*"); }
refresh() {  # let the desktop notice the change (both tools are optional)
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$share/applications" || true
  command -v gtk-update-icon-cache >/dev/null && [ -d "$share/icons/hicolor" ] \
    && gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
}

if [ "$uninstall" = 1 ]; then
  rm -f "$prefix/bin/matting-studio" \
        "$share/applications/$APP_ID.desktop" "$share/metainfo/$APP_ID.metainfo.xml"
  for i in $(icons "$HERE/share/icons"); do rm -f "$share/icons/$i"; done
  case $appdir in */matting-studio) rm -rf "$appdir" ;; esac
  refresh
  echo "Matting Studio removed from $prefix"
  exit 0
fi

[ -x "$HERE/matting-studio" ] || { echo "run install.sh from the built application folder" >&2; exit 1; }
if [ "$HERE" != "$appdir" ]; then
  rm -rf "$appdir.new"
  mkdir -p "$(dirname "$appdir")"
  cp -a "$HERE" "$appdir.new"
  rm -rf "$appdir"
  mv "$appdir.new" "$appdir"
fi
mkdir -p "$prefix/bin" "$share/applications" "$share/metainfo"
ln -sfn "$appdir/matting-studio" "$prefix/bin/matting-studio"
# Exec= gets the absolute path so the menu entry works even when PREFIX/bin is not on PATH.
sed -e "s|^Exec=matting-studio|Exec=$appdir/matting-studio|" \
    -e "s|^TryExec=matting-studio|TryExec=$appdir/matting-studio|" \
    "$HERE/share/applications/$APP_ID.desktop" > "$share/applications/$APP_ID.desktop"
cp "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$share/metainfo/"
for i in $(icons "$HERE/share/icons"); do
  install -D -m 644 "$HERE/share/icons/$i" "$share/icons/$i"
done
refresh
echo "Matting Studio installed: $appdir"
echo "  command:   $prefix/bin/matting-studio"
echo "  menu item: $share/applications/$APP_ID.desktop"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "  note: $prefix/bin is not on your PATH" ;; esac
