"""The measuring scripts of ``packaging/`` given bad input: one error line naming the script and the
problem, exit code 2, before any work and with nothing written; their figures mean what they say;
every option's help says what it does.

The scripts run as a user runs them, in a subprocess (``generated_pictures.py``'s failing disk is
simulated in-process). None needs FER2013.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import assert_one_error_line, load_script, run_script


def assert_refused(done: subprocess.CompletedProcess, script: str, *words: str) -> None:
    """The script's one error line (after argparse's usage line, if any), exit code 2, holding ``words``."""
    line = assert_one_error_line(done, script)
    for word in words:
        assert word in line, (word, line)


@pytest.mark.parametrize("frames", ["0", "-3"])
def test_generated_bench_refuses_no_frames(frames):
    assert_refused(run_script("generated_bench", "--frames", frames), "generated_bench", "--frames")


@pytest.mark.parametrize("side", ["0", "-10", "1"])
def test_faceless_photos_refuses_a_side_with_no_picture_left(side):
    assert_refused(run_script("faceless_photos", "--side", side), "faceless_photos", "--side", side)


HUGE = "99999999999999999999"


@pytest.mark.parametrize(("script", "argv", "words"), [
    ("faceless_photos", ["--side", HUGE], ["--side", "at most 8192"]),
    ("party_coverage", ["nowhere", "--sides", HUGE], ["--sides", "at most 8192"]),
    ("render_emojis", ["--size", HUGE], ["--size must be 16 .. 4096"]),
    ("window_cost", ["--sizes", "99999999x99999999"], ["--sizes", "8192x8192"])])
def test_a_size_past_any_screen_or_photo_is_refused_in_one_line(tmp_path, script, argv, words):
    """Each was an OpenCV or OverflowError traceback (render_emojis's after making its --out folder)."""
    done = run_script(script, *argv, "--out", str(tmp_path / "out")) if script == "render_emojis" \
        else run_script(script, *argv)
    assert_refused(done, script, *words)
    assert not (tmp_path / "out").exists()


def test_generated_pictures_with_a_folder_in_a_picture_s_place_draws_and_replaces_nothing(tmp_path):
    """A folder where the second picture goes: said before the first is replaced, not after."""
    (tmp_path / "generated-emoji-faces.png").write_bytes(b"old picture")
    (tmp_path / "generated-emoji-bases.png").mkdir()
    assert_refused(run_script("generated_pictures", "--out", str(tmp_path)), "generated_pictures",
                   "generated-emoji-bases.png is a folder")
    assert (tmp_path / "generated-emoji-faces.png").read_bytes() == b"old picture"


@pytest.mark.parametrize("seconds", ["inf", "nan"])
def test_window_cost_refuses_endless_seconds_before_starting_a_screen(seconds):
    assert_refused(run_script("window_cost", "--seconds", seconds, "--sizes", "320x240"), "window_cost",
                   "--seconds", seconds)


def test_soak_refuses_a_single_block_that_compares_nothing():
    """Growth and drift compare the first block with the last: one block would always pass, at +0.00 MB."""
    assert_refused(run_script("soak", "--frames", "10", "--block", "10"), "soak", "two blocks")


def test_soak_without_matplotlib_refuses_plot_before_the_soak(tmp_path):
    """``--plot`` where matplotlib is missing: the pip package named at once, not a traceback after the soak."""
    hidden = tmp_path / "hidden" / "matplotlib"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('No module named matplotlib (hidden by the test)')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hidden.parent), os.environ.get("PYTHONPATH", "")])}
    done = run_script("soak", "--frames", "20", "--block", "10", "--plot", str(tmp_path / "soak.png"), env=env)
    assert_refused(done, "soak", "--plot", "pip install matplotlib")
    assert not (tmp_path / "soak.png").exists()


def test_faceless_photos_says_whether_a_box_is_on_the_astronauts_face():
    """At 32 pixels the one box it gives the astronaut lies beside her face: the report must say so."""
    pytest.importorskip("skimage")
    done = run_script("faceless_photos", "--side", "32")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("astronaut: 1 box(es), 0 on her face"), done.stdout
    done = run_script("faceless_photos", "--side", "32", "--json")
    report = json.loads(done.stdout)
    assert (report["astronaut_boxes"], report["astronaut_on_face"]) == (1, 0)


def test_generated_pictures_keeps_the_old_pictures_when_writing_fails(tmp_path, monkeypatch, capsys):
    """A disk that fills while a picture is written: the old picture stays whole, no half file or
    temporary file is left, and the script says so in one line."""
    from PIL import Image

    script = load_script("generated_pictures")
    old = {name: f"old {name}".encode() for name in ("generated-emoji-faces.png", "generated-emoji-bases.png")}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    save = Image.Image.save
    for failing in ("faces", "bases"):  # the second failing too: the first was then replaced, the pair mixed

        def half_then_full(image, fp, *args, failing=failing, **kwargs):
            if isinstance(fp, str | os.PathLike) and failing in Path(fp).name:
                Path(fp).write_bytes(b"\x89PNG half")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return save(image, fp, *args, **kwargs)

        monkeypatch.setattr(Image.Image, "save", half_then_full)
        with pytest.raises(SystemExit) as stopped:
            script.main(["--out", str(tmp_path)])
        assert stopped.value.code == 2
        said = capsys.readouterr().err.strip().splitlines()[-1]  # in-process: no script name
        assert f"error: --out: cannot write {tmp_path / f'generated-emoji-{failing}.png'}" in said
        assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == old, failing
    monkeypatch.setattr(Image.Image, "save", save)
    replace = os.replace

    def refused(src, dst):  # the faces' picture may not be replaced (a read-only file system, an I/O error)
        if str(dst).endswith("faces.png"):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src), None, str(dst))
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(SystemExit):
        script.main(["--out", str(tmp_path)])
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"error: --out: cannot write {tmp_path / 'generated-emoji-faces.png'} (Input/output error)" in said, said
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == old  # the bases' not moved in after it
    monkeypatch.setattr(os, "replace", replace)
    import emojify.fileio

    def shut(*args, **kwargs):  # a folder that takes no new file
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(emojify.fileio.tempfile, "mkstemp", shut)
    with pytest.raises(SystemExit):
        script.main(["--out", str(tmp_path)])
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"cannot write {tmp_path / 'generated-emoji-bases.png'} (Permission denied)" in said, said  # not "None"
