#!/usr/bin/env bash
# Build a slim OpenCV wheel for the kiosk executable, from the official opencv-python-headless sdist.
#
#   bash packaging/build_opencv.sh [--version 4.14.0.94] [--out ~/.cache/emojify/opencv-wheel] [--jobs N]
#
# The PyPI wheel carries every OpenCV module plus FFmpeg, OpenBLAS and a dozen codecs: about 150 MB
# installed, more than half the bundle. The kiosk calls a handful of functions (VideoCapture on
# V4L2 cameras, cvtColor/resize/warpAffine/equalizeHist), so this wheel holds only core, imgproc,
# imgcodecs and videoio, linked statically into one cv2 module with no external libraries: about
# 14 MB. Same version and same Python API for those modules as the wheel it replaces; what it drops:
#   - objdetect, and with it the Haar cascade (--detector haar): objdetect needs calib3d,
#     features2d and flann, which took 27% of the compile; BlazeFace, the default, is a TFLite model;
#   - FFmpeg/GStreamer: video *files* play only as MJPEG .avi (cameras, image files and image
#     folders are unaffected; Pillow reads the images);
#   - OpenBLAS/LAPACK, OpenCL, IPP, the dnn/ml/photo/video/gapi/stitching modules, TIFF/WebP/EXR/AVIF;
#   - the extra SIMD kernels built beside the baseline (AVX2 on x86-64, NEON_FP16/DOTPROD on arm64):
#     only the baseline's (SSE3 on x86-64, NEON on arm64), and -O2 (Debian's own level) for -O3.
#     Those two cut the compile by a fifth and cost the kiosk's whole frame about 4% (docs/executable.md).
# Needs a C++ compiler, cmake >= 3.13 and the Python headers (Debian/Raspberry Pi OS:
# sudo apt-get install build-essential cmake python3-dev), and PyPI for the sdist and build tools.
# The compile takes about 2.5 minutes on 2 idle x86-64 cores (docs/executable.md); longer on a Pi.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash packaging/build_opencv.sh [--version V] [--out DIR] [--jobs N] [--python PY] [--find | --check]

Build opencv_python_headless-V-<python>-linux_<arch>.whl with only the modules the kiosk uses
(core, imgproc, imgcodecs, videoio with V4L2; no Haar cascade) into a sub-folder of DIR, and print its
path. A wheel built earlier for the same version, Python, CPU and build flags is reused.

  --version V   the opencv-python-headless version to build (default: the opencv-python version
                installed for PY, else 4.14.0.94)
  --out DIR     where the wheel goes (default: ~/.cache/emojify/opencv-wheel, or under
                $XDG_CACHE_HOME: outside the checkout, so every clone reuses it)
  --jobs N      parallel compile jobs (default: the number of CPUs)
  --python PY   the Python to build for (default: python3); the wheel is for its version and CPU
  --find        only print the wheel built earlier for these settings; exit code 1 if there is none
  --check       only check that the compile's tools are here; exit code 2 and what to install if not
  -h, --help    show this help
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=packaging/options.sh
source "$root/packaging/options.sh"
version="" out="${XDG_CACHE_HOME:-$HOME/.cache}/emojify/opencv-wheel" jobs=$(nproc 2>/dev/null || echo 2) python=python3
find_only=0 check_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --version|--out|--jobs|--python)
      need_value build_opencv.sh "$@"
      case "$1" in --version) version="$2" ;; --out) out="$2" ;; --jobs) jobs="$2" ;; *) python="$2" ;; esac
      shift ;;
    --find) find_only=1 ;;
    --check) check_only=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build_opencv.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$jobs" in ''|*[!0-9]*|0) echo "build_opencv.sh: --jobs needs a positive number, not '$jobs'" >&2; exit 2 ;; esac
command -v "$python" >/dev/null || { echo "build_opencv.sh: $python not found" >&2; exit 2; }
if [ -z "$version" ]; then
  version=$("$python" - 2>/dev/null <<'PY' || true
from importlib.metadata import PackageNotFoundError, version
for name in ("opencv-python", "opencv-python-headless"):
    try:
        print(version(name))
        break
    except PackageNotFoundError:
        pass
PY
)
  version=${version:-4.14.0.94}
fi
case "$version" in 4.*.*.*) ;; *) echo "build_opencv.sh: --version must be an opencv-python 4.x version like 4.14.0.94, not '$version'" >&2; exit 2 ;; esac
if [ "$find_only" = 0 ]; then  # what the compile needs
  for tool in c++ cmake; do
    command -v "$tool" >/dev/null || { echo "build_opencv.sh: $tool not found (Debian/Raspberry Pi OS: sudo apt-get install build-essential cmake)" >&2; exit 2; }
  done
  "$python" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || { echo "build_opencv.sh: no Python.h for $python (Debian/Raspberry Pi OS: sudo apt-get install python3-dev)" >&2; exit 2; }
  [ "$check_only" = 0 ] || exit 0
fi

