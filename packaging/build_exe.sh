#!/usr/bin/env bash
# Build the standalone emojify executable with PyInstaller (no Python needed on the target).
#
#   bash packaging/build_exe.sh               fresh build venv, onedir bundle dist/emojify/emojify
#   bash packaging/build_exe.sh --onefile     ... and also the single file dist/emojify-onefile
#   bash packaging/build_exe.sh --help        all options
#
# The bundle holds the runtime only (numpy, OpenCV, Pillow, Tkinter, the ai-edge-litert
# interpreter, model/, emojis/ and the sample face); TensorFlow is never installed into the build
# venv. OpenCV is a slim build of PyPI's version (packaging/build_opencv.sh: only the modules the
# kiosk calls; about 2.5 minutes to compile on 2 cores, once: the wheel is kept in
# ~/.cache/emojify/opencv-wheel, outside the checkout, and every later build takes it), for a bundle
# of about 110 MB. Without a compiler it takes PyPI's headless wheel, as --stock-opencv does: a
# 250 MB bundle that also plays MP4 videos and has the Haar cascade.
# Works on x86_64 and aarch64 (Raspberry Pi OS Bookworm 64-bit).
# An executable runs only on the CPU architecture (and glibc or newer) it was built on:
# build on the Pi for the Pi.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash packaging/build_exe.sh [--reuse] [--onefile] [--slim-opencv | --stock-opencv] [--dist DIR]
                                  [--work DIR] [--venv DIR] [--opencv-dir DIR] [--no-self-test]

Build the emojify executable from this checkout with PyInstaller (packaging/emojify.spec).

  --reuse         reuse the build venv (see --venv) if it exists (default: delete and
                  re-create it, so the bundle holds exactly what ".[kiosk,build]" installs)
  --onefile       also build a single-file executable DIR/emojify-onefile (starts slower:
                  it unpacks itself to a temporary folder on every start)
  --slim-opencv   insist on the slim OpenCV (about 14 MB; no FFmpeg: video files play only as
                  MJPEG .avi; no Haar cascade: BlazeFace only; cameras and images are the
                  same), compiled by packaging/build_opencv.sh unless built before (about 2.5
                  minutes on 2 cores; needs build-essential, cmake, python3-dev): fail without
  --stock-opencv  bundle PyPI's opencv-python-headless wheel (about 150 MB, with FFmpeg and the
                  Haar cascade) even if a slim one was built before or could be
                  Default: the slim OpenCV, compiled if need be; PyPI's where the compile's tools
                  are missing (it says which)
  --opencv-dir D  where the slim OpenCV wheel is built, and reused from (default:
                  ~/.cache/emojify/opencv-wheel, or under $XDG_CACHE_HOME)
  --dist DIR      where the executables go (default: dist); the onedir bundle is DIR/emojify/
  --work DIR      PyInstaller's work folder (default: build/pyinstaller)
  --venv DIR      the build venv (default: build/venv-exe)
  --no-self-test  skip the final "emojify --self-test" run of the built executable
  -h, --help      show this help

