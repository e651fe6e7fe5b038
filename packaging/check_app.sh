#!/usr/bin/env bash
# Check the built application the way a user without Python would run it.
#
#   packaging/check_app.sh [APP_DIR]          (default: dist/matting-studio)
#
# 1. copies APP_DIR to a temporary folder (the bundle must be relocatable);
# 2. where possible (root, util-linux `unshare`), hides every Python installation on this machine
#    and the source checkout in a private mount namespace, so nothing outside the bundle can be
#    imported or executed; otherwise falls back to a clean environment only;
# 3. runs, with `env -i PATH=/usr/bin:/bin HOME=<empty temp dir>`:
#      matting-studio --version
#      matting-studio cutout <bundled sample photo> -o out.png --alpha-out alpha.png
#      QT_QPA_PLATFORM=offscreen matting-studio <sample> --screenshot shot.png
#    and checks the results (RGBA PNG of the right size, a real screenshot).
# Exit status 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SRC=$(cd "${1:-dist/matting-studio}" && pwd)
GUI_TIMEOUT=${GUI_TIMEOUT:-180}

if [ -z "${_MS_CHECK_INNER:-}" ]; then
  [ -x "$SRC/matting-studio" ] || { echo "no application at $SRC (run packaging/build_app.sh)" >&2; exit 1; }
  WORK=$(mktemp -d /tmp/ms-check.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  echo "== copying the bundle to $WORK/app"
  cp -a "$SRC" "$WORK/app"
  mkdir -p "$WORK/home" "$WORK/out"
  export _MS_CHECK_INNER=1 _MS_WORK=$WORK
  # Python locations to hide: system ones, pyenv/conda-style ones, the running venv, the checkout.
  hide=()
  for d in /usr/lib/python3* /usr/local/lib/python3* /usr/lib64/python3* /opt/conda \
           "${PYENV_ROOT:-$HOME/.pyenv}" "${VIRTUAL_ENV:-}" "$ROOT"; do
    [ -n "$d" ] && [ -d "$d" ] && hide+=("$d")
  done
  if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare --mount true 2>/dev/null; then
    echo "== hiding Python and the source tree: ${hide[*]} /usr/bin/python*"
    export _MS_HIDE="${hide[*]}"
    exec unshare --mount bash "$0" "$SRC"
  fi
  echo "== (not root or no unshare: Python stays visible, relying on env -i only)"
  exec bash "$0" "$SRC"
fi

# ---- inner part: runs in the private mount namespace when available ----
WORK=$_MS_WORK
APP=$WORK/app
if [ -n "${_MS_HIDE:-}" ]; then
  mount --make-rprivate / 2>/dev/null || true
  for d in $_MS_HIDE; do
    case $WORK in "$d"/*) continue ;; esac   # never hide the folder we work in
    mount -t tmpfs -o ro,size=1k none "$d"
  done
  for f in /usr/bin/python* /usr/local/bin/python*; do
    [ -e "$f" ] && mount --bind /dev/null "$f"
  done
  if env -i PATH=/usr/bin:/bin python3 -c 'print(1)' >/dev/null 2>&1; then
    echo "FAIL: python3 still runs inside the check namespace" >&2; exit 1
  fi
  echo "   python3 is not runnable here: OK"
  # Installed applications usually live in a folder the user cannot write to (/opt).
  mount --bind "$APP" "$APP" && mount -o remount,bind,ro "$APP"
  touch "$APP/.probe" 2>/dev/null && { echo "FAIL: could not make the bundle read-only" >&2; exit 1; }
  echo "   the bundle is mounted read-only: OK"
fi

run() {  # run the app in a clean environment, from an unrelated working folder
  (cd "$WORK/out" && env -i PATH=/usr/bin:/bin HOME="$WORK/home" LANG=C "$@")
}
fail() { echo "FAIL: $*" >&2; exit 1; }
sample=$APP/_internal/matting_studio/resources/sample_astronaut.jpg
[ -f "$sample" ] || fail "the sample photo is not in the bundle"
[ -f "$APP/_internal/matting_studio/models/u2netp.onnx" ] || fail "the model is not in the bundle"

echo "== matting-studio --version"
v=$(run "$APP/matting-studio" --version) || fail "--version exited $?"
echo "   $v"

echo "== matting-studio cutout"
t0=$(date +%s.%N)
run "$APP/matting-studio" cutout "$sample" -o "$WORK/out/cutout.png" --alpha-out "$WORK/out/alpha.png" \
  || fail "cutout exited $?"
t1=$(date +%s.%N)
info=$(file -b "$WORK/out/cutout.png")
echo "   cutout.png: $info  ($(awk "BEGIN{printf \"%.1f\", $t1-$t0}") s)"
case $info in *"512 x 512"*RGBA*) ;; *) fail "cutout.png is not a 512x512 RGBA PNG" ;; esac
echo "   alpha.png:  $(file -b "$WORK/out/alpha.png")"
echo "== matting-studio cutout again"
t0=$(date +%s.%N)
run "$APP/matting-studio" cutout -q "$sample" -o "$WORK/out/cutout2.png" || fail "second cutout exited $?"
t1=$(date +%s.%N)
echo "   $(awk "BEGIN{printf \"%.1f\", $t1-$t0}") s"
cmp -s "$WORK/out/cutout.png" "$WORK/out/cutout2.png" && echo "   identical to the first run" \
  || echo "   note: differs from the first run (not an error)"

echo "== GUI: open the sample offscreen and take a screenshot (timeout ${GUI_TIMEOUT}s)"
set +e
run QT_QPA_PLATFORM=offscreen timeout "$GUI_TIMEOUT" "$APP/matting-studio" "$sample" \
  --screenshot "$WORK/out/screenshot.png" > "$WORK/out/gui.log" 2>&1
rc=$?
set -e
if [ $rc = 0 ] && [ -s "$WORK/out/screenshot.png" ]; then
  echo "   screenshot.png: $(file -b "$WORK/out/screenshot.png")"
  if [ -n "${KEEP_SCREENSHOT:-}" ]; then cp "$WORK/out/screenshot.png" "$KEEP_SCREENSHOT"; echo "   kept as $KEEP_SCREENSHOT"; fi
elif [ $rc = 124 ]; then
  # The window came up and ran its event loop until killed, but wrote no screenshot
  # (an editor without --screenshot support). It started; report it.
  sed 's/^/   | /' "$WORK/out/gui.log" | tail -20
  fail "the GUI started but wrote no screenshot within ${GUI_TIMEOUT}s"
else
  sed 's/^/   | /' "$WORK/out/gui.log" | tail -40
  fail "the GUI exited with status $rc"
fi
echo "== all checks passed"