# Every option the kiosk does not need is off; third-party image libraries are compiled in, so the
# module needs no system library beyond libc and libstdc++.
cmake_args=(
  -DBUILD_LIST=core,imgproc,imgcodecs,videoio,python3,python_bindings_generator
  -DWITH_V4L=ON -DVIDEOIO_ENABLE_PLUGINS=OFF
  -DWITH_FFMPEG=OFF -DWITH_GSTREAMER=OFF -DWITH_1394=OFF -DWITH_OBSENSOR=OFF
  -DWITH_LAPACK=OFF -DWITH_EIGEN=OFF -DWITH_IPP=OFF -DWITH_TBB=OFF -DWITH_OPENCL=OFF -DWITH_ITT=OFF
  -DWITH_VA=OFF -DWITH_VA_INTEL=OFF -DWITH_OPENVX=OFF -DWITH_PROTOBUF=OFF -DWITH_QUIRC=OFF
  -DWITH_KLEIDICV=OFF -DWITH_FASTCV=OFF
  -DWITH_TIFF=OFF -DWITH_WEBP=OFF -DWITH_OPENJPEG=OFF -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF
  -DBUILD_OPENEXR=OFF -DWITH_AVIF=OFF -DWITH_JPEGXL=OFF -DWITH_IMGCODEC_HDR=OFF -DWITH_IMGCODEC_SUNRASTER=OFF
  -DWITH_IMGCODEC_PXM=OFF -DWITH_IMGCODEC_PFM=OFF
  -DBUILD_JPEG=ON -DBUILD_PNG=ON -DBUILD_ZLIB=ON
  -DCMAKE_BUILD_TYPE=Release
  # the baseline SIMD only, at -O2 (OpenCV adds -DNDEBUG itself; scikit-build splits CMAKE_ARGS at
  # spaces, so no value here may hold one): see the header
  -DCPU_DISPATCH= -DCMAKE_C_FLAGS_RELEASE=-O2 -DCMAKE_CXX_FLAGS_RELEASE=-O2
)

# One sub-folder per version, Python, CPU and set of flags: a wheel is reused only where all four match.
pytag=$("$python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
key=$(printf '%s\n' "$version" "$pytag" "$(uname -m)" "${cmake_args[@]}" | sha256sum | cut -c1-12)
out="$out/$version-$pytag-$key"
built_wheel() { ls "$out"/opencv_python_headless-"$version"-*.whl 2>/dev/null | head -1 || true; }
existing=$(built_wheel)
if [ "$find_only" = 1 ]; then
  [ -n "$existing" ] && echo "$existing"
  [ -n "$existing" ]
  exit
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -n "$existing" ]; then
  echo "==> reusing $existing" >&2
  echo "$existing"
  exit 0
fi

log="$out/build-$version.log"
echo "==> building opencv-python-headless $version (slim) with $jobs jobs; log: $log" >&2
start=$(date +%s)
src=$(mktemp -d "${TMPDIR:-/tmp}/emojify-opencv.XXXXXX")
trap 'rm -rf "$src"' EXIT
"$python" -m pip download --quiet --no-deps --no-binary opencv-python-headless \
  "opencv-python-headless==$version" --dest "$src" >"$log" 2>&1 \
  || { echo "build_opencv.sh: cannot download the opencv-python-headless $version source from PyPI (see $log)" >&2; exit 1; }
tar -xzf "$src"/opencv_python_headless-"$version".tar.gz -C "$src"
tree="$src/opencv_python_headless-$version"
# opencv-python's setup.py insists on OpenCV's typing stubs (cv2/py.typed, cv2/typing/), but OpenCV's
# stub generator fails without features2d and calib3d (opencv-python issues 871 and 1010), which this
# build leaves out: the stubs become optional, as setup.py already makes the gapi files. The kiosk
# never reads them.
sed -i 's/if not found and "gapi" not in relpath_re:/if not found and not any(optional in relpath_re for optional in ("gapi", "py.typed", "\/typing\/")):/' "$tree/setup.py"
grep -q '"gapi", "py.typed", "/typing/"' "$tree/setup.py" \
  || { echo "build_opencv.sh: opencv-python-headless $version's setup.py is not the one this script adapts; use --version 4.14.0.94" >&2; exit 1; }
# ENABLE_HEADLESS: no GUI back-end; CMAKE_ARGS: read by scikit-build; pip fetches the build tools
# (scikit-build, numpy headers) from PyPI into an isolated build environment.
ENABLE_HEADLESS=1 CMAKE_ARGS="${cmake_args[*]}" CMAKE_BUILD_PARALLEL_LEVEL="$jobs" MAKEFLAGS="-j$jobs" \
  "$python" -m pip wheel --verbose --no-cache-dir --no-deps "$tree" --wheel-dir "$out" >>"$log" 2>&1 &
pid=$!
# progress: the build tool's step counter (ninja "[N/M]", make "[ NN%]")
while kill -0 "$pid" 2>/dev/null; do
  pct=$(grep -aoE '^ *\[ *[0-9]+(/[0-9]+|%)\]' "$log" 2>/dev/null | tail -1 \
        | awk -F'[][/% ]+' '{ print ($3 != "" ? int(100 * $2 / $3) : $2) }' || true)
  printf '\r    compiling: %3s%%  (%d min)' "${pct:-0}" $(( ($(date +%s) - start) / 60 )) >&2
  sleep 10
done
echo >&2
if ! wait "$pid"; then
  echo "build_opencv.sh: the OpenCV build failed; the last lines of $log:" >&2
  tail -20 "$log" >&2
  exit 1
fi
wheel=$(built_wheel)
[ -n "$wheel" ] || { echo "build_opencv.sh: pip finished but left no wheel in $out (see $log)" >&2; exit 1; }
echo "==> built $wheel ($(du -h "$wheel" | cut -f1)) in $(( $(date +%s) - start )) s" >&2
echo "$wheel"
