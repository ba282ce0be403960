"""Training and quantization end to end on a tiny subset, the training helpers, and the promise
that the kiosk runtime never loads TensorFlow."""

from __future__ import annotations

import errno
import importlib.util
import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, copy_model, fer_files, load_json_output, make_fer_folder, run_cli, sha256_file
from PIL import Image

from emojify.labels import CLASSES, NUM_CLASSES
from emojify.training.data import Split
from emojify.training.train import class_weights, stratified_subset

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

needs_tensorflow = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                      reason="tensorflow is not installed (pip install -e .[train])")

# FER2013 Training counts per class (angry, disgust, fear, happy, sad, surprise, neutral)
FER_TRAIN_COUNTS = (3995, 436, 4097, 7215, 4830, 3171, 4965)


def labels_with_counts(counts) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def press_ctrl_c(*args, **kwargs) -> None:
    """Ctrl-C, as a terminal sends it: SIGINT to this process (it stands in for any function it replaces)."""
    os.kill(os.getpid(), signal.SIGINT)


def send_sigterm(*args, **kwargs) -> None:
    """``kill PID``: SIGTERM to this process, which must be handled (its default would end the tests)."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        pytest.fail("SIGTERM is not handled here: it would end the process and leave its files")
    os.kill(os.getpid(), signal.SIGTERM)


STOPS = pytest.mark.parametrize(("stop", "stopped_code"), [(press_ctrl_c, 130), (send_sigterm, 143)],
                                ids=["ctrl-c", "sigterm"])
"""Ctrl-C and SIGTERM stop the training tools alike, with their own exit codes."""


def exit_code(main, argv: list[str]) -> int:
    """``main(argv)``; a Ctrl-C that escapes it, which the user would see as a traceback, fails the test."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C ended the command with a KeyboardInterrupt traceback")


# --- class weights and subsets ----------------------------------------------------------------------

def test_rarest_class_gets_the_largest_weight():
    y = labels_with_counts(FER_TRAIN_COUNTS)
    weights = class_weights(y, power=0.5)
    assert max(weights, key=weights.get) == CLASSES.index("disgust")
    assert min(weights, key=weights.get) == CLASSES.index("happy")


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0])
def test_class_weights_average_to_one_over_the_samples(power):
    """The loss keeps its scale: on average a training image still weighs 1."""
    y = labels_with_counts(FER_TRAIN_COUNTS)
    weights = class_weights(y, power)
    assert np.mean([weights[c] for c in y]) == pytest.approx(1.0)


def test_class_weight_power_zero_is_no_weighting_and_one_is_balanced():
    y = labels_with_counts(FER_TRAIN_COUNTS)
    assert all(w == pytest.approx(1.0) for w in class_weights(y, 0.0).values())
    balanced = class_weights(y, 1.0)
    totals = [balanced[c] * n for c, n in enumerate(FER_TRAIN_COUNTS)]
    assert np.allclose(totals, totals[0])  # every class contributes the same total weight


def test_class_weights_survive_a_missing_class():
    y = labels_with_counts((10, 0, 10, 10, 10, 10, 10))
    weights = class_weights(y, 0.5)
    assert len(weights) == NUM_CLASSES and all(np.isfinite(w) for w in weights.values())


def split_with_counts(counts) -> Split:
    y = labels_with_counts(counts)
    x = np.zeros((len(y), 48, 48), np.uint8)
    x[:, 0, 0] = y  # each image remembers its class
    x[:, 0, 1:3] = np.arange(len(y))[:, None] % 256
    return Split(x, y)


def test_stratified_subset_keeps_every_class_in_proportion():
    split = split_with_counts(FER_TRAIN_COUNTS)
    subset = stratified_subset(split, 700, seed=1)
    counts = np.bincount(subset.y, minlength=NUM_CLASSES)
    assert np.all(counts >= 1)
    assert abs(len(subset) - 700) <= NUM_CLASSES
    expected = np.array(FER_TRAIN_COUNTS) / sum(FER_TRAIN_COUNTS) * 700
    assert np.all(np.abs(counts - expected) <= 1)
    assert np.array_equal(subset.x[:, 0, 0], subset.y)  # images still carry their own labels


def test_stratified_subset_keeps_a_very_rare_class():
    split = split_with_counts((500, 2, 500, 500, 500, 500, 500))
    subset = stratified_subset(split, 35, seed=0)
    assert set(subset.y.tolist()) == set(range(NUM_CLASSES))


def test_stratified_subset_takes_distinct_images_and_is_repeatable():
    split = split_with_counts((40, 5, 40, 40, 40, 40, 40))
    a, b = stratified_subset(split, 100, seed=3), stratified_subset(split, 100, seed=3)
    assert np.array_equal(a.x, b.x)
    keys = {x.tobytes() for x in a.x}
    assert len(keys) == len(a)


def test_stratified_subset_larger_than_the_split_takes_everything():
    split = split_with_counts((3, 1, 3, 3, 3, 3, 3))
    subset = stratified_subset(split, 1000, seed=0)
    assert len(subset) == len(split)


# --- architecture and distillation -----------------------------------------------------------------

def test_blocks_are_read_from_the_command_line_form():
    from emojify.training.model import BLOCKS, format_blocks, parse_blocks

    assert parse_blocks("32x1, 64x2,128x3") == ((32, 1), (64, 2), (128, 3))
    assert parse_blocks(format_blocks(BLOCKS)) == BLOCKS


@pytest.mark.parametrize("text", ["64", "64x", "x2", "64x0", "0x2", "64x2,", "8x1,8x1,8x1,8x1,8x1"])
def test_malformed_blocks_are_refused_naming_the_problem(text):
    from emojify.training.model import parse_blocks

    with pytest.raises(ValueError, match="block"):
        parse_blocks(text)


def test_training_with_malformed_blocks_stops_before_creating_the_run(tmp_path, capsys):
    from emojify.training import train

    run = tmp_path / "run"
    assert train.main([str(tmp_path), "--out", str(run), "--blocks", "64x2,huge"]) == 2
    assert "'huge'" in capsys.readouterr().err
    assert not run.exists()


def test_an_out_folder_that_cannot_be_made_is_one_line_before_any_work(tmp_path, capsys):
    """Training and quantizing into a folder under a file: one line naming the option, exit code 2,
    before the data is read or a model loaded (the model here is not one: loading it would fail)."""
    from emojify.training import quantize, train

    (tmp_path / "a-file").write_text("not a folder")
    assert train.main([str(tmp_path), "--out", str(tmp_path / "a-file" / "run")]) == 2
    assert capsys.readouterr().err.strip() == (f"emojify-train: error: --out {tmp_path / 'a-file' / 'run'}: cannot make "
                                               f"the folder {tmp_path / 'a-file' / 'run'} (a file is in the way)")
    (tmp_path / "not-a-model.keras").write_text("not a model")
    out_dir = tmp_path / "a-file" / "int8"
    assert quantize.main([str(tmp_path / "not-a-model.keras"), str(tmp_path), "--out-dir", str(out_dir)]) == 2
    assert capsys.readouterr().err.strip() == (f"emojify-quantize: error: --out-dir {out_dir}: cannot make the folder "
                                               f"{tmp_path / 'a-file'} (a file is in the way)")


def test_a_full_disk_while_training_names_the_run_folder(tmp_path, capsys, monkeypatch):
    """Keras and h5py report a full disk with no file name: the line names the run folder, where it read
    ``[Errno 28] No space left on device`` alone."""
    from emojify.training import train

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(train, "missing_library", lambda *modules: None)  # the line, with or without Keras
    monkeypatch.setattr(train, "train", full_disk)
    run = tmp_path / "run"
    assert train.main([str(tmp_path), "--out", str(run)]) == 2
    assert capsys.readouterr().err.strip() == f"emojify-train: error: {run}: {os.strerror(errno.ENOSPC)}"


@pytest.mark.parametrize("wrote", [True, False], ids=["after-an-epoch", "before-any"])
def test_a_run_through_a_new_folder_that_fails_keeps_the_way_to_what_it_wrote(tmp_path, capsys, monkeypatch, wrote):
    """``--out new/../kept/run`` and a full disk after the first epoch: the failed run took new/ away, so
    the error's path, and ``--resume`` with it, named nothing, while kept/run held the epoch. A run that
    wrote nothing leaves neither folder."""
    from emojify.training import train

    def full_disk(cfg, run, *args, **kwargs):
        if wrote:
            (Path(run) / "history.json").write_text("[]")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(run) / "last.keras"))

    monkeypatch.setattr(train, "missing_library", lambda *modules: None)
    monkeypatch.setattr(train, "train", full_disk)
    (tmp_path / "kept").mkdir()
    run = tmp_path / "new" / ".." / "kept" / "run"
    assert train.main([str(tmp_path), "--out", str(run)]) == 2
    assert capsys.readouterr().err.strip() == f"emojify-train: error: {run / 'last.keras'}: {os.strerror(errno.ENOSPC)}"
    if wrote:
        assert (run / "history.json").is_file() and (tmp_path / "new").is_dir()
    else:
        assert sorted(path.name for path in tmp_path.rglob("*")) == ["kept"]


@pytest.mark.parametrize("wrote", ["new", "over", None], ids=["partly-written", "written-over", "nothing-written"])
def test_a_quantize_or_camera_rule_out_through_a_new_folder_keeps_the_way_to_what_it_wrote(tmp_path, wrote):
    """The folders quantize and camera_rule make for ``--out new/../kept/int8`` (check_output_folder) go
    again after a failure only where nothing went into the output: new/ was taken away from under a model
    already moved into kept/int8 when its metadata then failed to land, new or in place of the one there."""
    from emojify.training.commands import check_output_folder

    (tmp_path / "kept" / "int8").mkdir(parents=True)
    model = tmp_path / "kept" / "int8" / "emotion_int8.tflite"
    if wrote != "new":
        model.write_bytes(b"old model")
        os.utime(model, ns=(0, 0))  # as if written long ago
    out = tmp_path / "new" / ".." / "kept" / "int8"
    made = check_output_folder(out, "--out-dir")
    if wrote:
        (out / "emotion_int8.tflite").write_bytes(b"model")
    made.take_back()
    assert (tmp_path / "new").is_dir() == bool(wrote)


