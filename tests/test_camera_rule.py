"""``python -m emojify.training.camera_rule``: the fit/development split of real photos and the model it writes."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import copy_model

from emojify.classifier import Classifier
from emojify.decision import fit_camera_bias
from emojify.labels import CLASSES
from emojify.metrics import summarize
from emojify.resources import SAMPLE_FACE
from emojify.training import camera_rule


def test_one_persons_photos_stay_on_one_side_and_the_split_is_stable(tmp_path):
    assert camera_rule.person(tmp_path / "George_W_Bush_0012.jpg") == "George_W_Bush"
    assert camera_rule.person(tmp_path / "Avinash_10.jpg") == "Avinash"
    assert camera_rule.part_of(tmp_path / "George_W_Bush_0012.jpg") == camera_rule.part_of(tmp_path / "x" / "George_W_Bush_0201.jpg")
    names = [f"Person_{i}_0001.jpg" for i in range(200)]
    parts = [camera_rule.part_of(tmp_path / n) for n in names]
    assert 70 < parts.count("dev") < 130  # about half each
    assert camera_rule.part_of(tmp_path / "George_W_Bush_0012.jpg") == "dev"  # CRC-32: the same on every machine


def astronaut_photos(root, per_class: int):
    """``per_class`` pictures of the smiling astronaut, shifted, in happy/ and in sad/ (mirrored), one person each."""
    face = cv2.imread(str(SAMPLE_FACE))
    for label, picture in (("happy", face), ("sad", np.ascontiguousarray(face[:, ::-1]))):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            assert cv2.imwrite(str(root / label / f"{label}_person_{i}_0001.jpg"), np.roll(picture, 3 * i, axis=1))


def test_fits_a_bias_into_a_new_folder_and_leaves_the_model_alone(tmp_path, monkeypatch):
    """The same face labelled happy and sad, 80 of each: a new model folder with the same network and a camera
    bias that lifts happy (measured: happy 0.5, sad 0), so the one fit photo shown as fear without it is shown as
    happy and the balanced accuracy over happy and sad on the fit photos goes up (0.4875 to 0.5);
    the model it came from unchanged."""
    fitted_on = {}

    def fit(labels, shown, classes):
        fitted_on.update(labels=labels, shown=shown, classes=classes)
        return fit_camera_bias(labels, shown, classes)

    monkeypatch.setattr(camera_rule, "fit_camera_bias", fit)
    source = copy_model(tmp_path / "model")
    before = source.with_suffix(".json").read_text()
    astronaut_photos(tmp_path / "photos", 80)
    code = camera_rule.main([str(tmp_path / "photos"), "--out", str(tmp_path / "new"), "--model", str(source),
                             "--parts", str(tmp_path / "parts")])
    assert code == 0
    assert source.with_suffix(".json").read_text() == before
    new = Classifier(tmp_path / "new" / source.name)
    assert new.info.sha256 == Classifier(source).info.sha256
    bias = dict(zip(CLASSES, new.decision.camera_bias, strict=True))
    assert bias["disgust"] == bias["fear"] == bias["angry"] == 0.0
    assert fitted_on["classes"] == (CLASSES.index("happy"), CLASSES.index("sad"))
    assert bias["happy"] != 0.0 or bias["sad"] != 0.0, bias
    found = fitted_on["labels"] >= 0
    labels, shown = fitted_on["labels"][found], fitted_on["shown"][found]
    unbiased = summarize(labels, shown.argmax(axis=1))["balanced_accuracy"]
    biased_log = np.log(np.maximum(shown, 1e-12)) + np.array(new.decision.camera_bias)  # the bias on the log-probabilities
    biased = summarize(labels, biased_log.argmax(axis=1))["balanced_accuracy"]
    assert biased > unbiased, (biased, unbiased, bias)
    assert len(list((tmp_path / "parts").rglob("*.jpg"))) == 160
    note = json.loads((tmp_path / "new" / source.with_suffix(".json").name).read_text())
    assert note["decision"]["camera_bias_fitted_on"]["part"].startswith("fit")


def test_too_few_photos_to_fit_is_one_line_and_exit_code_2(tmp_path, capsys):
    """No folder left behind either: runs/ was made for --out runs/new and stayed, empty."""
    astronaut_photos(tmp_path / "photos", 4)
    code = camera_rule.main([str(tmp_path / "photos"), "--out", str(tmp_path / "runs" / "new")])
    assert code == 2 and "nothing to fit" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_the_model_lands_beside_whatever_else_the_out_folder_holds(tmp_path):
    """--out a folder that holds more (a run's backup/, the --parts folders): the model and its metadata
    are added, nothing else there is touched."""
    source = copy_model(tmp_path / "model")
    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "weights.keras").write_text("the run's backup")
    (out / source.name).write_bytes(b"old model")
    written = camera_rule.write_model(source, (0.5,) + (0.0,) * (len(CLASSES) - 1), {}, out)
    assert Classifier(written).decision.camera_bias[0] == 0.5
    assert (out / "backup" / "weights.keras").read_text() == "the run's backup"
    assert sorted(p.name for p in out.iterdir()) == sorted(["backup", source.name, source.with_suffix(".json").name])


def test_refuses_to_write_over_the_models_own_folder(tmp_path, capsys):
    source = copy_model(tmp_path / "model")
    (tmp_path / "photos" / "happy").mkdir(parents=True)
    code = camera_rule.main([str(tmp_path / "photos"), "--out", str(source.parent), "--model", str(source)])
    assert code == 2 and "write a new one" in capsys.readouterr().err


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_a_bad_photo_folder_is_one_line_and_exit_code_2(tmp_path, capsys, folder):
    (tmp_path / "empty").mkdir()
    code = camera_rule.main([str(tmp_path / folder), "--out", str(tmp_path / "new")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a user's stderr is."""

    def isatty(self) -> bool:
        return True


def test_shows_a_progress_bar_over_the_photos_on_a_terminal(tmp_path, monkeypatch):
    astronaut_photos(tmp_path / "photos", 4)
    fit_photos = len(camera_rule.split_photos(tmp_path / "photos")["fit"])
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert camera_rule.main([str(tmp_path / "photos"), "--out", str(tmp_path / "new")]) == 2  # too few to fit
    shown = sys.stderr.getvalue()
    assert f"0/{fit_photos} [" in shown and "img" in shown, shown


@pytest.mark.parametrize("place", ["under a file", "in /proc"])
def test_an_out_folder_that_cannot_be_written_is_one_line_before_any_photo_is_read(tmp_path, monkeypatch, capsys, place):
    """A file in the way, or a folder in which nobody can make a file (/proc: root may write a chmod-ed one)."""
    if place == "in /proc" and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc")
    out, reason = {"under a file": (tmp_path / "a-file" / "new",
                                    f"cannot make the folder {tmp_path / 'a-file'} (a file is in the way)"),
                   "in /proc": (Path("/proc/new"), "cannot write in the folder /proc (")}[place]
    astronaut_photos(tmp_path / "photos", 4)
    (tmp_path / "a-file").write_text("not a folder")
    read, real_read = [], camera_rule.read_image_scaled
    monkeypatch.setattr(camera_rule, "read_image_scaled", lambda path: read.append(path) or real_read(path))
    code = camera_rule.main([str(tmp_path / "photos"), "--out", str(out)])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and read == []
    assert line.startswith(f"emojify camera_rule: error: --out {out}: {reason}")


@pytest.mark.parametrize(("stop", "code", "said"), [(OSError(errno.ENOSPC, "No space left on device"), 2,
                                                     "error: {out}: No space left on device"),
                                                    (KeyboardInterrupt, 130, "stopped; nothing was written to {out}")],
                         ids=["full-disk", "ctrl-c"])
@pytest.mark.parametrize("failing", ["shutil.copyfile", "tempfile.mkdtemp"])
def test_a_model_that_could_not_be_written_leaves_no_folder_made_for_it(tmp_path, monkeypatch, capsys, stop, code,
                                                                        said, failing):
    """--out runs/new: a full disk or Ctrl-C while the model was copied, or its hidden folder made, left
    runs/new/ behind, empty (it was made for the copy after the folders the run had made were noted),
    and so runs/ too; the full disk was the bare system error, naming no folder."""
    monkeypatch.setattr(camera_rule, "split_photos", lambda photos: {"fit": [], "dev": []})
    monkeypatch.setattr(camera_rule, "shown_probabilities", lambda model, photos, bar: (
        np.full(100, CLASSES.index("happy")), np.full((100, len(CLASSES)), 1 / len(CLASSES), np.float32)))
    module, name = failing.split(".")
    original = getattr(getattr(camera_rule, module), name)

    def fail(*args, prefix="", **kwargs):  # the model's copy, or its hidden folder (not the write check before)
        if module == "tempfile" and prefix != ".camera-":
            return original(*args, prefix=prefix, **kwargs)
        raise stop

    monkeypatch.setattr(getattr(camera_rule, module), name, fail)
    assert camera_rule.main([str(tmp_path / "photos"), "--out", str(tmp_path / "runs" / "new")]) == code
    (line,) = capsys.readouterr().err.strip().splitlines()  # the folder named, not the bare system error
    assert said.format(out=tmp_path / "runs" / "new") in line
    assert not (tmp_path / "runs").exists()


def test_stopped_with_ctrl_c_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    astronaut_photos(tmp_path / "photos", 4)
    monkeypatch.setattr(camera_rule, "tuned_classes", lambda labels: os.kill(os.getpid(), signal.SIGINT))
    try:
        code = camera_rule.main([str(tmp_path / "photos"), "--out", str(tmp_path / "runs" / "new")])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C ended the command with a KeyboardInterrupt traceback")
    assert code == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        f"emojify camera_rule: stopped; nothing was written to {tmp_path / 'runs' / 'new'}; run it again"]
    assert not (tmp_path / "runs").exists()  # nor the folder made for it