Environment: PYTHON  the Python to build with (default: python3; needs Tkinter, >= 3.10)
Needs (Debian/Raspberry Pi OS packages): binutils (objdump, strip), python3-venv, python3-tk and
libpython3.X (the shared Python library); for the slim OpenCV also build-essential, cmake and
python3-dev; network access to PyPI for the build venv and the OpenCV source.
Time (x86-64, 2 idle cores, a fresh clone): see docs/executable.md.
The result: DIR/emojify/emojify (run it with --help, --self-test, or no argument for the kiosk).
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=packaging/options.sh
source "$root/packaging/options.sh"
reuse=0 onefile=0 self_test=1 opencv=auto
dist="$root/dist" work="$root/build/pyinstaller" venv="$root/build/venv-exe"
opencv_dir="${XDG_CACHE_HOME:-$HOME/.cache}/emojify/opencv-wheel"
while [ $# -gt 0 ]; do
  case "$1" in
    --reuse) reuse=1 ;;
    --onefile) onefile=1 ;;
    --no-self-test) self_test=0 ;;
    --stock-opencv) opencv=stock ;;
    --slim-opencv) opencv=slim ;;
    --dist|--work|--venv|--opencv-dir)
      need_value build_exe.sh "$@"
      case "$2" in /*) folder="$2" ;; *) folder="$PWD/$2" ;; esac
      case "$1" in
        --dist) dist="$folder" ;; --work) work="$folder" ;; --venv) venv="$folder" ;; *) opencv_dir="$folder" ;;
      esac
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build_exe.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
cd "$root"
# the build venv is made again from nothing unless reused, so it must be a venv or nothing:
# --venv ~/thesis must not delete a thesis
if ! { [ "$reuse" = 1 ] && [ -x "$venv/bin/python" ]; } && [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ] \
   && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
  echo "build_exe.sh: --venv $venv holds files but no venv; choose another folder (it is deleted and made again)" >&2
  exit 2
fi
# PyInstaller deletes DIST/emojify before it writes the bundle there: only an earlier bundle may be
# in its way (--dist . in the checkout would delete the source package emojify/)
if [ -e "$dist/emojify" ] && [ ! -d "$dist/emojify/_internal" ] && [ -n "$(ls -A "$dist/emojify" 2>/dev/null)" ]; then
  echo "build_exe.sh: --dist $dist: $dist/emojify is no earlier build, and PyInstaller would delete it;" \
       "choose another folder" >&2
  exit 2
fi

python=${PYTHON:-python3}
say() { printf '==> %s\n' "$*"; }

# --- what the build needs -------------------------------------------------------------------
command -v "$python" >/dev/null || { echo "build_exe.sh: $python not found; set PYTHON=/path/to/python3" >&2; exit 2; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "build_exe.sh: $python is older than Python 3.10" >&2; exit 2; }
if ! "$python" -c 'import tkinter' 2>/dev/null; then
  echo "build_exe.sh: $python has no Tkinter, which the kiosk window needs; install it first" \
       "(Debian/Raspberry Pi OS: sudo apt-get install python3-tk)" >&2
  exit 2
fi
# PyInstaller bundles the shared libpython; Debian's python3 package does not pull it in
if ! "$python" - <<'PY'
import ctypes.util, os, sys, sysconfig
name = sysconfig.get_config_var("INSTSONAME") or f"libpython{sys.version_info[0]}.{sys.version_info[1]}.so.1.0"
libdir = sysconfig.get_config_var("LIBDIR") or ""
found = os.path.exists(os.path.join(libdir, name)) or ctypes.util.find_library(name[3:].split(".so")[0])
sys.exit(0 if found else 1)
PY
then
  pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  echo "build_exe.sh: $python has no shared libpython$pyver, which PyInstaller needs" \
       "(Debian/Raspberry Pi OS: sudo apt-get install libpython$pyver; pyenv: build with --enable-shared)" >&2
  exit 2
fi
if ! command -v objdump >/dev/null; then
  echo "build_exe.sh: PyInstaller needs objdump; install it first (sudo apt-get install binutils)" >&2
  exit 2
fi
for f in model/emotion_int8.tflite model/emotion_int8.json emojis/emojis.json emojify/data/astronaut.jpg; do
  [ -f "$f" ] || { echo "build_exe.sh: $f is missing from the checkout" >&2; exit 2; }
done

# --- build venv: the runtime and PyInstaller, nothing else ------------------------------------
if [ "$reuse" = 1 ] && [ -x "$venv/bin/python" ]; then
  say "reusing $venv"
else
  say "creating $venv with $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  rm -rf "$venv"
  "$python" -m venv "$venv" || { echo "build_exe.sh: cannot create a venv (Debian/Raspberry Pi OS: sudo apt-get install python3-venv)" >&2; exit 2; }
fi
vpy="$venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$vpy" -m pip install --quiet --upgrade pip
# Non-editable install from the checkout: the [kiosk] extra brings ai-edge-litert and [build]
# PyInstaller. TensorFlow is not a runtime dependency and must not end up in the bundle.
say "installing emojify[kiosk,build] into the build venv"
"$vpy" -m pip install --quiet ".[kiosk,build]"
# The kiosk draws with Tk and never calls cv2.imshow, so the bundle takes a headless OpenCV of the
# same version: the slim build (only the modules the kiosk calls, no FFmpeg, OpenBLAS or codec
# libraries), compiled here unless built before, else PyPI's headless wheel (the same cv2 module).
cv_version=$("$vpy" -c 'from importlib.metadata import version; print(version("opencv-python-headless"))')
opencv_args=(--version "$cv_version" --out "$opencv_dir" --python "$vpy")
if [ "$opencv" = auto ]; then
  if bash packaging/build_opencv.sh "${opencv_args[@]}" --find >/dev/null; then
    opencv=slim
  elif missing=$(bash packaging/build_opencv.sh "${opencv_args[@]}" --check 2>&1); then
    opencv=slim
  else
    say "cannot compile the slim OpenCV here (${missing#build_opencv.sh: }): taking PyPI's, a bundle 140 MB larger"
    opencv=stock
  fi
fi
if [ "$opencv" = stock ]; then
  say "using PyPI's opencv-python-headless $cv_version"
  cv_wheel="opencv-python-headless==$cv_version"
else
  say "the slim OpenCV $cv_version (packaging/build_opencv.sh; reused from $opencv_dir if there)"
  cv_wheel=$(bash packaging/build_opencv.sh "${opencv_args[@]}") \
    || { echo "build_exe.sh: the slim OpenCV build failed (see above); --stock-opencv skips it" >&2; exit 1; }
fi
# both, so that a reused venv starts from no cv2 at all (the two share the files of cv2/)
"$vpy" -m pip uninstall --quiet --yes opencv-python opencv-python-headless 2>/dev/null
"$vpy" -m pip install --quiet --no-deps "$cv_wheel"
"$vpy" -c 'import cv2, sys; sys.exit(not hasattr(cv2, "VideoCapture"))' \
  || { echo "build_exe.sh: OpenCV in $venv is broken (no cv2.VideoCapture)" >&2; exit 1; }
if "$vpy" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("tensorflow") is None)'; then
  echo "build_exe.sh: tensorflow is installed in $venv; it must not be (re-run without --reuse)" >&2
  exit 1
fi

# --- PyInstaller ------------------------------------------------------------------------------
mkdir -p "$dist" "$work"
say "PyInstaller: onedir bundle $dist/emojify/"
"$vpy" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work/onedir" packaging/emojify.spec
if [ "$onefile" = 1 ]; then
  say "PyInstaller: single file $dist/emojify-onefile"
  ONEFILE=1 "$vpy" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work/onefile" packaging/emojify.spec
fi

# --- final check: the built executable, without screen or camera ------------------------------
exe="$dist/emojify/emojify"
[ -x "$exe" ] || { echo "build_exe.sh: $exe was not built" >&2; exit 1; }
if [ "$self_test" = 1 ]; then
  say "$exe --self-test"
  if ! env -u DISPLAY -u WAYLAND_DISPLAY "$exe" --self-test; then
    echo "build_exe.sh: the executable in $dist/emojify was built but fails its self-test (FAIL lines above)" >&2
    exit 1
  fi
fi
say "built $("$exe" --version)"
du -sh "$dist/emojify"
[ "$onefile" = 1 ] && du -sh "$dist/emojify-onefile"
exit 0
