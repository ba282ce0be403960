#!/usr/bin/env bash
# The release artefacts as a user gets them: `python -m build` makes a wheel and an sdist in dist/;
# both must carry the model files, the emoji and the compiled message catalogues. The wheel is then
# installed with the kiosk extra into a clean venv outside the checkout, where `emojify --self-test`,
# `emojify predict` and `emojify.detect` (on a path, a NumPy array and a Pillow image of the built-in
# sample photo, the same label from each) must work. One PASS/FAIL line per step, with the seconds
# taken; the first failure ends the check with exit code 1.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash packaging/check_wheel.sh [--python PY] [--out DIR] [--keep]

Build the wheel and the sdist (python -m build), check what they carry, install the wheel with the
kiosk extra into a new venv outside the checkout and run --self-test, predict and emojify.detect there.

  --python PY   the Python that builds (default: .venv/bin/python, else python3); it needs the
                "build" package (pip install build; the test extra has it)
  --out DIR     where the wheel and the sdist go (default: dist/)
  --keep        keep the clean venv (its folder is printed) instead of removing it
  -h, --help    show this help
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
python="" out="$root/dist" keep=0
# shellcheck source=packaging/options.sh
source "$root/packaging/options.sh"
parse_options check_wheel.sh usage --python=python --out=out -- "$@"
if [ -z "$python" ]; then
  if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
command -v "$python" >/dev/null || { echo "check_wheel.sh: Python not found: $python (give --python PY)" >&2; exit 2; }
if ! mkdir -p -- "$out" 2>/dev/null || [ ! -w "$out" ]; then
  echo "check_wheel.sh: --out $out: cannot make the folder or write there" >&2
  exit 2
fi
"$python" -c "import build" 2>/dev/null \
  || { echo "check_wheel.sh: $python has no 'build' package (pip install build)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/emojify-wheel.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

step() {  # step NAME COMMAND...: one PASS/FAIL line with the seconds taken; output shown on failure
  local name=$1 start log
  shift
  start=$(date +%s)
  log="$work/step.log"
  if "$@" >"$log" 2>&1; then
    printf 'PASS  %-14s %4ss\n' "$name" "$(($(date +%s) - start))"
  else
    printf 'FAIL  %-14s %4ss\n' "$name" "$(($(date +%s) - start))"
    tail -n 30 "$log"
    exit 1
  fi
}

version=$("$python" -c "import sys; sys.path.insert(0, sys.argv[1]); import emojify; print(emojify.__version__)" "$root")
wheel="$out/emojify-$version-py3-none-any.whl"
sdist="$out/emojify-$version.tar.gz"
rm -f "$wheel" "$sdist"
# Build from a copy of the files git tracks or would track (not the ignored ones): setuptools reads a
# used checkout's emojify.egg-info/SOURCES.txt back, so a file MANIFEST.in no longer names would still
# be packed here, and missed only on a fresh clone. Outside git (an unpacked sdist) the folder itself.
source_copy() {  # source_copy ROOT DEST (a tracked file deleted from the working tree is no error)
  mkdir -p "$2"
  git -C "$1" ls-files -z --cached --others --exclude-standard \
    | tar -C "$1" --null --no-recursion --files-from=- --ignore-failed-read -cf - | tar -C "$2" -xf -
}
src=$root
if [ -e "$root/.git" ]; then  # git must read it (installed, and not refusing another user's checkout)
  src="$work/src"
  step "source copy" source_copy "$root" "$src"
fi
step build "$python" -m build --outdir "$out" "$src"

# What each artefact must carry: the models, the emoji set and the catalogues (a wheel puts the
# models and emoji under <prefix>/share/emojify, where emojify.resources looks for them).
needed=(model/emotion_int8.tflite model/emotion_int8.json model/face_detection_short_range.tflite model/face_landmark.tflite
        emojis/emojis.json emojis/happy.png emojify/locale/de/LC_MESSAGES/emojify.mo emojify/data/astronaut.jpg)
carries() {  # carries LISTING-COMMAND...: every needed file in the listing
  local listing missing=()
  listing=$("$@")
  for file in "${needed[@]}" "${extra[@]}"; do
    grep -q -- "$file\$" <<<"$listing" || missing+=("$file")
  done
  [ ${#missing[@]} = 0 ] || { echo "missing: ${missing[*]}"; return 1; }
}
extra=(emojify/py.typed dist-info/licenses/LICENSE dist-info/licenses/model/LICENSE-mediapipe.txt
       dist-info/licenses/emojis/LICENSE-NotoColorEmoji.txt)
step "wheel files" carries "$python" -c "import sys, zipfile; print('\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))" "$wheel"
extra=(emojify/locale/de/LC_MESSAGES/emojify.po /LICENSE /.ci/run model/emotion.keras model/confusion_publictest.png)
step "sdist files" carries tar -tzf "$sdist"

# A clean venv outside the checkout, so nothing of the checkout can be imported by accident.
base=$("$python" -c "import sys; print(sys.base_prefix)")/bin/python3
step venv "$base" -m venv "$work/venv"
step install "$work/venv/bin/python" -m pip install --quiet "${wheel}[kiosk]"
cd "$work"
sample=$("$work/venv/bin/python" -c "from emojify.resources import SAMPLE_FACE; print(SAMPLE_FACE)")
case "$sample" in "$root"/*) echo "check_wheel.sh: the venv imported the checkout ($sample)" >&2; exit 1 ;; esac
step self-test "$work/venv/bin/emojify" --self-test
predict_happy() { "$work/venv/bin/emojify" predict "$sample" | tee /dev/stderr | grep -q ": happy "; }
step predict predict_happy
step detect "$work/venv/bin/python" - "$sample" <<'EOF'
import sys

import numpy as np
from PIL import Image

import emojify

photo = Image.open(sys.argv[1])
labels = {kind: emojify.detect(image)[0].label for kind, image in
          (("path", sys.argv[1]), ("array", np.asarray(photo)[:, :, ::-1]), ("Pillow", photo))}
print(labels)
sys.exit(0 if set(labels.values()) == {"happy"} else 1)
EOF
echo "wheel and sdist: $wheel $sdist"
