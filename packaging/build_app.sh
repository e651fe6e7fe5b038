#!/usr/bin/env bash
# Build the one-folder desktop application with PyInstaller.
#
#   packaging/build_app.sh [--clean] [--tar]
#
# Needs: the project's dependencies plus PyInstaller in the current Python environment
# (pip install -e ".[packaging]"). Uses $PYTHON (default: python3 on PATH).
# Output:
#   dist/matting-studio/matting-studio             the executable
#   dist/matting-studio/_internal/                 bundled Python, Qt, model, resources
#   dist/matting-studio/share/                     .desktop entry, AppStream metainfo, icons
#   dist/matting-studio/install.sh                 installs it for a user or system-wide
#   dist/matting-studio-VERSION-linux-ARCH.tar.gz  (with --tar)
# Then run packaging/check_app.sh to try the result in a clean environment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
APP_ID=io.github.mattingstudio.MattingStudio
clean=() tar=0
for a in "$@"; do
  case $a in
    --clean) clean=(--clean) ;;
    --tar) tar=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

"$PY" -c "import PyInstaller" 2>/dev/null || {
  echo "PyInstaller is missing: pip install -e '.[packaging]'" >&2; exit 1; }
version=$("$PY" -c "import ast,sys; t=ast.parse(open('matting_studio/__init__.py').read()); \
print(next(n.value.value for n in t.body if isinstance(n, ast.Assign) and n.targets[0].id == '__version__'))")
echo "== Matting Studio $version: PyInstaller build"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm "${clean[@]}" --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/matting-studio.spec

APP=dist/matting-studio
echo "== desktop integration files"
mkdir -p "$APP/share/applications" "$APP/share/metainfo" "$APP/share/icons"
cp "packaging/$APP_ID.desktop" "$APP/share/applications/"
cp "packaging/$APP_ID.metainfo.xml" "$APP/share/metainfo/"
"$PY" packaging/render_icons.py "$APP/share/icons" >/dev/null
cp packaging/install.sh "$APP/install.sh"
cp LICENSE "$APP/LICENSE"
chmod +x "$APP/install.sh"

end=$(date +%s)
echo "== built $APP in $((end - start)) s; $(du -sh "$APP" | cut -f1) on disk"
if [ "$tar" = 1 ]; then
  arch=$(uname -m)
  out="dist/matting-studio-$version-linux-$arch.tar.gz"
  tar -C dist -czf "$out" matting-studio
  echo "== $out ($(du -h "$out" | cut -f1))"
fi
echo "next: packaging/check_app.sh"
