"""The deployment files: the systemd user unit, the XDG autostart entry and the build script.

The unit is checked with ``systemd-analyze verify --user`` (Debian package systemd) and the entry
with ``desktop-file-validate`` (desktop-file-utils); each test skips, saying what to install,
where its validator is missing.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
SERVICE = PACKAGING / "emojify.service"
DESKTOP = PACKAGING / "emojify.desktop"
BUILD_SCRIPT = PACKAGING / "build_exe.sh"
OPENCV_SCRIPT = PACKAGING / "build_opencv.sh"
EXE_IN_HOME = Path("emojify") / "dist" / "emojify" / "emojify"
"""Where both files expect the built executable, relative to the user's home."""


def read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False, comment_prefixes=("#", ";"))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed (apt-get install {package})")
    return path


# --- systemd user unit -----------------------------------------------------------------------

def test_service_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = require("systemd-analyze", "systemd")
    # A user manager needs a home (for %h) and a runtime folder; verify also checks that ExecStart's
    # program exists and is executable, so the home gets a stand-in executable where the kiosk's goes.
    home, runtime = tmp_path / "home", tmp_path / "run"
    exe = home / EXE_IN_HOME
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    runtime.mkdir(mode=0o700)
    unit = tmp_path / SERVICE.name
    shutil.copyfile(SERVICE, unit)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "notice"}
    done = subprocess.run([analyze, "verify", "--user", str(unit)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0 and "Failed to initialize manager" in output:
        pytest.skip(f"systemd-analyze cannot start a user manager here: {output.splitlines()[-1]}")
    # unknown keys and bad values are only warnings (exit code 0): any line about the unit fails
    complaints = [line for line in output.splitlines() if unit.name in line or str(unit) in line]
    assert done.returncode == 0 and not complaints, output


def test_service_unit_names_the_venv_command_for_a_venv_install() -> None:
    """The commented ExecStart for ``setup_env.sh kiosk``: the venv's emojify with the same options."""
    venv_line = next(line[1:] for line in SERVICE.read_text().splitlines() if line.startswith("#ExecStart="))
    exe_args = read_ini(SERVICE)["Service"]["ExecStart"].split()
    assert venv_line.split("=", 1)[1].split() == ["%h/emojify/.venv/bin/emojify", *exe_args[1:]]


def test_service_unit_runs_the_kiosk_and_restarts_it() -> None:
    unit = read_ini(SERVICE)
    service = unit["Service"]
    assert service["ExecStart"].split()[:2] == [f"%h/{EXE_IN_HOME}", "--kiosk"]
    assert service["Restart"] == "on-failure" and service["RestartSec"] == "3"
    assert "DISPLAY=:0" in service["Environment"].split()
    assert "graphical-session.target" in unit["Unit"]["After"]
    # graphical-session.target is never reached on Raspberry Pi OS's labwc/Wayfire/LXDE desktops
    assert unit["Install"]["WantedBy"] == "default.target"


# --- XDG autostart entry ---------------------------------------------------------------------

def test_desktop_entry_passes_desktop_file_validate() -> None:
    validate = require("desktop-file-validate", "desktop-file-utils")
    done = subprocess.run([validate, str(DESKTOP)], capture_output=True, text=True, timeout=60, check=False)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0 and not output, output  # hints and warnings count too


def test_desktop_entry_runs_the_kiosk_from_the_home_folder() -> None:
    entry = read_ini(DESKTOP)["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert entry["StartupWMClass"] == "emojify"  # the Tk class name set by emojify.app
    # "\\$" in the file is "$" once GLib (lxsession-xdg-autostart) has parsed the Exec line
    assert entry["Exec"] == f'sh -c "exec \\\\$HOME/{EXE_IN_HOME} --kiosk"'


def test_desktop_entry_exec_line_as_glib_parses_it(tmp_path: Path) -> None:
    """What the desktop's autostart actually runs, parsed by GLib itself (python3-gi)."""
    python = shutil.which("python3", path="/usr/bin")
    probe = ("import sys, gi; gi.require_version('Gio', '2.0'); from gi.repository import Gio, GLib; "
             "info = Gio.DesktopAppInfo.new_from_filename(sys.argv[1]); "
             "print('\\0'.join(GLib.shell_parse_argv(info.get_commandline())[1]))")
    if python is None or subprocess.run([python, "-c", "import gi"], capture_output=True, check=False).returncode != 0:
        pytest.skip("no system Python with GLib bindings (apt-get install python3-gi)")
    done = subprocess.run([python, "-c", probe, str(DESKTOP)], capture_output=True, text=True, timeout=60,
                          check=True)
    argv = done.stdout.rstrip("\n").split("\0")
    assert argv == ["sh", "-c", f"exec $HOME/{EXE_IN_HOME} --kiosk"]
    shell = subprocess.run(["sh", "-c", argv[2].replace("exec ", "echo ", 1)], env={"HOME": str(tmp_path)},
                           capture_output=True, text=True, check=True)
    assert shell.stdout.split() == [str(tmp_path / EXE_IN_HOME), "--kiosk"]


# --- build script ------------------------------------------------------------------------------

@pytest.mark.parametrize(("script", "options"), [
    (BUILD_SCRIPT, ("--reuse", "--onefile", "--dist", "--no-self-test", "--stock-opencv", "--slim-opencv",
                    "--opencv-dir")),
    (OPENCV_SCRIPT, ("--version", "--out", "--jobs", "--python", "--find", "--check")),
    (PACKAGING / "check_arm64.sh", ("--cache", "--work", "--keep")),
    (PACKAGING / "check_wheel.sh", ("--python", "--out", "--keep")),
    (PACKAGING / "check_pythons.sh", ("--versions", "--skip", "--keep")),
    (PACKAGING / "retrain.sh", ("--run", "--epochs", "--background", "--install", "--no-exe", "--model-dir",
                                "PYTHON", ".venv/bin/python")),
    (PACKAGING / "setup_env.sh", ("kiosk", "train", "test", "PYTHON")),
], ids=["build_exe", "build_opencv", "check_arm64", "check_wheel", "check_pythons", "retrain", "setup_env"])
def test_build_script_is_valid_bash_with_help_and_refuses_unknown_options(script: Path, options) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    shown = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, timeout=30,
                           check=False)
    assert shown.returncode == 0
    for option in options:
        assert option in shown.stdout
    bad = subprocess.run(["bash", str(script), "--frobnicate"], capture_output=True, text=True, timeout=30,
                         check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--frobnicate" in bad.stderr


def test_build_script_deletes_no_folder_that_is_not_a_venv(tmp_path: Path) -> None:
    """``--venv DIR`` is deleted and made again: a folder with files but no venv in it is refused, whole."""
    notes = tmp_path / "thesis" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("important")
    for reuse in ([], ["--reuse"]):
        done = subprocess.run(["bash", str(BUILD_SCRIPT), *reuse, "--venv", str(notes.parent)], capture_output=True,
                              text=True, timeout=30, check=False)
        assert done.returncode == 2 and done.stderr == (f"build_exe.sh: --venv {notes.parent} holds files but no venv; "
                                                        "choose another folder (it is deleted and made again)\n")
        assert notes.read_text() == "important"


def test_build_script_deletes_no_package_in_the_dist_folder(tmp_path: Path) -> None:
    """PyInstaller deletes ``--dist DIR``/emojify before it writes the bundle: ``--dist .`` in the
    checkout would delete the source package. Only an earlier bundle (its ``_internal``) may be there."""
    package = tmp_path / "emojify" / "__init__.py"
    package.parent.mkdir()
    package.write_text("work in progress")
    for dist in (tmp_path, Path(".")):
        done = subprocess.run(["bash", str(BUILD_SCRIPT), "--dist", str(dist)], capture_output=True, text=True,
                              timeout=30, check=False, cwd=tmp_path)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "emojify is no earlier build, and PyInstaller would delete it" in done.stderr
        assert package.read_text() == "work in progress"


@pytest.mark.parametrize(("script", "args"), [(BUILD_SCRIPT, ["--dist", "--onefile"]),
                                              (OPENCV_SCRIPT, ["--out", "--find"])])
def test_build_scripts_take_no_option_for_a_folder(script: Path, args: list[str], tmp_path: Path) -> None:
    """``--out --find`` is a forgotten folder, not a folder named --find (a full OpenCV build into it)."""
    done = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=30, check=False,
                          cwd=tmp_path)
    assert done.returncode == 2 and done.stderr == f"{script.name}: {args[0]} needs a value, not the option '{args[1]}'\n"
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="check_arm64.sh runs as root only")
def test_arm64_check_deletes_no_root_folder_it_did_not_make(tmp_path: Path) -> None:
    """Its root is made in ``--work DIR``/root and deleted at the end: ``--work /`` must not delete /root."""
    kept = tmp_path / "root" / "notes.txt"
    kept.parent.mkdir()
    kept.write_text("important")
    done = subprocess.run(["bash", str(PACKAGING / "check_arm64.sh"), "--work", str(tmp_path)], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 2 and done.stderr == (f"check_arm64.sh: {tmp_path}/root is not a root this check made; "
                                                    "choose an empty --work folder\n")
    assert kept.read_text() == "important" and sorted(tmp_path.iterdir()) == [kept.parent]


def run_shell_function(script: str, name: str, *args: str | Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run the function ``name`` of ``packaging/script`` alone (under ``set -euo pipefail``, as there),
    with ``variables`` as the script's globals it reads."""
    function = re.search(rf"^{name}\(\) \{{.*?^\}}\n", (PACKAGING / script).read_text(), re.MULTILINE | re.DOTALL)
    assert function, f"{script} has no function {name}"
    assert len(re.findall(r"^\w+\(\) \{", function.group(0), re.MULTILINE)) == 1, f"{name} is no block of its own"
    return subprocess.run(["bash", "-euo", "pipefail", "-c", f'{function.group(0)}{name} "$@"', "bash", *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False, env={**os.environ, **variables})


@pytest.mark.parametrize("work", ["/var/tmp/arm64", "/var/tmp/arm 64", "/var/tmp/arm\\64", "/var/tmp/arm\t64"])
def test_arm64_check_sees_a_mount_left_in_its_root_whatever_the_folders_name(work: str, tmp_path: Path) -> None:
    """Its clean-up deletes the root only where nothing is mounted under it any more (a /dev still bound
    there would be the host's /dev). /proc/self/mounts escapes a space as \\040: with a space in
    ``--work`` the bound /dev went unseen."""
    escaped = work.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nudev {escaped}/root/dev devtmpfs rw,nosuid 0 0\n")
    assert run_shell_function("check_arm64.sh", "mounted", mounts, rootfs=f"{work}/root").returncode == 0
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nudev {escaped}/rootfs/dev devtmpfs rw 0 0\n")
    assert run_shell_function("check_arm64.sh", "mounted", mounts, rootfs=f"{work}/root").returncode == 1


def test_arm64_check_samples_the_first_faces_of_each_class_however_many_there_are(tmp_path: Path) -> None:
    """Its evaluate step copies the first 20 faces (by name) of each FER2013 class into the root. A class
    of thousands must not end it: a ``head`` in a pipe under pipefail died of SIGPIPE (exit code 141)."""
    test = tmp_path / "fer 2013" / "test"
    for name, count in (("happy", 3000), ("disgust", 2), ("empty", 0)):
        (test / name).mkdir(parents=True)
        for i in range(count):
            (test / name / f"PrivateTest_{i:07d} face.jpg").touch()
    sample = tmp_path / "sample"
    done = run_shell_function("check_arm64.sh", "fer_sample", test, "20", sample)
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in (sample / "happy").iterdir()) == [f"PrivateTest_{i:07d} face.jpg" for i in range(20)]
    assert len(list((sample / "disgust").iterdir())) == 2 and not list((sample / "empty").iterdir())


def test_wheel_check_builds_from_what_git_would_ship_not_a_used_checkouts_leftovers(tmp_path: Path) -> None:
    """setuptools reads a used checkout's stale ``*.egg-info/SOURCES.txt`` back, which packed a file
    MANIFEST.in had dropped; the build's copy holds tracked and new files only (a deleted one is no error)."""
    git = require("git", "git")
    checkout = tmp_path / "checkout"
    (checkout / "emojify.egg-info").mkdir(parents=True)
    (checkout / "emojify.egg-info" / "SOURCES.txt").write_text("model/dropped.keras\n")
    (checkout / ".gitignore").write_text("*.egg-info/\n")
    for name in ("setup.cfg", "gone.py", "new file.py"):
        (checkout / name).write_text(name)
    subprocess.run([git, "init", "-q"], cwd=checkout, check=True)
    subprocess.run([git, "add", ".gitignore", "setup.cfg", "gone.py"], cwd=checkout, check=True)
    (checkout / "gone.py").unlink()
    done = run_shell_function("check_wheel.sh", "source_copy", checkout, tmp_path / "copy")
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in (tmp_path / "copy").iterdir()) == [".gitignore", "new file.py", "setup.cfg"]


@pytest.mark.parametrize("args", [["--jobs", "0"], ["--version", "5.0.0.93"], ["--out"]])
def test_opencv_script_refuses_bad_values_before_building(args: list[str], tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(OPENCV_SCRIPT), "--out", str(tmp_path / "wheels"), *args], capture_output=True, text=True, timeout=30,
                          check=False, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("build_opencv.sh: ")
    assert not list(tmp_path.iterdir())  # nothing built, nothing left behind


def test_opencv_check_names_the_missing_tool_so_the_build_can_take_pypis(tmp_path: Path) -> None:
    """build_exe.sh compiles the slim OpenCV only where ``build_opencv.sh --check`` passes; elsewhere it
    takes PyPI's and prints the reason, which must name the missing tool and its Debian package."""
    compiler, cmake = require("c++", "build-essential"), require("cmake", "cmake")
    tools = tmp_path / "bin"  # a PATH with what the script needs, but no cmake
    tools.mkdir()
    (tools / "c++").symlink_to(compiler)
    for name in ("bash", "date", "dirname", "nproc", "python3"):
        (tools / name).symlink_to(shutil.which(name))
    env = {"PATH": str(tools), "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(OPENCV_SCRIPT), "--check", "--version", "4.14.0.94"], capture_output=True,
                          text=True, timeout=30, check=False, env=env, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "cmake not found" in done.stderr and "apt-get install build-essential cmake" in done.stderr
    (tools / "cmake").symlink_to(cmake)
    done = subprocess.run(["bash", str(OPENCV_SCRIPT), "--check", "--version", "4.14.0.94", "--python", sys.executable],
                          capture_output=True, text=True, timeout=30, check=False, env=env, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    build = BUILD_SCRIPT.read_text()  # and build_exe.sh asks it before choosing
    assert '--check 2>&1' in build and "taking PyPI's" in build


def test_slim_opencv_keeps_what_the_kiosk_calls() -> None:
    """The slim build must keep every module the runtime needs and the camera back-end; objdetect (the
    Haar cascade, optional: faces.haar_available) is left out, and only faces.py may call it."""
    script = OPENCV_SCRIPT.read_text()
    build_list = re.search(r"-DBUILD_LIST=(\S+)", script).group(1).split(",")
    for module in ("core", "imgproc", "imgcodecs", "videoio", "python3"):
        assert module in build_list, module
    assert "objdetect" not in build_list
    callers = [path.name for path in (REPO / "emojify").rglob("*.py") if "CascadeClassifier" in path.read_text()]
    assert callers == ["faces.py"], callers
    assert "-DWITH_V4L=ON" in script


def test_build_script_and_spec_name_what_the_bundle_needs() -> None:
    spec = (PACKAGING / "emojify.spec").read_text()
    for needed in ("emotion_int8.tflite", "emotion_int8.json", "face_landmark.tflite", "astronaut.jpg",
                   "haarcascade_frontalface",
                   "emojis.json", "PIL._tkinter_finder", "emojify_main.py", "LC_MESSAGES/emojify.mo"):
        assert needed in spec, needed
    assert ".keras" not in spec.replace("tf_keras", "")  # the float model stays out of the bundle
    for path in (REPO / "model" / "emotion_int8.tflite", REPO / "model" / "emotion_int8.json",
                 REPO / "model" / "face_landmark.tflite", REPO / "emojify" / "data" / "astronaut.jpg", PACKAGING / "emojify_main.py"):
        assert path.is_file(), path


# --- the scripts' bad input: one line, exit code 2, before anything runs -------------------------------

RETRAIN = PACKAGING / "retrain.sh"


def run_bash(script: Path, *args, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(script), *map(str, args)], capture_output=True, text=True, timeout=60,
                          check=False, env=env, cwd=cwd)


def assert_one_line(done: subprocess.CompletedProcess, script: str, *words: str, code: int = 2) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"{script}: "), done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def fake_python(path: Path, log: Path) -> Path:
    """An executable called python that writes its name and arguments to ``log`` and fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "{path} $*" >> "{log}"\nexit 1\n')
    path.chmod(0o755)
    return path


@pytest.fixture
def fer_folder(tmp_path: Path) -> Path:
    """An (empty) FER2013 image folder: train/ and test/ are there."""
    for split in ("train", "test"):
        (tmp_path / "fer" / split).mkdir(parents=True)
    return tmp_path / "fer"


@pytest.mark.parametrize("venv", [True, False], ids=["with-venv", "without-venv"])
def test_retrain_runs_the_checkouts_venv_python_by_default(tmp_path: Path, fer_folder: Path, venv: bool) -> None:
    """After ``setup_env.sh train`` the chain's Python is the checkout's .venv (python3 has no OpenCV); one
    without TensorFlow (this fake fails every call) is one line before any step, not step 1's failure."""
    checkout = tmp_path / "checkout"
    (checkout / "packaging").mkdir(parents=True)
    for name in ("retrain.sh", "options.sh"):
        shutil.copy(PACKAGING / name, checkout / "packaging" / name)
    log = tmp_path / "calls.log"
    path = fake_python(tmp_path / "bin" / "python3", log).parent
    if venv:
        fake_python(checkout / ".venv" / "bin" / "python", log)
    env = {key: value for key, value in os.environ.items() if key != "PYTHON"}
    env["PATH"] = f"{path}{os.pathsep}{env['PATH']}"
    done = run_bash(checkout / "packaging" / "retrain.sh", fer_folder, "--run", tmp_path / "run", "--no-exe", env=env)
    assert_one_line(done, "retrain.sh", "has no TensorFlow", "setup_env.sh train")
    assert "step 1/5" not in done.stdout and not (tmp_path / "run").exists()
    called = log.read_text().split()[0]
    assert called == str(checkout / ".venv" / "bin" / "python" if venv else tmp_path / "bin" / "python3")


CHAIN_PYTHON = r"""#!/bin/bash
# the training chain's steps, each writing what the next one reads, and its arguments logged
echo "$*" >> "$CALLS"
value_of() { local want=$1; shift; while (($#)); do [[ $1 == "$want" ]] && { echo "$2"; return; }; shift; done; }
case "$1 $2" in
  "-m emojify.training.train") mkdir -p "$(value_of --out "$@")" && touch "$(value_of --out "$@")/best.keras" ;;
  "-m emojify.training.quantize") out=$(value_of --out-dir "$@"); mkdir -p "$out"
    echo quantized > "$out/emotion_int8.tflite"; echo '{"rule": "without a camera bias"}' > "$out/emotion_int8.json" ;;
  "-m emojify.training.camera_rule") out=$(value_of --out "$@"); mkdir -p "$out"
    echo quantized > "$out/emotion_int8.tflite"; echo '{"rule": "with a camera bias"}' > "$out/emotion_int8.json" ;;
  "-m emojify") echo '{"accuracy": 0.6, "balanced_accuracy": 0.5, "ece": 0.03}' ;;
  "-c "*) ;;  # the check that TensorFlow is there
  *) cat > /dev/null ;;  # the comparison's script on stdin
esac
"""


@pytest.mark.parametrize("photos", [True, False], ids=["with-photos", "without-photos"])
def test_retrain_fits_the_camera_bias_of_the_new_model_on_photos_or_says_it_has_none(tmp_path: Path, fer_folder: Path,
                                                                                     photos: bool) -> None:
    """``--photos``: the camera bias is fitted on the new model (not the shipped one) and lands in the run's
    model folder; without it one line says the new model has none (the shipped model has one)."""
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text(CHAIN_PYTHON)
    python.chmod(0o755)
    run = tmp_path / "run"
    (tmp_path / "photos" / "happy").mkdir(parents=True)
    env = {**os.environ, "PYTHON": str(python), "CALLS": str(tmp_path / "calls.log")}
    done = run_bash(RETRAIN, fer_folder, "--run", run, "--no-exe", *(["--photos", tmp_path / "photos"] if photos else []),
                    env=env)
    assert done.returncode == 0, done.stderr
    fits = [line for line in (tmp_path / "calls.log").read_text().splitlines() if "camera_rule" in line]
    rule = json.loads((run / "model" / "emotion_int8.json").read_text())["rule"]
    if photos:
        new_model, staging = run / "model" / "emotion_int8.tflite", run / "model-camera"
        assert fits == [f"-m emojify.training.camera_rule {tmp_path / 'photos'} --model {new_model} --out {staging}"]
        assert rule == "with a camera bias" and not (run / "model-camera").exists() and done.stderr == ""
    else:
        assert fits == [] and rule == "without a camera bias"
        assert_one_line(done, "retrain.sh", "no --photos: the new model has no camera bias", code=0)


@pytest.mark.parametrize(("args", "words"), [
    (["--bogus"], ["unknown option '--bogus'"]),
    (["{fer}", "--epochs"], ["--epochs needs a value"]),
    (["--run", "--install", "{fer}"], ["--run needs a value", "--install"]),
    (["{fer}", "--model-dir", "--no-exe"], ["--model-dir needs a value", "--no-exe"]),
    (["{fer}", "--epochs", "0"], ["--epochs 0"]),
    ([], ["DATA"]),
    (["{fer}/nowhere"], ["not a FER2013 image folder"]),
    (["{fer}", "--photos", "{fer}/nowhere"], ["--photos", "not a folder"]),
    (["{fer}", "--run", "{file}"], ["--run", "a file is in the way"]),
    (["{fer}", "--run", "{file}", "--background"], ["--run", "a file is in the way"]),
    (["{fer}", "--model-dir", "{file}"], ["--model-dir", "not a folder"]),
], ids=["unknown", "no-epochs", "option-as-run", "option-as-model-dir", "zero-epochs", "no-data", "not-fer",
        "no-photos-folder", "file-as-run", "file-as-run-background", "file-as-model-dir"])
def test_retrain_refuses_bad_input_in_one_line_before_anything_runs(tmp_path: Path, fer_folder: Path, args,
                                                                    words) -> None:
    file = fer_folder / "notes.txt"
    file.write_text("not a folder")
    done = run_bash(RETRAIN, *(arg.format(fer=fer_folder, file=file) for arg in args), cwd=tmp_path)
    assert_one_line(done, "retrain.sh", *words)
    assert "line " not in done.stderr and done.stdout == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fer"]  # no run folder, no --install folder


@pytest.mark.parametrize(("script", "args", "env"), [
    ("setup_env.sh", ["kiosk"], {"PYTHON": "/nonexistent/python3"}),
    ("check_wheel.sh", ["--python", "/nonexistent/python3"], {}),
    ("retrain.sh", ["{fer}"], {"PYTHON": "/nonexistent/python3"}),
])
def test_a_python_that_is_not_there_is_named_so(fer_folder: Path, script: str, args, env) -> None:
    """Not "has no Tkinter" or "has no 'build' package": the Python itself is missing."""
    done = run_bash(PACKAGING / script, *(arg.format(fer=fer_folder) for arg in args), env={**os.environ, **env})
    assert_one_line(done, script, "Python not found: /nonexistent/python3")


def test_setup_env_makes_a_half_made_venv_again(tmp_path: Path) -> None:
    """Debian's python3 without python3-venv makes .venv/bin/python, then fails for want of ensurepip:
    one line saying what to install, nothing left; a .venv left so by an earlier run (a Python, no pip)
    is made again, not used (pip install failed in it with 'No module named pip')."""
    checkout = tmp_path / "checkout"
    (checkout / "packaging").mkdir(parents=True)
    shutil.copy(PACKAGING / "setup_env.sh", checkout / "packaging")
    python = tmp_path / "python3"
    python.write_text(f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = venv ]; then\n  shift 2\n'
                      f'  "{sys.executable}" -m venv --without-pip "$@"\n'
                      '  echo "The virtual environment was not created successfully because ensurepip is not available."'
                      ' >&2\n  echo "Failing command: python3" >&2\n  exit 1\nfi\n'
                      f'exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    env = {**os.environ, "PYTHON": str(python), "PI": "0"}
    done = run_bash(checkout / "packaging" / "setup_env.sh", "kiosk", env=env)
    assert_one_line(done, "setup_env.sh", f"{python} could not make .venv (The virtual environment was not created",
                    "is not available. Failing command: python3)", "sudo apt-get install python3-venv")
    assert not (checkout / ".venv").exists()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", checkout / ".venv"], check=True, timeout=60)
    done = run_bash(checkout / "packaging" / "setup_env.sh", "kiosk", env=env)
    assert done.stderr.splitlines()[0] == "setup_env.sh: .venv has no pip (its making failed); making it again"
    assert "could not make .venv" in done.stderr and done.returncode == 2
    assert not (checkout / ".venv").exists()


@pytest.mark.parametrize("out", ["a-file", "a-file/dist"])
def test_check_wheel_refuses_an_out_folder_it_cannot_make_before_building(tmp_path: Path, out: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    python = fake_python(tmp_path / "bin" / "python", tmp_path / "calls.log")  # has no "build" either
    done = run_bash(PACKAGING / "check_wheel.sh", "--python", python, "--out", tmp_path / out)
    assert_one_line(done, "check_wheel.sh", f"--out {tmp_path / out}")
    assert not (tmp_path / "calls.log").exists()  # checked before the Python was asked anything


@pytest.mark.parametrize("versions", ["9.9", "3.10 2.7", "3.1"])
def test_check_pythons_refuses_a_version_the_project_does_not_support(tmp_path: Path, versions: str) -> None:
    done = run_bash(PACKAGING / "check_pythons.sh", "--versions", versions, "--skip", "3.11", cwd=tmp_path)
    assert_one_line(done, "check_pythons.sh", "--versions", "3.10 3.11 3.12 3.13")
    assert done.stdout == ""


@pytest.mark.parametrize("skip", ["banana", "3.9", "311", "3.10 3.11", " 3.12"])
def test_check_pythons_refuses_a_skip_that_names_no_supported_python(tmp_path: Path, skip: str) -> None:
    """A typo in --skip skipped nothing, in silence: the main suite's Python was checked again."""
    done = run_bash(PACKAGING / "check_pythons.sh", "--skip", skip, cwd=tmp_path)
    assert_one_line(done, "check_pythons.sh", f"--skip: {skip} is not a Python this project supports")
    assert not list(tmp_path.iterdir())
    assert done.stdout == ""


def test_check_pythons_fails_when_no_python_asked_for_is_there_and_says_so_by_default(tmp_path: Path) -> None:
    """Versions asked for by name that are not there fail (exit code 1); by default, as ``.ci/run``
    calls it, a machine with no other Python says it checked nothing and does not fail."""
    (tmp_path / "pyenv" / "versions").mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "pyenv")}  # no pyenv
    done = run_bash(PACKAGING / "check_pythons.sh", "--versions", "3.10 3.12", "--skip", "3.11", env=env)
    assert done.stdout.count("skipped") == 2, done.stdout
    assert_one_line(done, "check_pythons.sh", "nothing was checked", code=1)
    done = run_bash(PACKAGING / "check_pythons.sh", "--skip", "3.11", env=env)
    assert done.stdout.count("skipped") == 3, done.stdout
    assert_one_line(done, "check_pythons.sh", "nothing was checked", code=0)

