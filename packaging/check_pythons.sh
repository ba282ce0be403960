#!/usr/bin/env bash
# emojify on every Python it supports (3.10 to 3.13) found on this machine besides the one that
# runs the main test suite: for each, a new venv with `pip install ".[kiosk,test]"`, then
# `emojify --self-test`, `emojify predict` on the built-in sample photo, and the test suite, less
#   tests/test_training.py  training needs TensorFlow (the train extra: a 600 MB install per version);
#                           it runs on the main Python, where the model is trained
#   tests/test_exe.py       the PyInstaller build (minutes); the executable carries its own Python,
#                           built by the main one
#   tests/test_app.py       the Tk window under Xvfb, the slowest file; the window code is the same
#                           on every version, and the other window tests still run
# Pythons are looked for in pyenv's versions folder (the newest patch release of each minor version).
# Measured here (x86-64, 2 Intel Xeon cores shared with other jobs), each version's whole run:
# 3.10.13 271 s, 3.12.1 288 s, 3.13.0 277 s (the test suite 227-248 s of it, 595-596 tests).
# One line per version with each step's PASS/FAIL and seconds; a version pyenv lacks is skipped with a
# line saying so. Exit code 1 if any step failed or none of the --versions asked for was found, 2 for a bad option.
set -uo pipefail

usage() {
  cat <<'EOF'
Usage: bash packaging/check_pythons.sh [--versions "3.10 3.12"] [--skip X.Y] [--keep]

For each Python 3.10-3.13 under pyenv (other than --skip's, by default the version of .venv/bin/python
or python3): make a venv, pip install ".[kiosk,test]", run --self-test, predict and the test suite
without the training, executable and kiosk-window tests.

  --versions LIST  only these minor versions (e.g. "3.10 3.13"); those of setup.cfg's classifiers only
  --skip X.Y       leave out this version (default: the main test suite's)
  --keep           keep the venvs (their folder is printed)
  -h, --help       show this help
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
# the versions the project supports: setup.cfg's "Programming Language :: Python :: 3.X" classifiers
supported=$(sed -n 's/^ *Programming Language :: Python :: \(3\.[0-9][0-9]*\) *$/\1/p' "$root/setup.cfg" | tr '\n' ' ')
versions=$supported skip="" keep=0
# shellcheck source=packaging/options.sh
source "$root/packaging/options.sh"
parse_options check_pythons.sh usage --versions=versions --skip=skip -- "$@"
for version in $versions; do
  case " $supported" in
    *" $version "*) ;;
    *) echo "check_pythons.sh: --versions: $version is not a Python this project supports (${supported% })" >&2; exit 2 ;;
  esac
done
# one supported version: a typo (or two versions) would skip nothing and test the main version again
if [ -n "$skip" ] && { [[ $skip == *[[:space:]]* ]] || [[ " $supported" != *" $skip "* ]]; }; then
  echo "check_pythons.sh: --skip: $skip is not a Python this project supports (${supported% }; one only)" >&2
  exit 2
fi
if [ -z "$skip" ]; then
  main_python=python3
  [ -x "$root/.venv/bin/python" ] && main_python="$root/.venv/bin/python"
  skip=$("$main_python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
fi
[ -n "$(for version in $versions; do [ "$version" = "$skip" ] || echo "$version"; done)" ] \
  || { echo "check_pythons.sh: nothing to check: --versions '$versions' holds only the skipped $skip" >&2; exit 2; }
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")

work=$(mktemp -d "${TMPDIR:-/tmp}/emojify-pythons.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

status=0 found=0
for version in $versions; do
  [ "$version" = "$skip" ] && continue
  python=$(ls -d "$pyenv_root"/versions/"$version".*/bin/python3 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$python" ]; then
    echo "Python $version: not under $pyenv_root/versions, skipped"
    continue
  fi
  found=$((found + 1))
  venv="$work/py$version" log="$work/py$version.log" line="Python $("$python" -c 'import platform; print(platform.python_version())'):"
  run() {  # run NAME COMMAND...: appends "NAME PASS/FAIL Ns" to the line; the output goes to the log
    local name=$1 start
    shift
    start=$(date +%s)
    if (cd "$root" && "$@") >>"$log" 2>&1; then line+=" $name PASS $(($(date +%s) - start))s"
    else line+=" $name FAIL $(($(date +%s) - start))s"; return 1; fi
  }
  predict_happy() { "$venv/bin/emojify" predict emojify/data/astronaut.jpg | grep -q ": happy "; }
  run venv "$python" -m venv "$venv" && run install "$venv/bin/python" -m pip install --quiet ".[kiosk,test]" \
    && run self-test "$venv/bin/emojify" --self-test \
    && run predict predict_happy \
    && run tests env -u CI "$venv/bin/python" -m pytest -q -p no:cacheprovider \
         --ignore=tests/test_training.py --ignore=tests/test_exe.py --ignore=tests/test_app.py
  result=$?
  summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed)" "$log" | tail -n 1)
  echo "$line${summary:+ ($summary)}"
  if [ "$result" != 0 ]; then
    status=1
    tail -n 40 "$log"
  fi
done
if [ "$found" = 0 ]; then
  # asked for by name, a missing version fails; by default (as .ci/run calls it) a machine without
  # other Pythons has nothing to check, which is said, not failed
  echo "check_pythons.sh: no Python of '${versions% }' (other than $skip) under $pyenv_root/versions: nothing was checked" >&2
  [ "$versions" = "$supported" ] || exit 1
fi
exit "$status"