def test_a_path_too_long_to_look_at_is_one_line(tmp_path, capsys):
    """A path the tools cannot even look at (too long here; a folder on the way that cannot be entered
    fails the same way): one line naming it and exit code 2, where it was a traceback."""
    from emojify.training import quantize, train

    long = tmp_path / ("a" * 300)
    assert train.main([str(long)]) == 2
    assert capsys.readouterr().err.strip() == f"emojify-train: error: {long}: cannot use it (File name too long)"
    assert quantize.main([f"{long}.keras", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"emojify-quantize: error: {long}.keras: cannot use it (File name too long)"
    assert list(tmp_path.iterdir()) == []


@needs_tensorflow  # without Keras, that is said first
@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_training_into_a_folder_that_cannot_be_written_is_one_line_before_the_data(tmp_path, capsys, monkeypatch):
    """/proc: a folder in which nobody, root included, can make a file. Said before the data is read
    (and TensorFlow started), naming --out; it was the first save's error, after both."""
    from emojify.training import train

    monkeypatch.setattr(train, "load_dataset", lambda path: pytest.fail("the data was read"))
    assert train.main([str(tmp_path), "--out", "/proc"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("emojify-train: error: --out /proc: cannot write in the folder /proc ("), line


@pytest.mark.parametrize("option", ["--init-from", "--teacher"])
def test_training_from_a_missing_model_is_refused_in_one_line(tmp_path, capsys, option):
    from emojify.training import train

    run = tmp_path / "run"
    missing = tmp_path / "nowhere.keras"
    assert train.main([str(tmp_path), "--out", str(run), option, str(missing)]) == 2
    assert f"{option} {missing}: no such model file" in capsys.readouterr().err
    (tmp_path / "old-run").mkdir()  # a run folder given for its model: said so, not "no such model file"
    assert train.main([str(tmp_path), "--out", str(run), option, str(tmp_path / "old-run")]) == 2
    assert f"{option} {tmp_path / 'old-run'}: a folder, not a model file (a run's model is its best.keras)" \
        in capsys.readouterr().err
    assert not run.exists()


def test_quantizing_a_run_folder_says_to_give_its_model(tmp_path, capsys):
    from emojify.training import quantize

    (tmp_path / "run").mkdir()
    assert quantize.main([str(tmp_path / "run"), str(tmp_path), "--out-dir", str(tmp_path / "int8")]) == 2
    assert capsys.readouterr().err.strip() == (f"emojify-quantize: error: {tmp_path / 'run'}: a folder, not a model "
                                               "file (a run's model is its best.keras)")


@pytest.mark.parametrize(("option", "value"), [("--epochs", "0"), ("--epochs", "-2"), ("--batch-size", "0"),
                                             ("--batch-size", "-4"), ("--lr", "-0.1"), ("--lr", "nan"),
                                             ("--lr", "inf"), ("--warmup-epochs", "-1"), ("--subset", "-5"),
                                             ("--class-weight-power", "nan"), ("--class-weight-power", "1.5"),
                                             ("--teacher-weight", "-5"), ("--teacher-weight", "inf"),
                                             ("--lighting", "-3"), ("--lighting", "2"), ("--seed", "-1"),
                                             ("--seed", "4294967296")])
def test_training_with_a_count_out_of_range_is_one_line_before_the_run(tmp_path, capsys, option, value):
    from emojify.training import train

    run = tmp_path / "run"
    assert train.main([str(tmp_path), "--out", str(run), option, value]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"emojify-train: error: {option} " in err
    assert not run.exists()  # no folder, no config.json


NEEDS_TEACHER = "--teacher-weight and --teach-augmented say how to learn from a --teacher; give one, or leave them out"


@pytest.mark.parametrize(("argv", "line"), [
    (["--seed", "-1"], "--seed -1: must be 0 .. 4294967295"),
    (["--class-weight-power", "nan"], "--class-weight-power nan: must be 0 .. 1 (a finite number)"),
    (["--teacher-weight", "-5"], "--teacher-weight -5.0: must be 0 .. 1"),
    (["--lighting", "-3"], "--lighting -3.0: must be 0 .. 1"),
    (["--lr", "inf"], "--lr inf: must be over 0 (a finite number)"),
    (["--lr", "0"], "--lr 0.0: must be over 0"),  # a run that learns nothing
    (["--teach-augmented"], NEEDS_TEACHER),  # they did nothing, in silence
    (["--teacher-weight", "0.9"], NEEDS_TEACHER),
    (["--teacher-weight", "0.5"], NEEDS_TEACHER),  # the default, typed: it did nothing, in silence
])
def test_an_option_out_of_range_is_named_with_its_range(tmp_path, capsys, argv, line):
    from emojify.training import train

    assert train.main([str(tmp_path), "--out", str(tmp_path / "run"), *argv]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"emojify-train: error: {line}"]


@pytest.mark.parametrize(("tool", "says"), [
    ("train", ["--subset N ", "train on about N images only, and validate on about N/4 PublicTest images"]),
    ("quantize", ["--seed SEED ", "seed of the calibration sample"]),
])
def test_help_says_what_each_training_option_does(capsys, monkeypatch, tool, says):
    """Each option's help says what it does, not only its default (``--batch-size`` said "default: 64"
    and no more, ``--warmup-epochs`` and quantize's ``--seed`` alike), and ``--subset`` names its N."""
    import importlib

    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(f"emojify.training.{tool}").main(["--help"])
    text = capsys.readouterr().out
    assert stopped.value.code == 0
    entries = [" ".join(entry.split()) for entry in re.split(r"\n(?=  -)", text.split("\noptions:\n")[1])]
    assert [entry for entry in entries if re.match(r"--[\w-]+ [A-Z_]+ \(?default: ", entry)] == []
    for phrase in says:
        assert phrase in " ".join(text.split()), phrase


@pytest.mark.parametrize("tool", ["train", "train-data", "quantize"])
def test_an_empty_path_is_refused_not_taken_for_the_current_folder(tmp_path, capsys, monkeypatch, tool):
    """``--out "$UNSET"`` or an empty DATA: argparse's error, not the current folder written into or read."""
    import importlib

    monkeypatch.chdir(tmp_path)
    argv = {"train": ["data", "--out", ""], "train-data": ["", "--out", "run"],
            "quantize": ["best.keras", "data", "--out-dir", ""]}[tool]
    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(f"emojify.training.{tool.split('-')[0]}").main(argv)
    assert stopped.value.code == 2 and "an empty path" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "line"), [(["--samples", "0"], "--samples 0: must be at least 1"),
                                            (["--samples", "-5"], "--samples -5: must be at least 1"),
                                            (["--seed", "-1"], "--seed -1: must be 0 .. 4294967295")])
def test_quantizing_with_a_number_out_of_range_is_one_line_before_any_work(tmp_path, capsys, argv, line):
    from emojify.training import quantize

    (tmp_path / "best.keras").write_text("not looked at")
    out_dir = tmp_path / "out" / "int8"
    assert quantize.main([str(tmp_path / "best.keras"), str(tmp_path), "--out-dir", str(out_dir), *argv]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"emojify-quantize: error: {line}"]
    assert not (tmp_path / "out").exists()


NOT_INSTALLED = {"keras": "needs TensorFlow (Keras), which is not installed here (pip install 'emojify[train]', "
                          "or in a checkout bash packaging/setup_env.sh train)",
                 "tensorflow": "needs TensorFlow, which is not installed here (pip install 'emojify[train]', "
                               "or in a checkout bash packaging/setup_env.sh train)",
                 "matplotlib": "needs matplotlib, which is not installed here (pip install matplotlib)",
                 "tflite_runtime,ai_edge_litert": "needs a TFLite interpreter (ai-edge-litert), which is not installed "
                                                  "here (pip install 'emojify[train]', or in a checkout bash "
                                                  "packaging/setup_env.sh train)"}


@pytest.mark.parametrize(("tool", "module"), [("train", "keras"), ("train", "matplotlib"),
                                              ("quantize", "tensorflow"), ("quantize", "matplotlib"),
                                              ("quantize", "tflite_runtime,ai_edge_litert")])
def test_a_missing_library_is_one_line_before_any_folder_is_made(tmp_path, capsys, monkeypatch, tool, module):
    """Without TensorFlow, or matplotlib (curves.png after every epoch, the confusion matrix at the
    end), or a TFLite interpreter (quantize checks the int8 model it made), each tool says what to
    install, before it makes a folder or loads anything."""
    from emojify.training import quantize, train

    for name in module.split(","):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: find_spec finds nothing, import fails
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    (tmp_path / "best.keras").write_text("not looked at")
    out = tmp_path / "out" / "run"
    if tool == "train":
        code = train.main([str(tmp_path / "fer"), "--out", str(out), "--epochs", "1", "--verbose", "0"])
    else:
        code = quantize.main([str(tmp_path / "best.keras"), str(tmp_path / "fer"), "--out-dir", str(out)])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"emojify-{tool}: error: {NOT_INSTALLED[module]}"]
    assert not (tmp_path / "out").exists()


def test_resuming_a_run_needs_its_libraries_too(tmp_path, capsys, monkeypatch):
    from emojify.training import train

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    (tmp_path / "fer").mkdir()
    run = tmp_path / "run"
    (run / "backup").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 3}))
    (run / "history.json").write_text(json.dumps(GOOD_HISTORY))
    assert train.main([str(tmp_path / "fer"), "--out", str(run), "--resume"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"emojify-train: error: {NOT_INSTALLED['matplotlib']}"]


def test_blocks_with_a_model_to_go_on_from_is_refused_and_not_recorded(tmp_path, capsys):
    """--help said --blocks was ignored with --init-from, yet it was checked, and the default blocks went
    into config.json and the quantized model's recipe whatever the model's own layers were."""
    from emojify.training import train
    from emojify.training.model import BLOCKS, format_blocks

    model = tmp_path / "model.keras"
    model.write_bytes(b"PK\x03\x04")  # refused before its contents are read
    assert train.main([str(tmp_path), "--out", str(tmp_path / "run"), "--init-from", str(model), "--blocks", "8x1"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == ("emojify-train: error: --blocks builds a new network; "
                                                               "a model given with --init-from keeps its own layers: leave one out")
    assert train.config_of(train.parse_args([str(tmp_path), "--init-from", str(model)])).blocks == ""
    assert train.config_of(train.parse_args([str(tmp_path)])).blocks == format_blocks(BLOCKS)  # the network built


@pytest.mark.parametrize("option", ["--init-from", "--teacher"])
@pytest.mark.parametrize("content", [b"hello\n", b"\xff\xd8\xff\xe0 a JPEG, not a model"])
def test_training_from_a_file_that_is_not_a_model_is_one_line(tmp_path, capsys, monkeypatch, option, content):
    """Said before the data is read and TensorFlow starts (so without TensorFlow too), and no run is made."""
    from emojify.training import train

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    fake = tmp_path / "fake.keras"
    fake.write_bytes(content)
    blocks = ["--blocks", "8x1"] if option == "--teacher" else []  # a model to go on from keeps its own
    assert train.main([str(tmp_path / "fer"), "--out", str(tmp_path / "run"), option, str(fake), "--epochs", "1",
                       *blocks, "--no-jit", "--verbose", "0"]) == 2
    err = capsys.readouterr().err
    line = f"emojify-train: error: {option} {fake}: not a readable .keras model (not a zip archive)"
    assert err.strip().splitlines() == [line]
    assert not (tmp_path / "run").exists()


def test_a_damaged_keras_archive_is_one_line(tmp_path):
    """An archive whose file list is damaged fails in zipfile with NotImplementedError or
    UnicodeDecodeError, not BadZipFile: still one line naming the file."""
    from emojify.training.data import DataError
    from emojify.training.train import check_keras_file

    made = keras_like(tmp_path / "good.keras").read_bytes()
    listing = made.rindex(b"PK\x01\x02")  # the central directory's entry of config.json
    for name, damage in (("version.keras", {listing + 6: 200}),  # needs zip version 20.0 to extract
                         ("utf.keras", {listing + 9: 0x08, listing + 46: 0xFF})):  # names in UTF-8, one not
        damaged = bytearray(made)
        for at, value in damage.items():
            damaged[at] = value
        (tmp_path / name).write_bytes(bytes(damaged))
        with pytest.raises(DataError) as caught:
            check_keras_file(tmp_path / name)
        assert str(caught.value).startswith(f"{tmp_path / name}: not a readable .keras model ("), caught.value
        assert "\n" not in str(caught.value)
    check_keras_file(tmp_path / "good.keras")  # the undamaged one passes


@needs_tensorflow
def test_data_without_a_train_folder_is_one_line_before_tensorflow_speaks(tmp_path):
    """TensorFlow's start-up lines ("oneDNN custom operations are on") came before the error, which
    the log level does not hide: the data is read before TensorFlow is loaded."""
    (tmp_path / "fer" / "test").mkdir(parents=True)
    done = subprocess.run([sys.executable, "-m", "emojify.training.train", str(tmp_path / "fer"), "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=300, check=False)
    assert (done.returncode, done.stderr.splitlines()) == (2, [
        f"emojify-train: error: {tmp_path / 'fer'}: no train/ folder (expected {tmp_path / 'fer'}/train/<class>/*.jpg)"])
    assert not (tmp_path / "run").exists()


def keras_like(path: Path) -> Path:
    """A zip archive with a ``config.json``, as every saved Keras model is (not a loadable model)."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    return path


@needs_tensorflow  # without it, the missing TensorFlow is said first
def test_quantizing_with_bad_data_is_one_line_before_tensorflow_starts(tmp_path, monkeypatch, capsys):
    """The data is read before the model: a wrong data path or folder is the only line, with none of
    TensorFlow's start-up lines before it (and without waiting for it to start)."""
    from emojify.training import quantize

    def no_tensorflow(path):
        raise AssertionError("the model was loaded before the data was read")

    monkeypatch.setattr(quantize, "load_keras_model", no_tensorflow)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    keras_like(tmp_path / "best.keras")
    (tmp_path / "empty").mkdir()
    for data, reason in ((tmp_path / "missing", "no such file or folder"),
                         (tmp_path / "empty", f"no train/ folder (expected {tmp_path / 'empty'}/train/<class>/*.jpg)")):
        out_dir = tmp_path / f"int8-{data.name}"
        assert quantize.main([str(tmp_path / "best.keras"), str(data), "--out-dir", str(out_dir)]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [f"emojify-quantize: error: {data}: {reason}"]
        assert not out_dir.exists()


@needs_tensorflow
def test_quantizing_a_file_that_is_not_a_model_is_one_line(tmp_path, monkeypatch, capsys):
    """Said at once, before the data is read (which takes a minute the first time)."""
    import zipfile

    from emojify.training import quantize

    def unread(source):
        raise AssertionError("the data was read before the model file was looked at")

    monkeypatch.setattr(quantize, "load_dataset", unread)
    for fake, reason in ((tmp_path / "fake.keras", "not a zip archive"), (tmp_path / "zip.keras", "config.json")):
        if fake.name == "zip.keras":
            with zipfile.ZipFile(fake, "w") as archive:
                archive.writestr("a.txt", "not a model")
        else:
            fake.write_text("hello")
        out_dir = tmp_path / f"int8-{fake.stem}"
        assert quantize.main([str(fake), str(tmp_path), "--out-dir", str(out_dir)]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"emojify-quantize: error: {fake}: not a readable .keras model (")
        assert reason in line and "File not found" not in line
        assert not out_dir.exists()


@needs_tensorflow
def test_a_file_that_is_neither_csv_nor_folder_is_a_data_error(tmp_path, capsys, monkeypatch):
    import cv2

    from emojify.training import train
    from emojify.training.data import DataError, load_dataset

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    photo = tmp_path / "face.jpg"
    assert cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 255, (48, 48), dtype=np.uint8))
    with pytest.raises(DataError, match="not a FER2013 CSV or folder"):
        load_dataset(photo, cache_dir=tmp_path / "cache")
    assert train.main([str(photo), "--out", str(tmp_path / "run"), "--epochs", "1", "--blocks", "8x1",
                       "--no-jit", "--verbose", "0"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"emojify-train: error: {photo}: not a FER2013 CSV or folder"]


def test_a_cache_folder_that_cannot_be_written_costs_only_a_warning(tmp_path, caplog):
    from emojify.training.data import load_dataset

    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    (tmp_path / "a-file").write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="emojify.training.data"):
        splits = load_dataset(tmp_path / "fer", cache_dir=tmp_path / "a-file" / "cache")
    assert len(splits["train"]) == NUM_CLASSES and len(splits["val"]) == NUM_CLASSES
    assert f"cannot cache at {tmp_path / 'a-file' / 'cache'}" in caplog.text


GOOD_HISTORY = [{"epoch": 1, "loss": 2.0, "accuracy": 0.2, "val_loss": 2.0, "val_accuracy": 0.2}]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("config.json", "{bad", "Expecting property name"),
    ("config.json", '{"data": "fer", "epochs": 3, "colour": "blue"}', "unknown setting(s) colour"),
    ("config.json", "[1]", "not a JSON object"),
    ("config.json", '{"epochs": 3}', "data"),
    ("config.json", '{"data": "fer", "epochs": 0}', "epochs 0"),
    ("history.json", "garbage", "Expecting value"),
    ("history.json", '[{"epoch": 1}]', "entry 1 lacks"),
    ("history.json", "{}", "not a JSON list"),
    ("backup/training_metadata.json", "garbage", "Expecting value"),
    ("backup/training_metadata.json", '{"batch": 3}', "no epoch count"),
])
def test_resuming_a_run_with_a_damaged_file_is_one_line_and_changes_nothing(tmp_path, capsys, name, content, reason):
    from emojify.training import train

    run = tmp_path / "run"
    (run / "backup").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 3}))
    (run / "history.json").write_text(json.dumps(GOOD_HISTORY))
    (run / "backup" / "training_metadata.json").write_text('{"epoch": 1, "batch": -1}')
    (run / name).write_text(content)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert train.main([str(tmp_path / "fer"), "--out", str(run), "--resume"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"emojify-train: error: {run}: damaged run file {name} (")
    assert line.endswith("); start a new run or restore it")
    assert reason in line
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def history_of(*epochs) -> list[dict]:
    return [GOOD_HISTORY[0] | {"epoch": e} for e in epochs]


def test_resume_counts_the_epochs_a_run_finished_by_their_numbers(tmp_path, capsys):
    """A history with a gap (written by an older version) that reached the last epoch is finished."""
    from emojify.training import train

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 5}))
    (run / "history.json").write_text(json.dumps(history_of(1, 2, 3, 5)))
    assert train.main([str(tmp_path / "fer"), "--out", str(run), "--resume"]) == 0
    assert "already finished its 5 epochs" in capsys.readouterr().out


