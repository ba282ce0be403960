#!/usr/bin/env bash
# Retrain the expression model and put it into the kiosk, the whole chain in order:
#
#   1. train      emojify-train into the run folder (an interrupted run there is resumed)
#   2. quantize   emojify-quantize: the int8 model, its metadata and its fitted decision rule, and with
#                 --photos the camera bias fitted on real photos (camera_rule)
#   3. evaluate   emojify evaluate on DATA/test, in daylight and dimmed, next to the shipped model
#   4. install    swap the new model into model/ by a rename (asks first, unless --install)
#   5. build      rebuild the executable with packaging/build_exe.sh (unless --no-exe)
#
#   bash packaging/retrain.sh path/to/fer2013 --epochs 30 --photos path/to/realfaces --background
#   bash packaging/retrain.sh path/to/fer2013 --install -- --init-from model/emotion.keras --lr 5e-4
#
# It stops at the first step that fails, with one line saying which (exit code 1); a bad option or
# argument is one line and exit code 2, before anything runs.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash packaging/retrain.sh DATA [--run DIR] [--epochs N] [--photos DIR] [--background] [--install]
                                 [--no-exe] [--model-dir DIR] [-- EMOJIFY-TRAIN OPTIONS...]

Train, quantize, evaluate, install and package a new expression model from FER2013 in DATA (the
image-folder root with train/ and test/).

  --run DIR        the training run folder (default: runs/retrain in the checkout); if it holds an unfinished
                   run, training resumes it, and a finished run goes straight to quantizing
  --epochs N       epochs of a new run (default: 30)
  --photos DIR     labelled real photos, DIR/<class>/*.jpg: fit the camera bias of the new model on them
                   (python -m emojify.training.camera_rule); without it the new model has none, and reads
                   real camera faces less well than the shipped one (see docs/model.md#the-camera-bias)
  --background     run the whole chain with nohup, writing DIR/retrain.log, and return at once
  --install        put the new model into the model folder without asking
  --no-exe         do not rebuild the executable
  --model-dir DIR  the model folder to compare with and install into (default: the checkout's model/; the
                   executable is rebuilt only with that one, which it bundles)
  --               what follows goes to emojify-train for a new run (e.g. --init-from, --lr)
  -h, --help       show this help

Environment: PYTHON  the Python with the train extra installed (default: the checkout's .venv/bin/python,
                     which `bash packaging/setup_env.sh train` makes, else python3)
EOF
}

die() { echo "retrain.sh: $*" >&2; exit 2; }  # bad input: one line, before anything runs

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=packaging/options.sh
source "$REPO/packaging/options.sh"
if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  [[ -x $REPO/.venv/bin/python ]] && PYTHON=$REPO/.venv/bin/python
fi
RUN=$REPO/runs/retrain EPOCHS=30 BACKGROUND=0 INSTALL=0 EXE=1 MODEL_DIR=$REPO/model DATA="" PHOTOS=""
TRAIN_ARGS=()
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --run) need_value retrain.sh "$@"; RUN=$2; shift ;;
    --epochs) need_value retrain.sh "$@"; EPOCHS=$2; shift ;;
    --photos) need_value retrain.sh "$@"; PHOTOS=$2; shift ;;
    --background) BACKGROUND=1 ;;
    --install) INSTALL=1 ;;
    --no-exe) EXE=0 ;;
    --model-dir) need_value retrain.sh "$@"; MODEL_DIR=$2; shift ;;
    --) shift; TRAIN_ARGS=("$@"); break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [[ -z $DATA ]] || die "one DATA folder only (got $DATA and $1)"; DATA=$1 ;;
  esac
  shift
done
[[ -n $DATA ]] || die "DATA (the FER2013 folder) is missing (see --help)"
[[ -d $DATA/train && -d $DATA/test ]] || die "$DATA: not a FER2013 image folder (expected train/ and test/)"
[[ $EPOCHS =~ ^[1-9][0-9]*$ ]] || die "--epochs $EPOCHS: not a positive whole number"
[[ -z $PHOTOS || -d $PHOTOS ]] || die "--photos $PHOTOS: not a folder (expected <class>/*.jpg photos)"
[[ ! -e $RUN || -d $RUN ]] || die "--run $RUN: a file is in the way (the run folder is made there)"
[[ ! -e $MODEL_DIR || -d $MODEL_DIR ]] || die "--model-dir $MODEL_DIR: not a folder (the model is installed there)"
command -v "$PYTHON" >/dev/null || die "Python not found: $PYTHON (set PYTHON=/path/to/python3)"
# steps 1 and 2 need TensorFlow: say so now, not after the checks of an hour's run (find_spec does not import it)
"$PYTHON" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("tensorflow") is None)' 2>/dev/null \
  || die "$PYTHON has no TensorFlow: run 'bash packaging/setup_env.sh train' (or set PYTHON=/path/to/python3)"
DATA=$(realpath -m "$DATA") RUN=$(realpath -m "$RUN") MODEL_DIR=$(realpath -m "$MODEL_DIR")
[[ -z $PHOTOS ]] || PHOTOS=$(realpath -m "$PHOTOS")
cd "$REPO"  # python -m emojify... runs this checkout's code

if ((BACKGROUND)); then
  mkdir -p "$RUN"
  args=("$DATA" --run "$RUN" --epochs "$EPOCHS" --model-dir "$MODEL_DIR")
  ((INSTALL)) && args+=(--install)
  [[ -z $PHOTOS ]] || args+=(--photos "$PHOTOS")
  ((EXE)) || args+=(--no-exe)
  nohup bash packaging/retrain.sh "${args[@]}" -- "${TRAIN_ARGS[@]}" >"$RUN/retrain.log" 2>&1 </dev/null &
  echo "retrain.sh: running in the background (pid $!); follow it with: tail -f $RUN/retrain.log"
  exit 0
fi

step() { echo; echo "== retrain.sh step $1"; }
fail() { echo "retrain.sh: step $1 failed; nothing after it was done" >&2; exit 1; }

step "1/5 train ($RUN)"
if [[ -f $RUN/config.json ]]; then
  "$PYTHON" -m emojify.training.train "$DATA" --out "$RUN" --resume || fail "1/5 train (resuming $RUN)"
else
  "$PYTHON" -m emojify.training.train "$DATA" --out "$RUN" --epochs "$EPOCHS" "${TRAIN_ARGS[@]}" \
    || fail "1/5 train"
fi
[[ -f $RUN/best.keras ]] || fail "1/5 train (no $RUN/best.keras)"

step "2/5 quantize and fit the decision rule"
rm -rf "$RUN/model"  # an earlier attempt's output: quantize writes a new folder
"$PYTHON" -m emojify.training.quantize "$RUN/best.keras" "$DATA" --out-dir "$RUN/model" --run "$RUN" \
  || fail "2/5 quantize"
if [[ -n $PHOTOS ]]; then
  rm -rf "$RUN/model-camera"
  "$PYTHON" -m emojify.training.camera_rule "$PHOTOS" --model "$RUN/model/emotion_int8.tflite" \
    --out "$RUN/model-camera" || fail "2/5 quantize (the camera bias on $PHOTOS)"
  mv -f "$RUN/model-camera"/emotion_int8.* "$RUN/model/" && rmdir "$RUN/model-camera"
else
  echo "retrain.sh: no --photos: the new model has no camera bias, so it reads real camera faces less well than" \
    "the shipped one; fit it with --photos DIR (see docs/model.md#the-camera-bias)" >&2
fi

step "3/5 evaluate on $DATA/test (daylight, and at 30% brightness with sensor noise)"
split=()  # the Kaggle download's test/ holds PrivateTest too, held out: the figures are PublicTest's
if find "$DATA/test" -iname 'PublicTest*' -print -quit | grep -q .; then split=(--split PublicTest); fi
for which in new shipped; do
  model=$RUN/model/emotion_int8.tflite
  [[ $which == shipped ]] && model=$MODEL_DIR/emotion_int8.tflite
  [[ $which == shipped && ! -f $model ]] && continue
  "$PYTHON" -m emojify evaluate "$DATA/test" "${split[@]}" --json --model "$model" >"$RUN/evaluate-$which.json" \
    || fail "3/5 evaluate ($which model)"
  "$PYTHON" -m emojify evaluate "$DATA/test" "${split[@]}" --json --dim 0.3 --model "$model" >"$RUN/evaluate-$which-dim.json" \
    || fail "3/5 evaluate ($which model, dimmed)"
done
"$PYTHON" - "$RUN" <<'PY' || fail "3/5 evaluate (comparing)"
import json, sys
from pathlib import Path

run = Path(sys.argv[1])
print(f"{'':22}{'new':>10}{'shipped':>10}")
rows = (("accuracy", "accuracy", ""), ("balanced accuracy", "balanced_accuracy", ""), ("ECE", "ece", ""),
        ("dim accuracy kept", "accuracy", "kept"))
for label, key, kind in rows:
    cells = []
    for which in ("new", "shipped"):
        path = run / f"evaluate-{which}.json"
        if not path.is_file():
            cells.append("-")
            continue
        day = json.loads(path.read_text())
        if kind == "kept":
            dim = json.loads((run / f"evaluate-{which}-dim.json").read_text())
            cells.append(f"{dim[key] / day[key]:.1%}" if day[key] else "-")
        else:
            cells.append(f"{day[key]:.3f}" if key == "ece" else f"{day[key]:.1%}")
    print(f"{label:22}{cells[0]:>10}{cells[1]:>10}")
PY

step "4/5 install into $MODEL_DIR"
INSTALL_PY='import sys; from pathlib import Path; from emojify.training.quantize import install
install(Path(sys.argv[1]), Path(sys.argv[2]))'  # one swap of the folder: never a new model beside old metadata
if ((!INSTALL)) && [[ -t 0 ]]; then
  read -r -p "Put the new model into $MODEL_DIR? [y/N] " answer
  [[ $answer == [yY]* ]] && INSTALL=1
fi
if ((!INSTALL)); then
  printf 'not installed; to install later: %q -c %q %q %q\n' "$PYTHON" "$INSTALL_PY" "$RUN/model" "$MODEL_DIR"
  exit 0
fi
"$PYTHON" -c "$INSTALL_PY" "$RUN/model" "$MODEL_DIR" || fail "4/5 install"
echo "installed the new model into $MODEL_DIR"

step "5/5 rebuild the executable"
if ((!EXE)); then
  echo "skipped (--no-exe)"
  exit 0
fi
if [[ $MODEL_DIR != "$(realpath -m "$REPO/model")" ]]; then  # the executable bundles model/ (emojify.spec)
  echo "skipped: the executable bundles the checkout's model/, not $MODEL_DIR;" \
       "to ship this model, install it into model/ and run bash packaging/build_exe.sh"
  exit 0
fi
bash packaging/build_exe.sh --reuse || fail "5/5 build the executable"
echo "done"
