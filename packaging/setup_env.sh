#!/usr/bin/env bash
# Create .venv in the repository and install emojify into it (editable).
#   bash packaging/setup_env.sh kiosk   runtime only: numpy, OpenCV, Pillow, TFLite interpreter
#   bash packaging/setup_env.sh train   + TensorFlow and matplotlib, to retrain and re-quantize
#   bash packaging/setup_env.sh test    + everything the test suite needs
# On a Raspberry Pi (or wherever the system Python has Picamera2) the venv also sees the system's
# packages, because Picamera2 comes from apt (python3-picamera2) and has no working PyPI release, and
# the "pi" extra (gpiozero, for --button-pin and --led-pin) is added. PI=1 or PI=0 overrides the guess.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: bash packaging/setup_env.sh [kiosk|train|test]

Create .venv in the checkout (if it is not there) and install emojify into it, editable:
  kiosk   runtime only: numpy, OpenCV, Pillow, the TFLite interpreter (the default)
  train   + TensorFlow and matplotlib, to retrain and re-quantize
  test    + everything the test suite needs
On a Raspberry Pi the venv sees the system's packages (Picamera2) and gets the "pi" extra.

Environment: PYTHON  the Python that makes the venv (default: python3)
             PI      1 or 0: a Raspberry Pi or not (default: guessed)
EOF
}

what=${1:-kiosk}
case "$what" in
  kiosk) extras="kiosk" ;;
  train) extras="kiosk,train" ;;
  test) extras="kiosk,train,test" ;;
  -h|--help) usage; exit 0 ;;
  *) echo "setup_env.sh: unknown set-up '$what' (use kiosk, train or test; see --help)" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "setup_env.sh: one set-up only (got $*)" >&2; exit 2; }

python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup_env.sh: Python not found: $python (set PYTHON=/path/to/python3)" >&2; exit 2; }
if ! "$python" -c "import tkinter" 2>/dev/null; then
  echo "setup_env.sh: $python has no Tkinter; install it first (Debian/Raspberry Pi OS: sudo apt-get install python3-tk)" >&2
  exit 2
fi

# A Pi: its device tree says so, or the system Python can import Picamera2.
pi=${PI:-}
if [ -z "$pi" ]; then
  pi=0
  if grep -qs "Raspberry Pi" /proc/device-tree/model || "$python" -c "import picamera2" 2>/dev/null; then
    pi=1
  fi
fi
venv_options=()
if [ "$pi" = 1 ]; then
  venv_options=(--system-site-packages)
  extras="$extras,pi"
  if [ -x .venv/bin/python ] && ! grep -qs "include-system-site-packages = true" .venv/pyvenv.cfg; then
    echo "setup_env.sh: .venv was made without --system-site-packages, so it cannot see Picamera2;" \
         "delete .venv and run this again" >&2
    exit 2
  fi
fi

# A venv whose making failed half-way has a Python but no pip (Debian without python3-venv leaves one):
# made again, not used as it is
if [ -x .venv/bin/python ] && [ ! -x .venv/bin/pip ]; then
  echo "setup_env.sh: .venv has no pip (its making failed); making it again" >&2
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ] && ! said=$("$python" -m venv ${venv_options[@]+"${venv_options[@]}"} .venv 2>&1); then
  rm -rf .venv
  echo "setup_env.sh: $python could not make .venv ($(printf '%s' "$said" | tr -s '\n\t ' ' ' || true))" \
       "(Debian/Raspberry Pi OS: sudo apt-get install python3-venv)" >&2
  exit 2
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[$extras]"

if [ "$pi" = 1 ]; then
  if ! "$python" -c "import picamera2" 2>/dev/null; then
    echo "setup_env.sh: no Picamera2 on this Pi, so --source picamera will not work;" \
         "for the camera module: sudo apt install python3-picamera2" >&2
  elif ! .venv/bin/python -c "import picamera2" 2>/dev/null; then
    # apt's simplejpeg (imported by Picamera2) is built for Debian's numpy 1; the venv's numpy may be 2
    .venv/bin/python -m pip install --quiet --force-reinstall --no-deps simplejpeg
    .venv/bin/python -c "import picamera2" \
      || { echo "setup_env.sh: Picamera2 does not import in .venv (see above)" >&2; exit 2; }
  fi
fi
echo "emojify installed in .venv ($what$([ "$pi" = 1 ] && echo ', Raspberry Pi: with the system packages'))"