def test_resume_refuses_options_that_would_change_the_run(tmp_path, capsys):
    """--resume keeps the run's settings: an option that differs from them is refused, naming it (the
    same value as the run's, as in the first command repeated, is fine)."""
    from emojify.training import train

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 5, "batch_size": 8}))
    (run / "history.json").write_text(json.dumps(history_of(1, 2, 3, 4, 5)))
    argv = [str(tmp_path / "fer"), "--out", str(run), "--resume", "--batch-size", "8", "--verbose", "0"]
    assert train.main([*argv, "--epochs", "80", "--blocks", "garbage", "--no-jit"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().splitlines() == [
        (f"emojify-train: error: --resume carries on with the settings in {run / 'config.json'}; leave out what "
         "differs from them (--epochs, --blocks, --no-jit), or start a new run in another --out")]
    assert train.main([*argv, "--epochs", "5"]) == 0
    assert "already finished its 5 epochs" in capsys.readouterr().out


def test_resume_refuses_an_option_typed_at_its_default_where_the_run_has_another(tmp_path, capsys):
    """``--resume --epochs 40`` on a 10-epoch run, 40 being the default, was taken for no option: exit
    code 0 and 10 epochs, where ``--epochs 20`` was refused. What is typed is compared, whatever its value."""
    from emojify.training import train

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 10, "learning_rate": 0.001}))
    (run / "history.json").write_text(json.dumps(history_of(*range(1, 11))))
    argv = [str(tmp_path / "fer"), "--out", str(run), "--resume", "--verbose", "0"]
    for typed, option in ((["--epochs", "40"], "--epochs"), (["--lr", "0.002"], "--lr")):
        assert train.main([*argv, *typed]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.strip().splitlines() == [
            (f"emojify-train: error: --resume carries on with the settings in {run / 'config.json'}; leave out what "
             f"differs from them ({option}), or start a new run in another --out")]
    assert train.main([*argv, "--epochs", "10", "--lr", "0.001", "--batch-size", "64"]) == 0  # its own values
    assert "already finished its 10 epochs" in capsys.readouterr().out


def test_a_run_folder_named_with_a_line_break_is_named_on_one_line(tmp_path, capsys):
    """emojify-train's own error lines carried a line break of the name: two lines for one error."""
    from emojify.training import train

    assert train.main([str(tmp_path / "fer"), "--out", str(tmp_path / "a\nb"), "--resume", "--verbose", "0"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"emojify-train: error: {tmp_path}/a\\nb: no run to resume (no config.json)"]


def test_resume_reads_the_runs_own_data_and_refuses_another(tmp_path, capsys, monkeypatch):
    """DATA given with --resume was silently replaced by the run's own: another data set is refused,
    a DATA that does not exist too; the same folder by another name is the run's."""
    from emojify.training import train

    run = tmp_path / "run"
    (run / "backup").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 4}))
    (run / "history.json").write_text(json.dumps(history_of(1, 2)))
    (tmp_path / "fer").mkdir()
    (tmp_path / "other").mkdir()
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    for data, line in [(tmp_path / "other", (f"--resume reads the run's own data, {tmp_path / 'fer'}, not "
                                            f"{tmp_path / 'other'}; give that one, or start a new run in another --out")),
                       (tmp_path / "nowhere", f"{tmp_path / 'nowhere'}: no such file or folder")]:
        assert train.main([str(data), "--out", str(run), "--resume"]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [f"emojify-train: error: {line}"]
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    (tmp_path / "link").symlink_to(tmp_path / "fer")  # the same folder by another name: the run goes on
    resumed = []
    monkeypatch.setattr(train, "train", lambda cfg, *args, **kwargs: resumed.append(cfg.data) or run / "best.keras")
    assert train.main([str(tmp_path / "link"), "--out", str(run), "--resume"]) == 0
    assert resumed == [str(tmp_path / "fer")]


def test_resume_reads_the_given_data_where_the_runs_own_is_gone(tmp_path, caplog):
    """The data moved, or the run goes on on another machine: the run's settings with the new place."""
    from emojify.training import train

    (tmp_path / "moved").mkdir()
    saved = train.TrainConfig(data=str(tmp_path / "fer"), epochs=7)
    with caplog.at_level(logging.INFO, logger="emojify.train"):
        resumed, problem = train.resumed_data(str(tmp_path / "moved"), saved)
    assert problem is None and resumed == train.TrainConfig(data=str(tmp_path / "moved"), epochs=7)
    assert f"the run's data {tmp_path / 'fer'} is not there any more; reading {tmp_path / 'moved'}" in caplog.text


def test_resume_of_a_run_without_its_backup_refuses_to_start_over(tmp_path, capsys):
    from emojify.training import train

    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 4}))
    (run / "history.json").write_text(json.dumps(history_of(1, 2, 3)))
    (run / "best.keras").write_bytes(b"the best model so far")
    assert train.main([str(tmp_path / "fer"), "--out", str(run), "--resume"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"emojify-train: error: {run}: history.json has 3 of 4 epochs but no backup/ to carry on from; " \
                   "start a new run"
    assert (run / "best.keras").read_bytes() == b"the best model so far"


def stop_in_epoch_two(monkeypatch, train, stop):
    """Make ``train.save_atomic`` call ``stop(path)`` before epoch 2's first save (epoch 1 saves
    last.keras and best.keras; then epoch 2 its last.keras); returns the real ``save_atomic``."""
    saves = []
    real_save = train.save_atomic

    def save(model, path):
        saves.append(path.name)
        if len(saves) == 3:
            stop(path)
        real_save(model, path)

    monkeypatch.setattr(train, "save_atomic", save)
    return real_save


@needs_tensorflow
def test_a_run_stopped_while_saving_an_epoch_repeats_it_on_resume(tmp_path, monkeypatch, capsys):
    """The backup never gets ahead of the history: stopped before an epoch is recorded, the run does
    that epoch again on --resume, and the history has every epoch."""
    from emojify.training import train

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    run = tmp_path / "run"

    def disk_full(path):
        raise OSError(f"{path}: disk full")

    real_save = stop_in_epoch_two(monkeypatch, train, disk_full)
    options = ["--out", str(run), "--batch-size", "8", "--blocks", "8x1", "--no-jit", "--verbose", "0"]
    assert train.main([str(tmp_path / "fer"), "--epochs", "2", *options]) == 2
    assert "disk full" in capsys.readouterr().err
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1]
    assert json.loads((run / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    monkeypatch.setattr(train, "save_atomic", real_save)
    assert train.main([str(tmp_path / "fer"), "--resume", *options]) == 0
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2]
    assert not (run / "backup").exists()


@needs_tensorflow
@pytest.mark.parametrize("broken", ["latest.weights.h5", "training_metadata.json"])
def test_a_backup_broken_while_it_was_saved_resumes_from_the_epoch_before(tmp_path, monkeypatch, capsys, broken):
    """A full disk or a power cut while Keras wrote the backup in place (here: its weights, or the
    epoch count it writes after them, cut in half after epoch 2): --resume carries on from epoch 1's
    copy and the history has every epoch; where that copy is missing too, one line says the backup
    cannot be read."""
    from emojify.training import train

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    run, lasts = tmp_path / "run", []
    real_save = train.save_atomic

    def disk_full_in_epoch_three(model, path):
        lasts.extend([path.name] if path.name == "last.keras" else [])
        if len(lasts) == 3:
            raise OSError(f"{path}: disk full")
        real_save(model, path)

    monkeypatch.setattr(train, "save_atomic", disk_full_in_epoch_three)
    options = ["--out", str(run), "--batch-size", "8", "--blocks", "8x1", "--no-jit", "--verbose", "0"]
    assert train.main([str(tmp_path / "fer"), "--epochs", "3", *options]) == 2
    monkeypatch.setattr(train, "save_atomic", real_save)
    damaged = run / "backup" / broken
    whole = damaged.read_bytes()
    damaged.write_bytes(whole[: len(whole) // 2])
    capsys.readouterr()
    shutil.copytree(run, tmp_path / "broken-run")
    assert train.main([str(tmp_path / "fer"), "--resume", *options]) == 0
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2, 3]

    for copy in (tmp_path / "broken-run" / "backup").glob("*.bkp"):
        copy.unlink()
    options[1] = str(tmp_path / "broken-run")
    assert train.main([str(tmp_path / "fer"), "--resume", *options]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    if broken == "latest.weights.h5":
        assert line.startswith(f"emojify-train: error: {tmp_path / 'broken-run' / 'backup'}: the training backup "
                               "cannot be read ("), line
    else:
        assert line.startswith(f"emojify-train: error: {tmp_path / 'broken-run'}: damaged run file "
                               "backup/training_metadata.json ("), line


@needs_tensorflow
@STOPS
def test_training_stopped_with_ctrl_c_says_how_to_resume_and_that_resumes(stop, stopped_code, tmp_path,
                                                                           monkeypatch, capsys):
    """Ctrl-C in epoch 2, half-way through saving last.keras: epoch 2 is saved whole first, in the
    history and the backup alike (a Ctrl-C between the two left the backup an epoch behind, and
    best.keras could be the model of an epoch the resumed run did again); then one line with the
    command that resumes, exit code 130, no half-written file; that command then finishes the run."""
    from emojify.fileio import atomic_path
    from emojify.training import train

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    run = tmp_path / "run"

    def ctrl_c_half_way(path):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"half a model")
            stop()

    real_save = stop_in_epoch_two(monkeypatch, train, ctrl_c_half_way)
    options = ["--batch-size", "8", "--blocks", "8x1", "--no-jit", "--verbose", "0"]
    assert exit_code(train.main, [str(tmp_path / "fer"), "--out", str(run), "--epochs", "3", *options]) == stopped_code
    (line,) = capsys.readouterr().err.strip().splitlines()
    resume = shlex.join(["emojify-train", str(tmp_path / "fer"), "--out", str(run), "--resume"])
    assert line == f"emojify-train: stopped; resume with: {resume}"
    assert not list(run.rglob("*.tmp*"))
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2]
    assert json.loads((run / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    monkeypatch.setattr(train, "save_atomic", real_save)
    assert train.main([*shlex.split(resume)[1:], "--verbose", "0"]) == 0
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2, 3]


@needs_tensorflow
def test_training_stopped_with_ctrl_c_before_the_run_began_says_to_start_again(tmp_path, monkeypatch, capsys):
    from emojify.training import train

    monkeypatch.setattr(train, "load_dataset", press_ctrl_c)  # while the data set is decoded
    (tmp_path / "fer").mkdir()
    run = tmp_path / "run"
    assert exit_code(train.main, [str(tmp_path / "fer"), "--out", str(run)]) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "emojify-train: stopped; the run had not begun; start it again"]
    assert not run.exists(), "the folder made for the run is left behind, empty"
    # an earlier attempt's config.json in the folder (stopped before its first epoch): --resume would
    # carry on with its settings, not the ones just given
    run.mkdir(exist_ok=True)
    (run / "config.json").write_text(json.dumps({"data": str(tmp_path / "fer"), "epochs": 4}))
    assert exit_code(train.main, [str(tmp_path / "fer"), "--out", str(run), "--epochs", "9"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "emojify-train: stopped; the run had not begun; start it again"]


@needs_tensorflow
@STOPS
def test_ctrl_c_while_the_backup_is_saved_stops_once_it_is_whole(stop, stopped_code, tmp_path, monkeypatch):
    """Keras writes the backup --resume carries on from in place: Ctrl-C waits until it is whole."""
    from emojify import errors
    from emojify.training.model import build_model, parse_blocks
    from emojify.training.train import make_backup

    model = build_model(parse_blocks("8x1"))
    backup = make_backup(tmp_path / "backup")
    backup.set_model(model)
    real_save_weights = model.save_weights

    def ctrl_c_while_saving(*args, **kwargs):
        stop()
        real_save_weights(*args, **kwargs)

    monkeypatch.setattr(model, "save_weights", ctrl_c_while_saving)
    exception = errors.Terminated if stopped_code == errors.EXIT_TERMINATED else KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, errors.raise_terminated)  # as until_interrupted has it
    try:
        with pytest.raises(exception):
            backup.on_epoch_end(0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    model.load_weights(tmp_path / "backup" / "latest.weights.h5")


@needs_tensorflow
@pytest.mark.parametrize(("data", "option", "reason"), [
    ("nowhere", "", "no such file or folder"),
    ("fer-without-publictest", "", "no validation (PublicTest) images"),
    ("fer", "--init-from", "not a readable .keras model"),
    ("fer", "--teacher", "not a readable .keras model"),
])
def test_a_refused_run_leaves_no_config_that_looks_like_a_run(tmp_path, monkeypatch, capsys, data, option, reason):
    """Refused data or a refused model: one line, and no folder (so no config.json that --resume would
    take for a run), nor the folders above it that the run made."""
    from emojify.training import train

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    make_fer_folder(tmp_path / "fer-without-publictest", train=1, public=0, private=0)
    (tmp_path / "fake.keras").write_text("not a model")
    run = tmp_path / "runs" / "new" / "run"
    model = [option, str(tmp_path / "fake.keras")] if option else []
    blocks = [] if option == "--init-from" else ["--blocks", "8x1"]  # a model to go on from keeps its own
    assert train.main([str(tmp_path / data), "--out", str(run), "--epochs", "1", *blocks, "--no-jit",
                       "--verbose", "0", *model]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("emojify-train: error: ") and reason in line
    assert not (tmp_path / "runs").exists()
    (tmp_path / "kept").mkdir()  # an empty folder of the user's, named through a folder the run would make
    assert train.main([str(tmp_path / data), "--out", str(tmp_path / "new" / ".." / "kept" / "run"), "--epochs", "1",
                       *blocks, "--no-jit", "--verbose", "0", *model]) == 2
    capsys.readouterr()
    assert (tmp_path / "kept").is_dir() and not (tmp_path / "kept" / "run").exists() and not (tmp_path / "new").exists()
    assert train.main([str(tmp_path / data), "--out", str(run), "--resume"]) == 2
    assert "no run to resume" in capsys.readouterr().err


def keras_model_of_shape(path: Path, takes: tuple[int, ...], classes: int) -> Path:
    """A saved Keras model (a linear stack) that takes ``takes`` (batch left out) and gives ``classes``
    probabilities."""
    import keras

    inputs = keras.Input(takes)
    keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(keras.layers.Flatten()(inputs))).save(path)
    return path


@needs_tensorflow
@pytest.mark.parametrize("option", ["--init-from", "--teacher"])
def test_training_from_a_model_of_another_shape_is_one_line_and_leaves_no_file(tmp_path, monkeypatch, capsys,
                                                                               option):
    """A model that does not take a 48x48 face or give 7 classes: one line naming it and its shapes,
    where it was a Keras traceback that left a config.json in --out (which --resume took for a run)."""
    from emojify.training import train

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    model = keras_model_of_shape(tmp_path / "other.keras", (64, 64, 1), 5)
    (tmp_path / "kept").mkdir()  # an empty folder of the user's, given as --out: left empty
    for run in (tmp_path / "runs" / "run", tmp_path / "kept"):
        blocks = ["--blocks", "8x1"] if option == "--teacher" else []  # a model to go on from keeps its own
        assert train.main([str(tmp_path / "fer"), "--out", str(run), option, str(model), "--epochs", "1",
                           *blocks, "--no-jit", "--verbose", "0"]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"emojify-train: error: {option} {model}: takes (64, 64, 1), gives 5 classes; expected (48, 48, 1) and 7 classes"]
    assert not (tmp_path / "runs").exists() and list((tmp_path / "kept").iterdir()) == []


@needs_tensorflow
def test_blocks_set_the_width_and_depth_of_the_network():
    from emojify.training.model import build_model

    model = build_model(((16, 1), (24, 2)))
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [32, 16, 24, 24]  # the stem, then the blocks
    assert model.output_shape == (None, NUM_CLASSES)


@needs_tensorflow
def test_batchnorm_statistics_become_the_exact_mean_and_variance_of_each_layer_input():
    import keras

    from emojify.training.model import build_model, set_batchnorm_statistics

    model = build_model(((8, 1), (16, 1)))
    faces = np.random.default_rng(0).integers(0, 256, (40, 48, 48)).astype(np.uint8)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 3
    set_batchnorm_statistics(model, faces, batch_size=16)  # batches of 16, 16 and 8 faces
    for layer in norms:
        inputs = keras.Model(model.inputs, layer.input).predict(faces[..., None].astype(np.float32), verbose=0)
        np.testing.assert_allclose(layer.moving_mean.numpy(), inputs.mean((0, 1, 2)), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.moving_variance.numpy(), inputs.var((0, 1, 2)), rtol=1e-3, atol=1e-6)
    assert np.any(norms[0].moving_mean.numpy() != 0)  # not the untrained 0/1


@needs_tensorflow
def test_batchnorm_statistics_refuse_a_network_that_is_not_a_linear_stack():
    import keras

    from emojify.training.model import set_batchnorm_statistics

    inputs = keras.Input((48, 48, 1))
    a = keras.layers.Conv2D(4, 3)(inputs)
    b = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="plain stack of layers"):
        set_batchnorm_statistics(model, np.zeros((2, 48, 48), np.uint8))
    wrapped = keras.Sequential([keras.Input((48, 48, 1)), model])  # a stack of one layer, the branched model
    with pytest.raises(ValueError, match="is a model of its own"):
        set_batchnorm_statistics(wrapped, np.zeros((2, 48, 48), np.uint8))


@needs_tensorflow
def test_batchnorm_statistics_of_a_sequential_model_start_at_its_first_layer(tmp_path):
    """keras.Sequential lists no InputLayer: its first layer (here the 1/255 scaling) was skipped, and
    the statistics came out 255 times too large, silently, for a model given to quantize or --init-from;
    one saved and loaded again (what those tools get), or built with add(), was refused as branched."""
    import keras

    from emojify.training.model import set_batchnorm_statistics
    from emojify.training.train import load_keras_model

    layers = keras.layers
    built = keras.Sequential([keras.Input((48, 48, 1)), layers.Rescaling(1 / 255), layers.Conv2D(2, 3),
                              layers.BatchNormalization(), layers.GlobalAveragePooling2D(),
                              layers.Dense(NUM_CLASSES, activation="softmax")])
    added = keras.Sequential()
    for layer in (keras.Input((48, 48, 1)), layers.Rescaling(1 / 255), layers.Conv2D(2, 3), layers.BatchNormalization(),
                  layers.GlobalAveragePooling2D(), layers.Dense(NUM_CLASSES, activation="softmax")):
        added.add(layer)
    built.save(tmp_path / "sequential.keras")
    faces = np.random.default_rng(1).integers(0, 256, (20, 48, 48)).astype(np.uint8)
    for model in (built, added, load_keras_model(tmp_path / "sequential.keras", stacked=True)):
        set_batchnorm_statistics(model, faces)
        inputs = keras.ops.convert_to_numpy(model.layers[1](model.layers[0](faces[..., None].astype(np.float32))))
        np.testing.assert_allclose(model.layers[2].moving_mean.numpy(), inputs.mean((0, 1, 2)), rtol=1e-4, atol=1e-5)


@needs_tensorflow
def test_a_branched_model_to_train_from_or_quantize_is_one_line_at_once(tmp_path, monkeypatch, capsys):
    """Its batch-norm statistics cannot be set layer by layer: training from it ran a whole epoch, then
    ended in a ValueError's traceback (exit code 1) with a config.json left that --resume took for a run."""
    import keras

    from emojify.training import quantize, train

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    inputs = keras.Input((48, 48, 1))
    scaled = keras.layers.Rescaling(1 / 255)(inputs)
    joined = keras.layers.Add()([scaled, keras.layers.Conv2D(1, 3, padding="same")(scaled)])
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax")(keras.layers.GlobalAveragePooling2D()(joined))
    model = tmp_path / "branched.keras"
    keras.Model(inputs, outputs).save(model)
    said = "does not take the output of the layer before it; the batch-norm statistics need a plain stack of layers (no branches)"
    assert train.main([str(tmp_path / "fer"), "--out", str(tmp_path / "run"), "--init-from", str(model), "--epochs",
                       "1", "--no-jit", "--verbose", "0"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"emojify-train: error: --init-from {model}: its layer add") and line.endswith(said)
    assert not (tmp_path / "run").exists()
    assert quantize.main([str(model), str(tmp_path / "fer"), "--out-dir", str(tmp_path / "int8")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"emojify-quantize: error: {model}: its layer add") and line.endswith(said)


@needs_tensorflow
def test_distillation_mixes_the_teachers_probabilities_into_the_targets():
    from emojify.training.train import augmented_batches

    split = split_with_counts((5, 5, 5, 5, 5, 5, 5))
    unsure = np.full((len(split), NUM_CLASSES), 1.0 / NUM_CLASSES, np.float32)
    batches = augmented_batches(split, 8, seed=0, soft=unsure, teacher_weight=0.25)
    assert len(batches) == 5  # 35 faces, the last batch partial
    x, y = batches[0]
    assert x.shape == (8, 48, 48, 1) and y.shape == (8, NUM_CLASSES)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y.max(axis=1), 0.75 + 0.25 / NUM_CLASSES, rtol=1e-6)
    seen = np.concatenate([batches[i][1].argmax(1) for i in range(len(batches))])
    assert np.array_equal(np.sort(seen), np.sort(split.y))  # every face once an epoch


@needs_tensorflow
def test_class_weights_follow_each_face_s_own_class_not_the_teacher_s_answer():
    """A teacher sure of another class makes the target's largest value that class's (weight 0.75):
    Keras's class_weight would weigh the face as that class; each face keeps its own class's weight."""
    from emojify.training.train import augmented_batches, class_weights

    split = split_with_counts((2, 2, 2, 20, 2, 2, 2))
    weights = class_weights(split.y, 1.0)
    wrong = np.eye(NUM_CLASSES, dtype=np.float32)[(split.y + 1) % NUM_CLASSES]  # always another class
    batches = augmented_batches(split, 8, seed=0, soft=wrong, teacher_weight=0.75, weights=weights)
    got_y, got_weight = [], []
    for i in range(len(batches)):
        _, y, weight = batches[i]
        got_y.append(y)
        got_weight.append(weight)
    y, weight = np.concatenate(got_y), np.concatenate(got_weight)
    truth = np.array([np.flatnonzero(np.isclose(row, 0.25))[0] for row in y])  # the one-hot's share
    assert not np.array_equal(y.argmax(axis=1), truth)  # the case: the largest target is not the face's class
    np.testing.assert_allclose(weight, [weights[c] for c in truth], rtol=1e-6)
    assert weights[CLASSES.index("happy")] < weights[CLASSES.index("sad")]  # the common class weighs less


def left_bright_probabilities(x: np.ndarray) -> np.ndarray:
    """A toy teacher's answer for faces (B, 48, 48, 1): "happy" when the left half is the brighter one,
    else "sad", so a mirror image flips it."""
    happy = (x[:, :, :24].mean(axis=(1, 2, 3)) > x[:, :, 24:].mean(axis=(1, 2, 3))).astype(np.float32)
    p = np.zeros((len(x), NUM_CLASSES), np.float32)
    p[:, CLASSES.index("happy")], p[:, CLASSES.index("sad")] = happy, 1 - happy
    return p


@needs_tensorflow
def test_consistent_teachers_label_each_face_as_the_student_sees_it_mirrored_or_not():
    from emojify.training.train import augmented_batches, consistent_teacher

    class LeftBright:
        def predict_on_batch(self, x):
            return left_bright_probabilities(x)

    split = split_with_counts((0, 0, 0, 0, 0, 0, 64))  # every hard label "neutral"
    split.x[:] = 0
    split.x[:, :, :24] = 200  # bright on the left until the augmentation mirrors a face
    x, y = augmented_batches(split, 64, seed=0, soft=consistent_teacher([LeftBright()]), teacher_weight=1.0)[0]
    left_brighter = x[:, :, :24].mean(axis=(1, 2, 3)) > x[:, :, 24:].mean(axis=(1, 2, 3))
    assert 0 < left_brighter.sum() < 64  # some faces were mirrored, some not
    np.testing.assert_array_equal(y[:, CLASSES.index("happy")], left_brighter.astype(np.float32))
    np.testing.assert_array_equal(y[:, CLASSES.index("sad")], 1 - left_brighter.astype(np.float32))


def test_teachers_are_averaged_over_models_and_mirror_images():
    from emojify.training.train import teacher_probabilities

    class LeftBright:
        def predict(self, x, batch_size, verbose):
            return left_bright_probabilities(x)

    class Neutral:
        def predict(self, x, batch_size, verbose):
            return np.eye(NUM_CLASSES, dtype=np.float32)[[CLASSES.index("neutral")] * len(x)]

    faces = np.zeros((3, 48, 48), np.uint8)
    faces[:, :, :24] = 200  # bright on the left: the mirror image is bright on the right
    soft = teacher_probabilities([LeftBright(), Neutral()], faces, batch_size=2)
    assert soft.shape == (3, NUM_CLASSES)
    expected = {"happy": 0.25, "sad": 0.25, "neutral": 0.5}
    for name, share in expected.items():
        np.testing.assert_allclose(soft[:, CLASSES.index(name)], share)


def write_run(run, init_from, val_accuracies):
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": "fer", "init_from": str(init_from), "learning_rate": 0.001}))
    history = [GOOD_HISTORY[0] | {"epoch": i + 1, "val_accuracy": a, "seconds": 100}
               for i, a in enumerate(val_accuracies)]
    (run / "history.json").write_text(json.dumps(history))


def test_model_metadata_keeps_every_sitting_of_a_model_trained_over_several(tmp_path):
    from emojify.training.quantize import METADATA_NAME, training_record

    first = tmp_path / "first"
    write_run(first, "", [0.5, 0.6, 0.55])
    model = tmp_path / "model"
    model.mkdir()
    (model / METADATA_NAME).write_text(json.dumps({"training": training_record(first)}))
    second = tmp_path / "second"
    write_run(second, model / "emotion.keras", [0.61, 0.62])
    (model / METADATA_NAME).write_text(json.dumps({"training": training_record(second)}))
    third = tmp_path / "third"
    write_run(third, model / "emotion.keras", [0.63, 0.65, 0.64, 0.6])

    record = training_record(third)
    assert record["epochs_total"] == 2 + 2 + 2  # the best epoch of each sitting
    assert record["epochs_this_run"] == 4 and record["seconds_this_run"] == 400
    assert [s["best_epoch_this_run"] for s in record["earlier_sittings"]] == [2, 2]
    assert [s["recipe"]["init_from"] for s in record["earlier_sittings"]] == ["", str(model / "emotion.keras")]
    assert training_record(first)["earlier_sittings"] == []
    last = training_record(third, "last.keras")  # its last epoch, not its best, was quantized
    assert (last["model_epoch_this_run"], last["best_epoch_this_run"], last["epochs_total"]) == (4, 2, 2 + 2 + 4)


def test_a_run_made_before_the_shares_were_checked_can_still_be_quantized(tmp_path):
    """Runs made when --class-weight-power 1.5 or --lighting 1.5 were taken are no damaged runs; a new
    run is refused them."""
    from emojify.training.quantize import training_record
    from emojify.training.train import TrainConfig, settings_problem

    run = tmp_path / "run"
    write_run(run, "", [0.6])
    config = json.loads((run / "config.json").read_text()) | {"class_weight_power": 1.5, "lighting": 1.5}
    (run / "config.json").write_text(json.dumps(config))
    assert training_record(run)["recipe"]["class_weight_power"] == 1.5
    assert settings_problem(TrainConfig(data="fer", class_weight_power=1.5)) == "--class-weight-power 1.5: must be 0 .. 1"


@pytest.mark.parametrize("damaged", ["{garbage", "[1, 2]", '{"training": 5}'])
def test_damaged_metadata_of_the_model_trained_on_from_costs_only_its_history(tmp_path, caplog, damaged):
    from emojify.training.quantize import METADATA_NAME, training_record

    model = tmp_path / "model"
    model.mkdir()
    (model / METADATA_NAME).write_text(damaged)
    write_run(tmp_path / "run", model / "emotion.keras", [0.61, 0.62])
    with caplog.at_level(logging.WARNING, logger="emojify.quantize"):
        record = training_record(tmp_path / "run")
    assert record["earlier_sittings"] == [] and record["epochs_this_run"] == 2
    assert [r.getMessage().split(": damaged model metadata")[0] for r in caplog.records] == [str(model / METADATA_NAME)]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("config.json", "{garbage", "damaged run file config.json (Expecting property name"),
    ("config.json", '{"epochs": 3}', "damaged run file config.json ("),
    ("history.json", "{garbage", "damaged run file history.json (Expecting property name"),
    ("history.json", '[{"epoch": 1}]', "damaged run file history.json (entry 1 lacks one of"),
    ("", "", "not a training run (no config.json there)"),
])
def test_quantizing_with_a_damaged_or_missing_run_is_one_line_before_any_work(tmp_path, capsys, name, content, reason):
    """--run is read before the conversion: a damaged run file is named, a folder without a run refused."""
    from emojify.training import quantize

    run = tmp_path / "run"
    write_run(run, "", [0.5])
    if name:
        (run / name).write_text(content)
    else:
        run = tmp_path / "nope"
    (tmp_path / "best.keras").write_text("not a model: loading it would fail with another message")
    out_dir = tmp_path / "out" / "int8"
    assert quantize.main([str(tmp_path / "best.keras"), str(tmp_path), "--out-dir", str(out_dir), "--run", str(run)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"emojify-quantize: error: {'' if name else '--run '}{run}: {reason}"), line
    assert not (tmp_path / "out").exists()


def test_quantizing_with_another_run_s_record_is_refused(tmp_path, capsys):
    """--run of a run that did not train the model: its recipe and epochs would be recorded for it."""
    from emojify.training import quantize

    write_run(tmp_path / "run", "", [0.5])
    (tmp_path / "run" / "best.keras").write_bytes(b"the run's model")
    (tmp_path / "other.keras").write_bytes(b"another run's model")
    out_dir = tmp_path / "int8"
    assert quantize.main([str(tmp_path / "other.keras"), str(tmp_path), "--out-dir", str(out_dir),
                          "--run", str(tmp_path / "run")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (f"emojify-quantize: error: --run {tmp_path / 'run'}: {tmp_path / 'other.keras'} is neither its "
                    "best.keras nor its last.keras (nor a copy); give the run that trained it, or leave --run out")
    assert not out_dir.exists()


# --- train, resume, quantize -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(fer_root, tmp_path_factory):
    """One epoch on ~700 training images: the smoke run (the slowest test in the suite)."""
    pytest.importorskip("tensorflow")
    from emojify.training import train

    run = tmp_path_factory.mktemp("training") / "run"
    code = train.main([str(fer_root), "--out", str(run), "--epochs", "1", "--subset", "700", "--verbose", "0",
                       "--class-weight-power", "0.3"])
    return code, run


@needs_tensorflow
def test_training_writes_the_run_folder(trained):
    code, run = trained
    assert code == 0
    for name in ("best.keras", "last.keras", "history.json", "curves.png", "config.json"):
        assert (run / name).is_file(), name
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 1
    entry = history[0]
    assert entry["epoch"] == 1
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "val_loss_running_bn", "val_accuracy_running_bn"):
        assert np.isfinite(entry[key]), key
    assert 0.0 <= entry["val_accuracy"] <= 1.0
    with Image.open(run / "curves.png") as curves:
        assert curves.format == "PNG"
        curves.load()
    assert not list(run.glob("*.tmp*"))
    assert json.loads((run / "config.json").read_text())["class_weight_power"] == 0.3  # what --resume reuses


@needs_tensorflow
def test_trained_model_takes_faces_and_gives_probabilities(trained):
    import keras

    _, run = trained
    model = keras.models.load_model(run / "best.keras", compile=False)
    assert tuple(model.input_shape[1:]) == (48, 48, 1)
    out = model.predict(np.full((2, 48, 48, 1), 128, np.float32), verbose=0)
    assert out.shape == (2, NUM_CLASSES)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-4)


@needs_tensorflow
def test_the_history_scores_the_saved_model_itself(trained, fer_root):
    """best.keras carries exact batch-norm statistics, and its PublicTest score is the one recorded."""
    import keras

    from emojify.training.data import load_dataset
    from emojify.training.model import set_batchnorm_statistics
    from emojify.training.train import as_inputs, batchnorm_faces

    _, run = trained
    seed = json.loads((run / "config.json").read_text())["seed"]
    val = stratified_subset(load_dataset(fer_root)["val"], 700 // 4, seed)
    x, y = as_inputs(val)
    model = keras.models.load_model(run / "best.keras", compile=False)
    probabilities = model.predict(x, verbose=0)
    accuracy = np.mean(probabilities.argmax(1) == y.argmax(1))
    assert json.loads((run / "history.json").read_text())[0]["val_accuracy"] == pytest.approx(accuracy)
    # its statistics are already the exact ones over the run's training faces: setting them changes nothing
    set_batchnorm_statistics(model, batchnorm_faces(stratified_subset(load_dataset(fer_root)["train"], 700, seed)))
    np.testing.assert_allclose(model.predict(x, verbose=0), probabilities, atol=1e-5)


@needs_tensorflow
def test_a_model_distils_from_teachers_that_label_each_augmented_batch(trained, fer_root, tmp_path, caplog):
    from emojify.training import train

    _, teacher = trained
    run = tmp_path / "taught"
    with caplog.at_level(logging.INFO, logger="emojify.train"):
        code = train.main([str(fer_root), "--out", str(run), "--epochs", "1", "--subset", "300", "--verbose", "0",
                           "--teacher", str(teacher / "best.keras"), "--teach-augmented"])
    assert code == 0
    assert len(json.loads((run / "history.json").read_text())) == 1
    assert json.loads((run / "config.json").read_text())["teach_augmented"] is True  # what --resume reuses
    assert "label every augmented batch" in caplog.text


@needs_tensorflow
def test_starting_again_in_a_used_folder_is_refused(trained, fer_root, capsys):
    from emojify.training import train

    _, run = trained
    before = (run / "history.json").read_text()
    code = train.main([str(fer_root), "--out", str(run), "--epochs", "1", "--subset", "700", "--verbose", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(run) in err and "--resume" in err
    assert (run / "history.json").read_text() == before


@needs_tensorflow
def test_resume_without_a_run_is_refused(tmp_path, fer_root, capsys):
    from emojify.training import train

    code = train.main([str(fer_root), "--out", str(tmp_path / "empty"), "--resume"])
    assert code == 2
    assert str(tmp_path / "empty") in capsys.readouterr().err


@pytest.fixture(scope="module")
def resumed(trained, fer_root):
    """``--resume`` on the finished smoke run (a copy, so the other tests see the original)."""
    from emojify.training import train

    _, run = trained
    copy = run.with_name("resumed")
    shutil.copytree(run, copy)
    before = {name: sha256_file(copy / name) for name in ("best.keras", "history.json")}
    code = train.main([str(fer_root), "--out", str(copy), "--resume", "--verbose", "0"])
    return code, copy, before


@needs_tensorflow
def test_resume_of_a_finished_run_does_not_crash(resumed):
    code, run, _ = resumed
    assert code == 0
    assert len(json.loads((run / "history.json").read_text())) == 1
    assert (run / "best.keras").is_file()


@needs_tensorflow
def test_resume_of_a_finished_run_does_not_train_again(resumed):
    _, run, before = resumed
    assert {name: sha256_file(run / name) for name in before} == before


@pytest.fixture(scope="module")
def quantized(trained, fer_root, tmp_path_factory):
    from emojify.training import quantize

    _, run = trained
    out_dir = tmp_path_factory.mktemp("quantized") / "model"
    code = quantize.main([str(run / "best.keras"), str(fer_root), "--out-dir", str(out_dir), "--run", str(run),
                          "--samples", "100"])
    return code, out_dir, run


@needs_tensorflow
def test_quantize_writes_an_int8_model_with_metadata(quantized):
    from ai_edge_litert.interpreter import Interpreter

    code, out_dir, _ = quantized
    assert code == 0
    model = out_dir / "emotion_int8.tflite"
    for name in ("emotion_int8.tflite", "emotion.keras", "emotion_int8.json", "confusion_publictest.png"):
        assert (out_dir / name).is_file(), name
    interpreter = Interpreter(model_path=str(model))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    assert list(inp["shape"]) == [1, 48, 48, 1] and list(out["shape"]) == [1, NUM_CLASSES]
    with Image.open(out_dir / "confusion_publictest.png") as picture:
        assert picture.format == "PNG"
        picture.load()
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".")]  # no staging folder left


@needs_tensorflow
def test_quantize_metadata_describes_the_model(quantized, fer_root):
    _, out_dir, _ = quantized
    meta = json.loads((out_dir / "emotion_int8.json").read_text())
    assert meta["classes"] == list(CLASSES)
    assert meta["sha256"] == sha256_file(out_dir / "emotion_int8.tflite")
    assert meta["size_bytes"] == (out_dir / "emotion_int8.tflite").stat().st_size
    assert meta["float_model"]["sha256"] == sha256_file(out_dir / "emotion.keras")
    public = meta["metrics"]["publictest"]
    n_public = sum(len(fer_files(fer_root, "test", c, "PublicTest_")) for c in CLASSES)
    for kind in ("int8", "float"):
        assert 0.0 <= public[kind]["accuracy"] <= 1.0
        assert public[kind]["n"] == n_public
        assert np.array(public[kind]["confusion"]).shape == (7, 7)
    assert 0.0 <= public["int8_float_agreement"] <= 1.0
    assert meta["training"]["epochs_this_run"] == 1
    assert meta["training"]["recipe"]["subset"] == 700
    # the decision rule is fitted on PublicTest with the training split's class shares, and the Classifier uses it
    from emojify.classifier import Classifier
    from emojify.decision import DecisionRule, class_frequencies
    from emojify.training.data import load_dataset

    rule = DecisionRule.from_dict(meta["decision"])
    assert meta["decision"]["fitted_on"] == "publictest"
    np.testing.assert_allclose(rule.class_frequencies, class_frequencies(load_dataset(fer_root)["train"].y),
                               atol=1e-6)
    assert Classifier(out_dir / "emotion_int8.tflite").decision == rule
    assert {"balanced_accuracy", "ece"} <= set(public["int8_decision"])


@needs_tensorflow
def test_requantizing_a_shipped_model_keeps_its_training_record_and_accuracy(quantized, fer_root, tmp_path):
    from emojify.training import quantize
    from emojify.training.train import BATCHNORM_FACES

    _, out_dir, _ = quantized
    again = tmp_path / "again"
    assert quantize.main([str(out_dir / "emotion.keras"), str(fer_root), "--out-dir", str(again),
                          "--samples", "100"]) == 0
    before, after = (json.loads((d / "emotion_int8.json").read_text()) for d in (out_dir, again))
    assert after["training"] == before["training"] and after["training"]["epochs_this_run"] == 1
    assert after["decision"] == before["decision"]  # the same model and data: the same rule
    assert abs(after["quantization"]["batchnorm_statistics_images"] - BATCHNORM_FACES) <= NUM_CLASSES
    # its batch-norm statistics were exact already, so the float model scores the same, face for face
    public = before["metrics"]["publictest"]["float"]
    assert after["metrics"]["publictest"]["float"]["confusion"] == public["confusion"]


@needs_tensorflow
def test_int8_model_agrees_with_the_float_model(quantized, fer_root):
    """Quantization (and the int8 input convention) keep the float model's probabilities."""
    import keras

    from emojify.classifier import Classifier
    from emojify.imageio import read_image
    from emojify.preprocess import prepare_face, to_batch
    from emojify.training.data import load_dataset
    from emojify.training.model import set_batchnorm_statistics
    from emojify.training.train import batchnorm_faces

    _, out_dir, run = quantized
    files = [p for c in CLASSES for p in fer_files(fer_root, "test", c, "PublicTest_", 8)]
    faces = np.stack([prepare_face(read_image(p)) for p in files])
    int8 = Classifier(out_dir / "emotion_int8.tflite").predict(faces)
    float_model = keras.models.load_model(out_dir / "emotion.keras", compile=False)
    floats = float_model.predict(to_batch(faces), verbose=0)
    assert np.abs(int8 - floats).sum(axis=1).mean() < 0.1
    # the shipped float model is the trained one, its batch-norm statistics set over the full training split
    trained = keras.models.load_model(run / "best.keras", compile=False)
    set_batchnorm_statistics(trained, batchnorm_faces(load_dataset(fer_root)["train"]))
    np.testing.assert_allclose(floats, trained.predict(to_batch(faces), verbose=0), atol=1e-5)


@needs_tensorflow
def test_shipped_float_model_leaves_the_optimizer_state_behind(quantized):
    """model/ carries the weights to train on from, not AdamW's moments (three times their size)."""
    import keras

    _, out_dir, run = quantized
    assert getattr(keras.models.load_model(out_dir / "emotion.keras"), "optimizer", None) is None
    assert (out_dir / "emotion.keras").stat().st_size < (run / "best.keras").stat().st_size / 2


@needs_tensorflow
def test_classifier_and_evaluate_use_the_new_model(quantized, fer_root, tmp_path):
    from emojify.classifier import Classifier

    _, out_dir, _ = quantized
    model = out_dir / "emotion_int8.tflite"
    classifier = Classifier(model)
    assert classifier.info.sha256 == sha256_file(model)
    folder = tmp_path / "faces"
    for name in ("happy", "sad", "angry"):
        (folder / name).mkdir(parents=True)
        for path in fer_files(fer_root, "test", name, "PublicTest_", 3):
            shutil.copyfile(path, folder / name / path.name)
    code, out, err = run_cli("evaluate", folder, "--json", "--model", model)
    assert code == 0, err
    report = load_json_output(out)
    assert report["n"] == 9
    assert report["model_sha256"] == sha256_file(model)


# --- the runtime stays free of TensorFlow ------------------------------------------------------------

RUNTIME_SCRIPT = """
import importlib.util, json, sys
import emojify.cli, emojify.pipeline
if importlib.util.find_spec("emojify.app") is not None:
    try:
        import emojify.app
    except ImportError as exc:  # a machine without Tk still runs predict/evaluate
        if exc.name not in ("tkinter", "_tkinter"):
            raise
image, folder = sys.argv[1], sys.argv[2]
codes = [emojify.cli.main(["predict", "--json", image]), emojify.cli.main(["evaluate", folder, "--json"])]
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
print("RUNTIME-REPORT " + json.dumps({"codes": codes, "heavy": heavy}), file=sys.stderr)
"""


def test_runtime_never_imports_tensorflow(astronaut_jpg, tmp_path):
    import cv2

    folder = tmp_path / "faces"
    (folder / "happy").mkdir(parents=True)
    cv2.imwrite(str(folder / "happy" / "a.png"), cv2.resize(cv2.imread(str(astronaut_jpg)), (48, 48)))
    proc = subprocess.run([sys.executable, "-c", RUNTIME_SCRIPT, str(astronaut_jpg), str(folder)],
                          capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    reports = [line for line in proc.stderr.splitlines() if line.startswith("RUNTIME-REPORT ")]
    assert proc.returncode == 0 and reports, proc.stderr
    report = json.loads(reports[-1].split(" ", 1)[1])
    assert report["codes"] == [0, 0]
    assert report["heavy"] == [], f"the runtime imported {report['heavy'][:5]}"


# --- the whole retraining chain -------------------------------------------------------------------

RETRAIN = REPO / "packaging" / "retrain.sh"


def retrain(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(["bash", str(RETRAIN), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)


@pytest.fixture
def tiny_fer_and_model(tmp_path, monkeypatch):
    """A generated FER-style folder (6 training and 2 PublicTest faces a class) and a copy of the shipped
    model; the training's decoded-data cache in the test's folder, not the home folder's for good."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=6, public=2, private=0)
    return tmp_path / "fer", copy_model(tmp_path / "model").parent


@needs_tensorflow
def test_retrain_script_trains_quantizes_evaluates_and_installs(tiny_fer_and_model, tmp_path):
    data, model_dir = tiny_fer_and_model
    run = tmp_path / "run"
    done = retrain(data, "--run", run, "--epochs", "1", "--install", "--model-dir", model_dir,
                   "--", "--verbose", "0", "--no-jit", "--batch-size", "16")
    assert done.returncode == 0, done.stderr[-2000:]
    steps = [line for line in done.stdout.splitlines() if line.startswith("== retrain.sh step")]
    assert [s.split()[3] for s in steps] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    # the executable bundles the checkout's model/: it is not rebuilt (with the old model) for another folder
    assert done.stdout.splitlines()[-1] == (f"skipped: the executable bundles the checkout's model/, not {model_dir}; "
                                            "to ship this model, install it into model/ and run bash packaging/build_exe.sh")
    for figure in ("accuracy", "balanced accuracy", "ECE", "dim accuracy kept"):
        assert any(line.startswith(figure) and len(line.split()) >= 3 for line in done.stdout.splitlines()), figure
    installed = json.loads((model_dir / "emotion_int8.json").read_text())
    assert installed["sha256"] == sha256_file(run / "model" / "emotion_int8.tflite")
    assert installed["sha256"] == sha256_file(model_dir / "emotion_int8.tflite")
    assert installed["decision"]["fitted_on"] == "publictest" and installed["training"]["epochs_this_run"] == 1


def test_retrain_script_stops_at_the_failing_step_in_one_line(tiny_fer_and_model, tmp_path):
    data, model_dir = tiny_fer_and_model
    before = sha256_file(model_dir / "emotion_int8.tflite")
    failed = retrain(data, "--run", tmp_path / "run", "--epochs", "1", "--install", "--no-exe",
                     "--model-dir", model_dir, "--", "--blocks", "not-blocks")
    assert failed.returncode != 0
    assert failed.stderr.strip().splitlines()[-1] == "retrain.sh: step 1/5 train failed; nothing after it was done"
    assert "2/5" not in failed.stdout
    assert sha256_file(model_dir / "emotion_int8.tflite") == before
    missing = retrain(tmp_path / "nowhere")
    assert missing.returncode != 0 and missing.stderr.strip().splitlines() == [
        f"retrain.sh: {tmp_path / 'nowhere'}: not a FER2013 image folder (expected train/ and test/)"]


# --- where emojify-quantize writes --------------------------------------------------------------------

def test_quantize_never_writes_into_an_existing_folder_unless_installing(tmp_path, capsys):
    from emojify.training import quantize

    keras_file = tmp_path / "best.keras"
    keras_file.write_bytes(b"not looked at")
    taken = tmp_path / "taken"
    taken.mkdir()
    assert quantize.main([str(keras_file), str(tmp_path), "--out-dir", str(taken)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [  # the folder named once, where it was twice
        f"emojify-quantize: error: {taken}: already exists; give a new --out-dir"]
    assert list(taken.iterdir()) == []
    model_dir = quantize.install_dir()  # the kiosk's own: --install is the way to replace its model
    assert quantize.main([str(keras_file), str(tmp_path), "--out-dir", str(model_dir)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"emojify-quantize: error: {model_dir}: already exists; give a new --out-dir, or --install to replace it"]
    assert quantize.default_out_dir().name.startswith("quantized-") and not quantize.default_out_dir().exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_quantize_into_a_folder_that_cannot_be_written_is_one_line_before_any_work(tmp_path, capsys):
    """/proc: a folder in which nobody, root included, can make a file (root may write a chmod-ed one).
    The model is not one: loading it first would fail with another message."""
    from emojify.training import quantize

    (tmp_path / "not-a-model.keras").write_text("not a model")
    out_dir = Path("/proc/int8")
    assert quantize.main([str(tmp_path / "not-a-model.keras"), str(tmp_path), "--out-dir", str(out_dir)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"emojify-quantize: error: --out-dir {out_dir}: cannot write in the folder /proc (")


def test_a_refused_quantize_run_leaves_no_folder_behind(tmp_path, capsys):
    """runs/new/ was made for --out-dir runs/new/int8 before the model was found to be no model, and stayed."""
    from emojify.training import quantize

    (tmp_path / "not-a-model.keras").write_text("not a model")
    out_dir = tmp_path / "runs" / "new" / "int8"
    assert quantize.main([str(tmp_path / "not-a-model.keras"), str(tmp_path), "--out-dir", str(out_dir)]) == 2
    assert "not a readable .keras model" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_a_sigterm_ignored_by_the_parent_stays_ignored():
    """``trap '' TERM`` (or nohup's parent) told the process to ignore SIGTERM: the tools keep it so."""
    from emojify.errors import until_interrupted

    seen = []
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        assert until_interrupted("tool", lambda: seen.append(signal.getsignal(signal.SIGTERM)) or 0, str) == 0
        assert seen == [signal.SIG_IGN] and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


@STOPS
def test_quantize_stopped_with_ctrl_c_is_one_line_and_writes_nothing(stop, stopped_code, tmp_path, monkeypatch,
                                                                      capsys):
    from emojify.training import quantize

    keras_like(tmp_path / "best.keras")
    handler = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(quantize, "load_dataset", stop)  # while the data loads, the first long step
    out_dir = tmp_path / "int8"
    argv = [str(tmp_path / "best.keras"), str(tmp_path), "--out-dir", str(out_dir)]
    assert exit_code(quantize.main, argv) == stopped_code
    assert signal.getsignal(signal.SIGTERM) is handler  # put back as it was
    assert capsys.readouterr().err.strip().splitlines() == [
        f"emojify-quantize: stopped; nothing was written to {out_dir}; run it again"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]


@needs_tensorflow
def test_quantize_prints_only_its_json_result_on_stdout(tmp_path, monkeypatch, capfd):
    """``emojify-quantize ... | jq``: TensorFlow's converter printed some 20 lines ("Saved artifact at
    ...") on stdout before the result; they go to stderr, and stdout is one JSON document."""
    from emojify.training import quantize
    from emojify.training.model import build_model, parse_blocks

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    build_model(parse_blocks("8x1")).save(tmp_path / "small.keras")
    out_dir = tmp_path / "int8"
    assert quantize.main([str(tmp_path / "small.keras"), str(tmp_path / "fer"), "--out-dir", str(out_dir),
                          "--samples", "7"]) == 0
    out = capfd.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n"), out
    assert load_json_output(out)["folder"] == str(out_dir)


@needs_tensorflow
@pytest.mark.parametrize(("takes", "classes"), [((48, 48, 1), 5), ((64, 64, 1), 7)])
def test_quantizing_a_model_of_another_shape_is_one_line_before_converting(tmp_path, monkeypatch, capsys,
                                                                          takes, classes):
    """Said once the model is loaded, in plain numbers; it was said after the conversion, naming the
    hidden folder and NumPy's types ("[np.int32(1), ...]"), or was a Keras error."""
    from emojify.training import quantize

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(quantize, "convert_int8", lambda *args: pytest.fail("the model was converted"))
    make_fer_folder(tmp_path / "fer", train=1, public=1, private=0)
    model = keras_model_of_shape(tmp_path / "other.keras", takes, classes)
    out_dir = tmp_path / "int8"
    assert quantize.main([str(model), str(tmp_path / "fer"), "--out-dir", str(out_dir)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"emojify-quantize: error: {model}: takes {takes}, gives {classes} classes; expected (48, 48, 1) and 7 classes"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "fer", "other.keras"]


def test_a_model_s_shapes_are_said_in_plain_numbers():
    from emojify.training.train import shape_problem

    assert shape_problem([(None, 48, 48, 1)], [(None, 7)]) is None
    assert shape_problem([(np.int32(1), np.int32(48), np.int32(48), np.int32(1))], [(np.int32(1), np.int32(5))]) \
        == "takes (48, 48, 1), gives 5 classes; expected (48, 48, 1) and 7 classes"


def test_the_model_and_its_metadata_are_swapped_as_one_pair(tmp_path):
    from emojify.training.quantize import OUTPUT_FILES, install, staged_folder

    model = tmp_path / "model"
    model.mkdir()
    for name, text in (("emotion_int8.tflite", "old model"), ("emotion_int8.json", "old meta"),
                       ("face_detection_short_range.tflite", "detector"), ("confusion_publictest.png", "old model's")):
        (model / name).write_text(text)
    with pytest.raises(RuntimeError), staged_folder(model, replace=True) as staging:  # a crash half-way
        (staging / "emotion_int8.tflite").write_text("new model")
        raise RuntimeError("the machine fell over")
    assert (model / "emotion_int8.tflite").read_text() == "old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging folder left behind
    with staged_folder(model, replace=True, renewed=OUTPUT_FILES) as staging:  # as quantize writes a model
        (staging / "emotion_int8.tflite").write_text("new model")
        (staging / "emotion_int8.json").write_text("new meta")
        assert (model / "emotion_int8.json").read_text() == "old meta"  # nothing changes until the end
    assert {p.name: p.read_text() for p in model.iterdir()} == {  # the old model's confusion picture is not the new one's
        "emotion_int8.tflite": "new model", "emotion_int8.json": "new meta",
        "face_detection_short_range.tflite": "detector"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    (model / "emotion.keras").write_text("the float model")  # camera_rule's output holds the int8 pair alone:
    (tmp_path / "camera").mkdir()  # installed, it keeps the float model of the same network beside it
    for name in ("emotion_int8.tflite", "emotion_int8.json"):
        (tmp_path / "camera" / name).write_text(f"camera {name}")
    install(tmp_path / "camera", model)
    assert (model / "emotion.keras").read_text() == "the float model"
    assert (model / "emotion_int8.json").read_text() == "camera emotion_int8.json"


def test_a_swap_stopped_between_its_renames_puts_the_old_model_folder_back(tmp_path, monkeypatch):
    """Ctrl-C after the old folder was moved aside, before the new one took its name: the kiosk's
    model/ is there as it was, not gone (with the old one hidden as .model.old-*)."""
    from emojify.training import quantize

    model = tmp_path / "model"
    model.mkdir()
    (model / "emotion_int8.tflite").write_text("old model")
    real_replace, renames = os.replace, []

    def ctrl_c_at_the_second_rename(source, destination):
        renames.append(Path(source).name)
        if len(renames) == 2:
            raise KeyboardInterrupt
        real_replace(source, destination)

    monkeypatch.setattr(quantize.os, "replace", ctrl_c_at_the_second_rename)
    with pytest.raises(KeyboardInterrupt), quantize.staged_folder(model, replace=True) as staging:
        (staging / "emotion_int8.tflite").write_text("new model")
    monkeypatch.undo()
    assert {p.name: p.read_text() for p in model.iterdir()} == {"emotion_int8.tflite": "old model"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_retrain_installs_a_run_s_model_as_one_swap(tmp_path):
    from emojify.training.quantize import OUTPUT_FILES, install

    run, model = tmp_path / "run" / "model", tmp_path / "model"
    run.mkdir(parents=True)
    model.mkdir()
    for name in OUTPUT_FILES:
        (run / name).write_text(f"new {name}")
        (model / name).write_text(f"old {name}")
    (model / "face_detection_short_range.tflite").write_text("detector")
    install(run, model)
    assert {p.name: p.read_text() for p in model.iterdir()} == {
        **{name: f"new {name}" for name in OUTPUT_FILES}, "face_detection_short_range.tflite": "detector"}


def test_install_goes_into_the_model_folder_the_kiosk_loads_wherever_it_is_run_from(tmp_path, monkeypatch):
    """``emojify-quantize --install`` run outside the checkout still replaces the kiosk's model/, and
    makes no ./model of its own there."""
    from emojify.classifier import default_model_path
    from emojify.training.quantize import install_dir

    monkeypatch.chdir(tmp_path)
    assert install_dir() == default_model_path().parent == REPO / "model"
