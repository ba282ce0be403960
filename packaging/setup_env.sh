#!/usr/bin/env bash
# Create .venv in the repository and install emojify into it (editable).
#   bash packaging/setup_env.sh kiosk   runtime only: numpy, OpenCV, Pillow, TFLite interpreter
#   bash packaging/setup_env.sh train   + TensorFlow and matplotlib, to retrain and re-quantize
#   bash packaging/setup_env.sh test    + everything the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-kiosk}
case "$what" in
  kiosk) extras="kiosk" ;;
  train) extras="kiosk,train" ;;
  test) extras="kiosk,train,test" ;;
  *) echo "setup_env.sh: unknown set-up '$what' (use kiosk, train or test)" >&2; exit 2 ;;
esac

python=${PYTHON:-python3}
if ! "$python" -c "import tkinter" 2>/dev/null; then
  echo "setup_env.sh: $python has no Tkinter; install it first (Debian/Raspberry Pi OS: sudo apt-get install python3-tk)" >&2
  exit 2
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[$extras]"
echo "emojify installed in .venv ($what)"
