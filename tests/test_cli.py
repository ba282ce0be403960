"""The ``emojify`` command as a user runs it: predict, self-test, doctor, bench, help, bad input."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import (
    ASTRONAUT_FACE,
    CLI_TIMEOUT,
    REPO,
    load_json_output,
    overlap_fraction,
    run_cli,
    sha256_file,
    stderr_lines,
)
from PIL import Image

from emojify.cli import main
from emojify.imageio import ImageError, read_image
from emojify.labels import CLASSES, EMOJI

BIG_SIDE = 12000


@pytest.fixture(scope="module")
def images(astronaut, tmp_path_factory):
    """The astronaut in the formats people have, plus pictures without a face."""
    folder = tmp_path_factory.mktemp("images")
    gray = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    paths = {name: folder / name for name in (
        "astronaut.jpg", "astronaut.png", "gray.png", "gray.jpg", "sixteen-bit.png", "sixteen-bit-gray.png",
        "rgba.png", "flat.png", "noise.jpg")}
    cv2.imwrite(str(paths["astronaut.jpg"]), astronaut, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(str(paths["astronaut.png"]), astronaut)
    cv2.imwrite(str(paths["gray.png"]), gray)
    cv2.imwrite(str(paths["gray.jpg"]), gray, [cv2.IMWRITE_JPEG_QUALITY, 85])
    cv2.imwrite(str(paths["sixteen-bit.png"]), astronaut.astype(np.uint16) * 257)
    cv2.imwrite(str(paths["sixteen-bit-gray.png"]), gray.astype(np.uint16) * 257)
    rgba = np.dstack([astronaut[:, :, ::-1], np.full(gray.shape, 255, np.uint8)])
    rgba[:60, :60, 3] = 0  # a transparent corner
    Image.fromarray(rgba, "RGBA").save(paths["rgba.png"])
    cv2.imwrite(str(paths["flat.png"]), np.full((300, 400, 3), 128, np.uint8))
    rng = np.random.default_rng(0)
    cv2.imwrite(str(paths["noise.jpg"]), rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    assert all(p.is_file() for p in paths.values())
    return paths


def predict_json(*args) -> tuple[int, list, str]:
    code, out, err = run_cli("predict", "--json", *args)
    assert "Traceback" not in err, err
    return code, load_json_output(out), err


def assert_is_the_astronauts_face(entry: dict, scale: float = 1.0) -> None:
    reference = tuple(round(v * scale) for v in ASTRONAUT_FACE)
    assert entry["box"] is not None, entry
    assert overlap_fraction(entry["box"], reference) > 0.5, (entry["box"], reference)


# --- predict -------------------------------------------------------------------------------------

def test_predict_json_gives_one_object_per_image(images):
    code, results, err = predict_json(images["astronaut.png"])
    assert code == 0, err
    assert isinstance(results, list) and len(results) == 1
    entry = results[0]
    assert entry["path"] == str(images["astronaut.png"])
    assert len(entry["box"]) == 4 and all(isinstance(v, int) for v in entry["box"])
    x, y, w, h = entry["box"]
    assert x >= 0 and y >= 0 and x + w <= 512 and y + h <= 512 and w > 20 and h > 20
    assert entry["label"] in CLASSES
    assert list(entry["probabilities"]) == list(CLASSES)
    assert sum(entry["probabilities"].values()) == pytest.approx(1.0, abs=0.01)
    assert entry["label"] == max(entry["probabilities"], key=entry["probabilities"].get)
    assert entry["emoji"] == EMOJI[entry["label"]]


def test_predict_astronaut_png_is_happy(images):
    """Needs the real model."""
    code, results, err = predict_json(images["astronaut.png"])
    assert code == 0, err
    assert_is_the_astronauts_face(results[0])
    assert results[0]["label"] == "happy"


def test_predict_astronaut_jpeg_finds_her_face_and_says_happy(images):
    code, results, err = predict_json(images["astronaut.jpg"])
    assert code == 0, err
    assert_is_the_astronauts_face(results[0])
    assert results[0]["label"] == "happy"


def test_predict_text_output_names_each_image(images):
    code, out, err = run_cli("predict", images["astronaut.png"], images["flat.png"])
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(str(images["astronaut.png"])) and any(c in lines[0] for c in CLASSES)
    assert lines[1].startswith(str(images["flat.png"])) and "no face" in lines[1]


def test_an_output_that_cannot_show_the_emoji_gets_it_escaped(images):
    """A terminal in an old encoding (LANG=C with PYTHONUTF8=0, or latin-1): the line with the emoji
    written as \\U0001f604, not a UnicodeEncodeError traceback."""
    code, out, err = run_cli("predict", images["astronaut.png"], env={"PYTHONIOENCODING": "latin-1"})
    assert code == 0 and err == "", err
    code, out_json, err = run_cli("predict", "--json", images["astronaut.png"], env={"PYTHONIOENCODING": "latin-1"})
    assert code == 0 and out_json.isascii() and json.loads(out_json)[0]["emoji"] == EMOJI["happy"], out_json
    assert re.fullmatch(rf"{re.escape(str(images['astronaut.png']))}: happy \\U0001f604 \(\d+%\)", out.strip()), out


def test_text_output_says_happy_for_the_astronaut(images):
    """Needs the real model."""
    code, out, err = run_cli("predict", images["astronaut.png"])
    assert code == 0, err
    assert "happy" in out and EMOJI["happy"] in out


@pytest.mark.parametrize("name", ["flat.png", "noise.jpg"])
def test_image_without_a_face_is_a_result_not_an_error(images, name):
    code, results, err = predict_json(images[name])
    assert code == 0, err
    assert results == [{"path": str(images[name]), "box": None, "label": None, "probabilities": None,
                        "emoji": None, "shape": None}]


@pytest.mark.parametrize("name", ["gray.png", "gray.jpg", "sixteen-bit.png", "sixteen-bit-gray.png", "rgba.png"])
def test_other_formats_give_the_same_answer(images, name):
    """Gray, 16-bit and RGBA versions of the photo: the same face and the same expression."""
    code, results, err = predict_json(images["astronaut.png"], images[name])
    assert code == 0, err
    reference, entry = results
    assert_is_the_astronauts_face(entry)
    assert entry["label"] == reference["label"]


# --- bad input ------------------------------------------------------------------------------------

def make_bad_files(folder, astronaut_png) -> dict:
    """One file (or non-file) per way an input can be unusable."""
    folder.mkdir(parents=True, exist_ok=True)
    bad = {
        "missing": folder / "missing.jpg",
        "empty": folder / "empty.jpg",
        "truncated": folder / "truncated.jpg",
        "random bytes": folder / "random.jpg",
        "text as png": folder / "notes.png",
        "directory": folder / "a folder.jpg",
        "dangling symlink": folder / "link.jpg",
    }
    bad["empty"].write_bytes(b"")
    jpeg = cv2.imencode(".jpg", cv2.imread(str(astronaut_png)))[1].tobytes()
    bad["truncated"].write_bytes(jpeg[: len(jpeg) // 3])
    bad["random bytes"].write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    bad["text as png"].write_text("this is not an image\n")
    bad["directory"].mkdir()
    os.symlink(folder / "gone.jpg", bad["dangling symlink"])
    return bad


BAD_KINDS = ["missing", "empty", "truncated", "random bytes", "text as png", "directory", "dangling symlink"]


def test_each_bad_input_is_one_line_and_the_good_images_still_count(images, tmp_path):
    bad = make_bad_files(tmp_path / "bad", images["astronaut.png"])
    good = [images["astronaut.png"], images["flat.png"]]
    args = [good[0], *(bad[k] for k in BAD_KINDS), good[1]]
    code, out, err = run_cli("predict", "--json", *args)
    assert code == 2
    assert "Traceback" not in err
    lines = stderr_lines(err)
    assert len(lines) == len(BAD_KINDS), err
    for kind in BAD_KINDS:
        assert sum(str(bad[kind]) in line for line in lines) == 1, (kind, err)
    results = load_json_output(out)
    assert [r["path"] for r in results] == [str(p) for p in good]
    assert results[0]["box"] is not None


def test_each_unusable_path_says_why_in_its_own_words(images, tmp_path):
    """What the file is, not one word for all: a missing photo, a link to one, an empty copy, a folder,
    a path through a file, a link that points at itself, a name longer than the system allows."""
    bad = make_bad_files(tmp_path / "bad", images["astronaut.png"])
    (tmp_path / "loop.jpg").symlink_to(tmp_path / "loop.jpg")
    said = {bad["missing"]: "no such file", bad["dangling symlink"]: "dangling link", bad["empty"]: "empty file",
            bad["directory"]: "is a directory, not an image", bad["empty"] / "face.jpg": "no such file",
            tmp_path / "loop.jpg": "dangling link", tmp_path / f"{'x' * 300}.jpg": "cannot read it (File name too long)"}
    for path, reason in said.items():
        with pytest.raises(ImageError) as caught:
            read_image(path)
        assert str(caught.value) == f"{path}: {reason}"


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_input_alone(images, tmp_path, capsys, kind):
    bad = make_bad_files(tmp_path / "bad", images["astronaut.png"])[kind]
    code = main(["predict", "--json", str(bad), str(images["flat.png"])])
    captured = capsys.readouterr()
    assert code == 2
    lines = stderr_lines(captured.err)
    assert len(lines) == 1 and str(bad) in lines[0], captured.err
    assert [r["path"] for r in json.loads(captured.out)] == [str(images["flat.png"])]


def test_a_damaged_picture_is_its_one_line_and_a_short_exif_block_says_nothing(images, tmp_path):
    """Pillow's own warnings and log lines do not reach the user: a TIFF claiming 2048 samples a pixel
    is the one line naming it; a JPEG whose EXIF block promises an entry and stops (as some editors
    leave them) is read as stored, with nothing on stderr ("Corrupt EXIF data" was a warning there)."""
    stored = io.BytesIO()
    with Image.open(images["astronaut.png"]) as photo:
        photo.convert("RGB").save(stored, "TIFF")
    tiff = bytearray(stored.getvalue())
    ifd = int.from_bytes(tiff[4:8], "little")  # "II": little-endian; entries of 12 bytes after the count
    [entry] = [ifd + 2 + 12 * i for i in range(int.from_bytes(tiff[ifd:ifd + 2], "little"))
               if int.from_bytes(tiff[ifd + 2 + 12 * i:ifd + 4 + 12 * i], "little") == 277]  # SamplesPerPixel
    tiff[entry + 8:entry + 10] = (2048).to_bytes(2, "little")
    (tmp_path / "samples.tif").write_bytes(tiff)
    jpeg = images["astronaut.jpg"].read_bytes()
    exif = b"Exif\0\0II*\0" + (8).to_bytes(4, "little") + (1).to_bytes(2, "little")  # one entry, none there
    (tmp_path / "short-exif.jpg").write_bytes(jpeg[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + jpeg[2:])
    code, _, err = run_cli("predict", tmp_path / "samples.tif")
    assert code == 2 and stderr_lines(err) == [f"emojify: {tmp_path / 'samples.tif'}: not an image (unrecognised format)"]
    code, out, err = run_cli("predict", tmp_path / "short-exif.jpg")
    assert (code, err) == (0, "") and out.startswith(f"{tmp_path / 'short-exif.jpg'}: happy")


def test_a_named_pipe_nobody_writes_to_is_one_line_not_a_wait(images, tmp_path):
    """A FIFO named like a photo (in a class folder, say): there is nothing to read, and the command
    says so at once rather than wait for a writer that never comes."""
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    code, out, err = run_cli("predict", fifo, images["astronaut.jpg"], timeout=60)
    assert code == 2 and stderr_lines(err) == [f"emojify: {fifo}: nothing came through the pipe"]
    assert out.startswith(f"{images['astronaut.jpg']}: happy")


def test_a_picture_piped_in_is_read_and_a_device_is_refused(images):
    """``cat photo.jpg | emojify predict /dev/stdin`` (a pipe's size is 0: it is no empty file);
    /dev/zero would never end."""
    proc = subprocess.run([sys.executable, "-m", "emojify", "predict", "/dev/stdin", "/dev/zero"],
                          input=images["astronaut.jpg"].read_bytes(), capture_output=True, cwd=REPO, timeout=120,
                          check=False)
    assert proc.returncode == 2 and proc.stdout.decode().startswith("/dev/stdin: happy"), proc
    assert stderr_lines(proc.stderr.decode()) == ["emojify: /dev/zero: not a file (a device)"]


@pytest.mark.parametrize("argv", [["predcit", "photo.jpg"], ["help"]], ids=" ".join)
def test_a_mistyped_command_is_named_with_the_commands_there_are(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert stderr_lines(capsys.readouterr().err)[-1] == (
        f"emojify: error: unknown command '{argv[0]}' (choose from run, predict, evaluate, bench, doctor)")


def test_debug_before_the_command_is_taken_as_the_commands(images, capsys):
    assert main(["--debug", "predict", "--json", str(images["astronaut.png"])]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["label"] == "happy"


@pytest.mark.parametrize("word", ["--version", "--help"])
def test_debug_before_version_or_help_gives_emojifys_own(capsys, word):
    """``emojify --debug --version`` was the kiosk's "unrecognized arguments: --version", and
    ``--debug --help`` the kiosk's help, not the one listing the commands."""
    with pytest.raises(SystemExit) as info:
        main(["--debug", word])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert out.startswith("emojify " if word == "--version" else "usage: emojify [-h] [--version] COMMAND"), out


def test_a_settings_files_debug_shows_what_the_flag_shows(monkeypatch, tmp_path):
    """``debug = true`` in a settings file turned on debug logging, but OpenCV's, FFmpeg's and Pillow's
    own lines stayed off, as without it: the camera's diagnostics were hidden."""
    import logging

    from emojify import app, cli

    seen = {}

    def record(settings):
        seen["levels"] = (logging.getLogger().level, logging.getLogger("PIL").level, cv2.utils.logging.getLogLevel(),
                          os.environ.get("OPENCV_FFMPEG_LOGLEVEL"))
        return 0

    monkeypatch.setattr(app, "run_app", record)
    monkeypatch.delenv("OPENCV_FFMPEG_LOGLEVEL", raising=False)
    before = (logging.getLogger().level, logging.getLogger("PIL").level, cv2.utils.logging.getLogLevel())
    try:
        config = tmp_path / "kiosk.toml"
        config.write_text("debug = true\n")
        assert main(["run", "--config", str(config)]) == 0
        from_file = seen["levels"]
        assert main(["run", "--debug"]) == 0
        assert from_file == seen["levels"] == (logging.DEBUG, logging.INFO, cv2.utils.logging.LOG_LEVEL_WARNING, None)
        assert main(["run", "--config", str(config), "--no-debug"]) == 0
        assert seen["levels"] == (logging.WARNING, logging.CRITICAL, cv2.utils.logging.LOG_LEVEL_SILENT, cli.QUIET_FFMPEG)
    finally:
        logging.getLogger().setLevel(before[0])
        logging.getLogger("PIL").setLevel(before[1])
        cv2.utils.logging.setLogLevel(before[2])


@pytest.mark.parametrize("argv", [["--no-debug", "predict"], ["--debug", "predict", "--no-debug"],
                                  ["predict", "--debug", "--no-debug"]], ids=repr)
def test_no_debug_is_a_word_of_every_command_before_it_or_after(images, tmp_path, capsys, argv):
    """As for ``run`` (where it switches off a settings file's ``debug = true``), the last word wins:
    a bad model is one line, not a traceback."""
    (tmp_path / "bad.tflite").write_text("not a model")
    assert main([*argv, "--model", str(tmp_path / "bad.tflite"), str(images["astronaut.png"])]) == 2
    [line] = stderr_lines(capsys.readouterr().err)
    assert line.startswith("emojify: ") and "bad.tflite" in line


def test_no_debug_before_doctor_is_doctor(tmp_path, capsys):
    assert main(["--no-debug", "doctor", "--emoji-dir", str(tmp_path / "none")]) == 1
    assert f"emoji set    PROBLEM: {tmp_path / 'none'}: emoji folder not found" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["predict", "--out", "", "PHOTO"], ["predict", ""], ["evaluate", ""],
                                  ["evaluate", "--plot", "", "."]], ids=repr)
def test_an_empty_path_is_refused_not_taken_for_the_current_folder(images, tmp_path, monkeypatch, capsys, argv):
    """``--out "$OUTDIR"`` with the variable unset must not scatter visitors' photos into the current folder."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main([str(images["astronaut.png"]) if word == "PHOTO" else word for word in argv])
    assert info.value.code == 2 and stderr_lines(capsys.readouterr().err)[-1].endswith(": an empty path")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("given", ["astronaut.png", "emotion.keras"])
def test_a_model_that_is_no_tflite_file_is_named_as_such(images, tmp_path, capsys, given):
    """A photo, or the trainer's .keras file, given to --model by mistake: the file's fault, not a missing .json."""
    model = tmp_path / given
    if given.endswith(".png"):
        shutil.copy(images["astronaut.png"], model)
    else:
        model.write_bytes(b"PK\x03\x04" + bytes(60))  # a .keras file is a zip archive
    assert main(["predict", "--model", str(model), str(images["astronaut.png"])]) == 2
    assert stderr_lines(capsys.readouterr().err) == [(
        f"emojify: error: {model}: not a TFLite model; give a .tflite file (emojify-quantize makes one from a trained "
        ".keras model)")]


def test_predict_with_no_images_is_a_usage_error():
    code, _, err = run_cli("predict")
    assert code == 2
    assert "usage" in err.lower() and "Traceback" not in err


def test_names_with_spaces_and_non_ascii_characters(images, tmp_path):
    folder = tmp_path / "Fotos für Ausstellung"
    folder.mkdir()
    good = folder / "visitor été 😀 1.png"
    good.write_bytes(images["astronaut.png"].read_bytes())
    broken = folder / "kaputt ä ö.jpg"
    broken.write_bytes(b"garbage")
    code, out, err = run_cli("predict", "--json", good, broken)
    assert code == 2
    results = load_json_output(out)
    assert [r["path"] for r in results] == [str(good)]
    assert results[0]["box"] is not None
    lines = stderr_lines(err)
    assert len(lines) == 1 and str(broken) in lines[0], err


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_phone_photo_is_read_upright_as_viewers_show_it(images, tmp_path, orientation):
    """A phone stores a photo as its sensor saw it and says in EXIF how to turn it (3: upside down,
    6 and 8: sideways): the face is read upright, and its box is in the photo's pixels as shown."""
    turn = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    path = tmp_path / f"phone-{orientation}.jpg"
    with Image.open(images["astronaut.png"]) as upright:
        exif = Image.Exif()
        exif[0x0112] = orientation
        upright.transpose(turn).save(path, quality=95, exif=exif)  # stored turned, shown upright
    code, results, err = predict_json(images["astronaut.jpg"], path)
    assert code == 0, err
    reference, entry = results
    assert entry["label"] == reference["label"] == "happy"
    assert_is_the_astronauts_face(entry)
    assert abs(entry["shape"]["roll"]) < 10, entry["shape"]


def test_a_float_tiff_of_zero_to_one_is_not_black(images, tmp_path):
    """Scientific exports store light as 0..1 floats: the photo's face is found, as in the 8-bit file."""
    path = tmp_path / "float.tif"
    with Image.open(images["astronaut.png"]) as photo:
        Image.fromarray(np.asarray(photo.convert("L"), np.float32) / 255, "F").save(path)
    code, results, err = predict_json(path)
    assert code == 0, err
    assert_is_the_astronauts_face(results[0])


def test_a_photo_over_pillows_own_limit_is_one_line_saying_too_large(images, monkeypatch):
    """Pillow refuses pictures over twice its limit (about 179 megapixels) as decompression bombs: the
    message says the photo is too large, not "truncated or corrupt". (Pillow's limit is scaled down
    here, so the test needs no 600 MB picture.)"""
    from emojify import imageio

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)  # Pillow refuses 512x512 = 262,144 pixels
    with pytest.raises(imageio.ImageError, match="image too large") as caught:
        imageio.read_image(images["astronaut.png"])
    assert "corrupt" not in str(caught.value)


def test_a_name_that_is_not_utf8_keeps_the_json_valid_and_a_long_one_its_composite(images, tmp_path):
    """A file name in Latin-1 bytes (an old camera's card) and one of 240 characters: the JSON output is
    valid UTF-8 (the odd byte written as an escape), and every photo gets its composite, the long name
    cut so the file can be made; the photo after them is read too."""
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.png"))
    long = tmp_path / ("b" * 240 + ".png")
    for path in (odd, long):
        path.write_bytes(images["astronaut.png"].read_bytes())
    proc = subprocess.run([sys.executable, "-m", "emojify", "predict", "--json", "--out", tmp_path / "out", odd, long,
                           images["gray.png"]], capture_output=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    results = json.loads(proc.stdout.decode("utf-8"))  # strict: no stray bytes
    assert results[0]["path"].endswith("/caf\\xe9.png") and len(results) == 3
    assert all(entry["label"] == "happy" for entry in results)
    saved = sorted((tmp_path / "out").iterdir())
    assert len(saved) == 3 and sorted(entry["composite"] for entry in results) == [str(p) for p in saved]
    text = subprocess.run([sys.executable, "-m", "emojify", "predict", odd], capture_output=True, cwd=REPO,
                          timeout=120, check=False)
    assert text.stdout.decode("utf-8").startswith(f"{tmp_path}/caf\\xe9.png: happy"), text  # as in the JSON, not \udce9


def test_a_name_with_a_line_break_stays_on_one_line_of_output_and_of_errors(images, tmp_path):
    """A reader of lines (a script reading predict's output or its errors) saw a file named with a
    line break as two lines; the break is written as an escape, as in the JSON."""
    broken = tmp_path / "smile\nfor the camera.png"
    broken.write_bytes(images["astronaut.png"].read_bytes())
    missing = tmp_path / "gone\r\nnow.png"
    code, out, err = run_cli("predict", broken, missing)
    [line] = out.splitlines()
    assert code == 2 and line.startswith(f"{tmp_path}/smile\\nfor the camera.png: happy 😄 ("), out
    assert stderr_lines(err) == [f"emojify: {tmp_path}/gone\\r\\nnow.png: no such file"], err
    code, _, err = run_cli("evaluate", tmp_path / "no\nfolder")
    assert code == 2 and len(stderr_lines(err)) == 1 and "no\\nfolder" in err, err
    code, _, err = run_cli("predict", tmp_path / "line\u2028separator.png")  # a break to str.splitlines too
    assert code == 2 and stderr_lines(err) == [f"emojify: {tmp_path}/line\\u2028separator.png: no such file"], err


def test_a_path_the_system_refuses_is_named_on_one_line_by_every_tool():
    """The training tools and packaging/'s scripts say a path they cannot use (a folder shut, a name
    too long) or write in their own words, which carried a line break of the name."""
    from emojify.errors import path_problem, write_problem

    assert path_problem(OSError(errno.EACCES, "Permission denied", "runs/a\nb")) == \
        "runs/a\\nb: cannot use it (Permission denied)"
    assert write_problem(OSError(errno.ENOSPC, "No space left on device", "runs/a\nb/best.keras"), "runs") == \
        "runs/a\\nb/best.keras: No space left on device"


# --- big images -----------------------------------------------------------------------------------

MEASURE = """
import resource, sys
from emojify.cli import main
code = main(sys.argv[1:])
print("peak-rss-kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def run_measured(*args) -> tuple[int, str, int]:
    """Run the CLI in a fresh process; returns (exit code, stdout, its peak RSS in KB)."""
    proc = subprocess.run([sys.executable, "-c", MEASURE, *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=600, check=False)
    peak = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("peak-rss-kb")]
    assert peak, proc.stderr
    return proc.returncode, proc.stdout, peak[0]


@pytest.fixture(scope="module")
def big_prediction(astronaut, images, tmp_path_factory):
    """``predict`` on a 12000x12000 JPEG of the astronaut, and on the 512x512 one, with peak memory."""
    path = tmp_path_factory.mktemp("big") / "huge astronaut.jpg"
    big = cv2.resize(astronaut, (BIG_SIDE, BIG_SIDE), interpolation=cv2.INTER_LINEAR)
    assert cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 80])
    del big
    small = run_measured("predict", "--json", images["astronaut.png"])
    large = run_measured("predict", "--json", path)
    return small, large


def test_huge_jpeg_works_without_decoding_it_all(big_prediction):
    (small_code, _, small_peak), (code, out, peak) = big_prediction
    assert small_code == 0 and code == 0
    results = json.loads(out)
    assert len(results) == 1 and results[0]["box"] is not None
    full_decode_mb = BIG_SIDE * BIG_SIDE * 3 / 2**20  # 412 MB for the pixels alone
    extra_mb = (peak - small_peak) / 1024
    assert extra_mb < full_decode_mb, f"{extra_mb:.0f} MB more than for a small photo"


def test_huge_jpeg_face_is_reported_in_the_images_own_pixels(big_prediction):
    _, (_, out, _) = big_prediction
    assert_is_the_astronauts_face(json.loads(out)[0], scale=BIG_SIDE / 512)


def test_a_huge_sixteen_bit_picture_is_made_smaller_before_it_is_made_eight_bit(astronaut, images, tmp_path):
    """A 10000x10000 16-bit scan: the decoded pixels (2 bytes each) are all it costs at full size; its
    conversion works on the picture at 4096 pixels (it made float copies of all 100 megapixels: 2.6 GB
    more than a small photo, which a Pi's memory does not hold)."""
    side = 10_000
    path = tmp_path / "scan.png"
    gray = cv2.resize(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY), (side, side), interpolation=cv2.INTER_LINEAR)
    Image.fromarray(gray.astype(np.uint16) * 257).save(path, compress_level=1)
    del gray
    _, _, small_peak = run_measured("predict", "--json", images["astronaut.png"])
    code, out, peak = run_measured("predict", "--json", path)
    assert code == 0
    assert_is_the_astronauts_face(json.loads(out)[0], scale=side / 512)
    extra_mb = (peak - small_peak) / 1024
    assert extra_mb < 2 * side * side * 2 / 2**20, f"{extra_mb:.0f} MB more than for a small photo"  # two 16-bit copies


# --- composites ------------------------------------------------------------------------------------

def test_out_writes_a_composite_per_good_image(images, tmp_path):
    out_dir = tmp_path / "composites"
    inputs = [images["astronaut.png"], images["flat.png"], images["gray.jpg"]]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"nope")
    code, results, _ = predict_json("--out", out_dir, *inputs, broken)
    assert code == 2
    written = sorted(out_dir.glob("*.png"))
    assert len(written) == len(inputs)
    assert sorted(r["composite"] for r in results) == sorted(map(str, written))
    for entry in results:
        with Image.open(entry["path"]) as source:
            width = source.width
        with Image.open(entry["composite"]) as composite:
            assert composite.format == "PNG"
            composite.load()
            assert composite.width > width
    assert sorted(out_dir.iterdir()) == written  # no half-written or temporary files left behind


@pytest.mark.parametrize("out", ["a-file", "a-file/composites"])
def test_an_out_that_cannot_be_a_folder_is_one_line_before_any_work(images, tmp_path, out):
    (tmp_path / "a-file").write_text("not a folder")
    code, stdout, err = run_cli("predict", "--out", tmp_path / out, images["astronaut.png"])
    assert code == 2 and stdout == "", stdout
    lines = stderr_lines(err)
    assert len(lines) == 1 and lines[0].startswith("emojify: error: --out") and "a-file" in lines[0], err
    assert (tmp_path / "a-file").read_text() == "not a folder"


def test_an_out_folder_where_nothing_can_be_written_is_one_line_before_any_work(images):
    """``/proc`` is there but takes no file: it was found at the first composite, after the first
    picture's work, and said as 'No such file or directory'."""
    code, stdout, err = run_cli("predict", "--out", "/proc", images["astronaut.png"])
    assert code == 2 and stdout == "", stdout
    [line] = stderr_lines(err)
    assert line.startswith("emojify: error: --out /proc: cannot write in the folder /proc ("), line


def test_a_full_disk_while_saving_stops_with_one_line(monkeypatch, capsys, images, tmp_path):
    import emojify.composite

    def full_disk(image, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(emojify.composite, "save_png_atomic", full_disk)
    assert main(["predict", "--out", str(tmp_path / "composites"), str(images["astronaut.png"])]) == 2
    err = capsys.readouterr().err
    expected = f"emojify: error: --out {tmp_path / 'composites'}: cannot save astronaut.png's composite (No space"
    assert len(stderr_lines(err)) == 1 and stderr_lines(err)[0].startswith(expected), err
    assert not (tmp_path / "composites").exists()  # no partial file, nor the empty folder the run made


KILLED_WHILE_SAVING = """
import contextlib, os, signal, sys
import emojify.composite
from emojify.cli import main

atomic_path = emojify.composite.atomic_path

@contextlib.contextmanager
def killed_while_saving(path, **options):  # SIGTERM halfway through the composite's temporary file
    with atomic_path(path, **options) as tmp:
        tmp.write_bytes(b"half a PNG")
        os.kill(os.getpid(), signal.SIGTERM)
        yield tmp

emojify.composite.atomic_path = killed_while_saving
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_while_saving_leaves_no_partial_file(images, tmp_path):
    """``kill`` (a service manager, ``timeout``) during ``predict --out``: the temporary file is removed, as
    after Ctrl-C, and the exit code is a SIGTERM's (143); before, the process died leaving it."""
    out = tmp_path / "composites"
    proc = subprocess.run([sys.executable, "-c", KILLED_WHILE_SAVING, "predict", "--out", str(out),
                           str(images["astronaut.png"])], capture_output=True, text=True, cwd=REPO,
                          timeout=CLI_TIMEOUT, check=False)
    assert proc.returncode == 143, (proc.returncode, proc.stderr)
    assert not out.exists() and "Traceback" not in proc.stderr  # nor the empty folder the run made


def stderr_on_a_terminal(*argv: str) -> tuple[int, str, str]:
    """Run ``emojify ARGV`` with stderr on a terminal of 80 columns (a pseudo-terminal): exit code, stdout and
    what the terminal showed."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    terminal, screen = pty.openpty()
    fcntl.ioctl(screen, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "emojify", *argv], stdout=subprocess.PIPE, stderr=screen, cwd=REPO)
    os.close(screen)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the command has ended and closed the terminal
        while chunk := os.read(terminal, 4096):
            shown += chunk
    os.close(terminal)
    out = proc.stdout.read().decode()
    return proc.wait(timeout=CLI_TIMEOUT), out, shown.decode(errors="replace")


def test_predict_json_shows_its_progress_on_a_terminal_and_keeps_stdout_clean(images, tmp_path):
    """``predict --json`` prints only once every picture is read: meanwhile a bar on the terminal, gone when
    done; the text output prints each picture as it goes and needs none."""
    pytest.importorskip("tqdm")
    photos = [str(images["astronaut.png"])] * 4
    code, out, shown = stderr_on_a_terminal("predict", "--json", *photos)
    assert code == 0 and len(json.loads(out)) == 4
    # the bar as drawn at the start, and cleared at the end; the steps between are drawn 0.1 s apart at
    # most (tqdm's own pace), so which of them show depends on the machine's speed
    assert "predict:   0%" in shown and "0/4" in shown and shown.endswith("\r"), shown
    assert shown.rsplit("\r", 2)[-2].strip() == "", "the bar is cleared at the end"
    code, out, shown = stderr_on_a_terminal("predict", *photos)
    assert code == 0 and len(out.splitlines()) == 4 and shown == ""
    (tmp_path / "not_an_image.jpg").write_text("a text file")
    code, out, shown = stderr_on_a_terminal("predict", "--json", photos[0], str(tmp_path / "not_an_image.jpg"), photos[0])
    assert code == 2 and len(json.loads(out)) == 2
    assert re.search(r"(^|\r|\n)emojify: \S*not_an_image.jpg: not an image", shown), shown  # on a line of its own


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("argv", [["predict", "--json", "PHOTO"], ["doctor"]], ids=" ".join)
def test_output_to_a_full_disk_is_one_line(images, argv):
    """``predict --json > results.json`` on a full disk (/dev/full: every write fails with ENOSPC)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}  # as a shell has it:
    # the output waits in the buffer and fails as the command ends
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "emojify", *(str(images["astronaut.png"]) if word == "PHOTO" else word
                                                                   for word in argv)],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=CLI_TIMEOUT, check=False,
                              env=env)
    assert proc.returncode == 2 and stderr_lines(proc.stderr) == [
        f"emojify: error: cannot write the output ({os.strerror(errno.ENOSPC)})"], proc.stderr


@pytest.fixture
def one_face_folder(images, tmp_path) -> Path:
    """An ``evaluate`` folder: happy/ holding the astronaut."""
    (tmp_path / "faces" / "happy").mkdir(parents=True)
    shutil.copyfile(images["astronaut.png"], tmp_path / "faces" / "happy" / "astronaut.png")
    return tmp_path / "faces"


@pytest.mark.parametrize(("plot", "says"), [("plot.txt", "give a file name ending in .png"),
                                            ("a-folder.png", "a-folder.png: a folder; give a file name ending in .png"),
                                            ("a-file/plot.png", "(a file is in the way)"),
                                            ("a.png", "a-reliability.png: a folder")])
def test_a_plot_that_cannot_be_written_is_one_line_before_any_work(one_face_folder, tmp_path, plot, says):
    """Neither plot is saved where one of them cannot be: a-reliability.png, a folder, kept a.png out too."""
    pytest.importorskip("matplotlib")
    (tmp_path / "a-folder.png").mkdir()
    (tmp_path / "a-reliability.png").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    code, stdout, err = run_cli("evaluate", one_face_folder, "--plot", tmp_path / plot)
    lines = stderr_lines(err)
    assert code == 2 and stdout == "", stdout  # no table: nothing was evaluated
    assert len(lines) == 1 and lines[0].startswith(f"emojify: error: --plot {tmp_path / plot}") and says in lines[0], err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file", "a-folder.png", "a-reliability.png", "faces"]


def test_an_out_through_a_new_folder_keeps_the_folder_its_paths_pass_through(images, tmp_path, capsys):
    """``--out new/../kept/run``: after a run that worked, the empty new/ was taken away as a refused
    run's is, and the composite's path in the JSON named nothing."""
    (tmp_path / "kept").mkdir()
    out = tmp_path / "new" / ".." / "kept" / "run"
    assert main(["predict", str(images["astronaut.png"]), "--out", str(out), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert Path(entry["composite"]).is_file() and Path(entry["composite"]).parent == out


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError(errno.ENOSPC, "No space left on device")],
                         ids=["ctrl-c", "full-disk"])
def test_a_run_stopped_after_a_saved_composite_keeps_the_folder_its_path_passes_through(images, tmp_path,
                                                                                      monkeypatch, stop):
    """``--out new/../kept/run`` stopped at the second photo: the stopped run took new/ away, so the path
    of the composite already saved in kept/run/ (and the --out typed) named nothing."""
    from emojify import cli

    (tmp_path / "kept").mkdir()
    out = tmp_path / "new" / ".." / "kept" / "run"
    entry, calls = cli.predict_entry, []

    def stopping_at_the_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise stop
        return entry(*args, **kwargs)

    monkeypatch.setattr(cli, "predict_entry", stopping_at_the_second)
    photo = str(images["astronaut.png"])
    with contextlib.suppress(KeyboardInterrupt, OSError):
        main(["predict", photo, photo, "--out", str(out)])
    assert len(calls) == 2 and len(list((tmp_path / "kept" / "run").iterdir())) == 1
    assert (tmp_path / "new").is_dir() and out.resolve() == (tmp_path / "kept" / "run").resolve()


def test_a_stopped_run_keeps_the_folder_its_path_passes_through_while_another_program_writes_there(
        images, tmp_path, monkeypatch):
    """Another program's temporary file gone between the listing of --out and the look at it made the
    whole folder look empty: a run stopped after saving a composite in new/../kept took new/ away from
    under its path."""
    from emojify import cli

    (tmp_path / "kept").mkdir()
    scandir, entry, calls = os.scandir, cli.predict_entry, []

    def listed_then_gone(folder="."):  # the kiosk's half-written snapshot, renamed away as it is listed
        if Path(folder).resolve() != (tmp_path / "kept").resolve():
            return scandir(folder)
        with scandir(folder) as entries:
            listed = list(entries)
        (tmp_path / "kept" / ".snapshot.tmp.png").unlink(missing_ok=True)
        return contextlib.nullcontext(listed)

    def stopping_at_the_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            (tmp_path / "kept" / ".snapshot.tmp.png").write_bytes(b"half a picture")
            raise KeyboardInterrupt
        return entry(*args, **kwargs)

    monkeypatch.setattr(cli.os, "scandir", listed_then_gone)
    monkeypatch.setattr(cli, "predict_entry", stopping_at_the_second)
    photo, out = str(images["astronaut.png"]), tmp_path / "new" / ".." / "kept"
    with contextlib.suppress(KeyboardInterrupt):
        main(["predict", photo, photo, "--out", str(out)])
    assert len(calls) == 2 and [p.suffix for p in (tmp_path / "kept").iterdir()] == [".png"]
    assert (tmp_path / "new").is_dir()


def test_an_out_that_cannot_be_listed_keeps_the_folder_its_path_passes_through(images, tmp_path, monkeypatch, capsys):
    """A drop-box --out (written to, not listed: mode 333) looked as if nothing had been saved in it, and
    new/ of --out new/../kept was taken away from under the composite's printed path."""
    from emojify import cli

    (tmp_path / "kept").mkdir()
    scandir = os.scandir

    def no_listing(folder="."):
        if Path(folder).resolve() == (tmp_path / "kept").resolve():
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        return scandir(folder)

    monkeypatch.setattr(cli.os, "scandir", no_listing)
    out = tmp_path / "new" / ".." / "kept"
    assert main(["predict", str(images["astronaut.png"]), "--out", str(out), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert Path(entry["composite"]).is_file() and (tmp_path / "new").is_dir()


def test_an_out_that_cannot_be_made_partway_leaves_no_folder_it_made(images, tmp_path):
    """``--out new/../a-file/run``: mkdir made new/, then found a file in the way of a-file/run; the
    refused run left new/ behind."""
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "new" / ".." / "a-file" / "run"
    assert main(["predict", str(images["astronaut.png"]), "--out", str(out)]) == 2
    assert [path.name for path in tmp_path.iterdir()] == ["a-file"]


def test_a_run_stopped_while_its_output_folder_is_tried_leaves_no_folder_it_made(images, tmp_path, monkeypatch):
    """Ctrl-C while a file was tried in the new --out folder (a slow network share) left it behind:
    only a refusal took it away again, and the run had not yet noted the folders it made."""
    from emojify import fileio

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.tempfile, "mkdtemp", stopped)
    assert main(["predict", str(images["astronaut.png"]), "--out", str(tmp_path / "new" / "run")]) == 130
    assert list(tmp_path.iterdir()) == []


def test_a_refused_run_through_a_link_leaves_no_folder_where_the_link_led(images, tmp_path):
    """``--out link/../run`` with link -> elsewhere/sub: the folder made was elsewhere/run, the one
    taken away ./run (never made), so the refused run left an empty elsewhere/run behind."""
    (tmp_path / "elsewhere" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere" / "sub")
    (tmp_path / "junk.png").write_text("not a picture")
    assert main(["predict", str(tmp_path / "junk.png"), "--out", str(tmp_path / "link" / ".." / "run")]) == 2
    assert [path.name for path in (tmp_path / "elsewhere").iterdir()] == ["sub"]


def test_an_out_through_a_link_saves_beside_the_links_target(images, tmp_path, capsys):
    """``--out link/../run`` with link -> elsewhere/sub is elsewhere/run, as the system walks it; from
    Python 3.12 on, tempfile took the ``..`` away by its letters and looked for ./run: the write check
    refused the folder it had just made, and left it behind."""
    (tmp_path / "elsewhere" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere" / "sub")
    out = tmp_path / "link" / ".." / "run"
    assert main(["predict", str(images["astronaut.png"]), "--out", str(out), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert Path(entry["composite"]).is_file() and Path(entry["composite"]).resolve().parent == tmp_path / "elsewhere" / "run"
    assert not (tmp_path / "run").exists()


def test_a_run_stopped_before_any_composite_leaves_no_output_folder_it_made(images, tmp_path, monkeypatch):
    from emojify import cli

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "predict_entry", stop)
    with contextlib.suppress(KeyboardInterrupt):
        main(["predict", str(images["astronaut.png"]), "--out", str(tmp_path / "new" / "out")])
    assert list(tmp_path.iterdir()) == []


def test_a_refused_run_leaves_no_output_folder_it_made(images, one_face_folder, tmp_path, capsys):
    """A bad model (or a folder with no classes) was found after --out's and --plot's folders were made:
    the refused run left them behind, empty."""
    bad = tmp_path / "bad.tflite"
    bad.write_text("not a model")
    assert main(["predict", str(images["astronaut.png"]), "--out", str(tmp_path / "new" / "out"), "--model", str(bad)]) == 2
    assert main(["evaluate", str(one_face_folder), "--model", str(bad), "--plot", str(tmp_path / "new" / "c.png")]) == 2
    (tmp_path / "no-classes").mkdir()
    assert main(["evaluate", str(tmp_path / "no-classes"), "--plot", str(tmp_path / "new" / "deep" / "c.png")]) == 2
    (tmp_path / "junk" / "happy").mkdir(parents=True)  # no image of it can be read
    (tmp_path / "junk" / "happy" / "a.png").write_text("not a picture")
    assert main(["evaluate", str(tmp_path / "junk"), "--plot", str(tmp_path / "new" / "c.png")]) == 2
    assert main(["predict", str(tmp_path / "junk" / "happy" / "a.png"), "--out", str(tmp_path / "new" / "out")]) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.tflite", "faces", "junk", "no-classes"]
    assert all(line.startswith("emojify") for line in stderr_lines(capsys.readouterr().err))


@pytest.mark.parametrize(("error", "says"), [
    (ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib"),
     "--plot needs matplotlib, which is not installed here (pip install matplotlib)"),
    (ImportError("numpy.core.multiarray failed to import"), ("--plot needs matplotlib, which cannot be imported here "
     "(numpy.core.multiarray failed to import); pip install --force-reinstall matplotlib"))])
def test_a_plot_without_a_working_matplotlib_is_one_line_before_any_work(monkeypatch, capsys, one_face_folder, tmp_path,
                                                                         error, says):
    """A matplotlib installed but broken (built for another NumPy) passed the check, and the run ended
    after the evaluation with a traceback and exit code 1."""
    import emojify.evaluate

    def broken():
        raise error

    monkeypatch.setattr(emojify.evaluate, "pyplot", broken)
    assert main(["evaluate", str(one_face_folder), "--plot", str(tmp_path / "c.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and stderr_lines(err) == [f"emojify: error: {says}"]


def test_evaluates_detector_without_detect_is_refused(one_face_folder, capsys):
    """It chose nothing: without --detect, each picture is a face crop (the same figures either way)."""
    assert main(["evaluate", str(one_face_folder), "--detector", "haar"]) == 2
    assert stderr_lines(capsys.readouterr().err) == [
        "emojify: error: --detector chooses the face detector of --detect (whole photos): give --detect too"]


def test_a_plot_with_a_long_name_is_saved(one_face_folder, tmp_path):
    """A name as long as a temporary file beside it allows: its pair is written once, not as a temporary
    file of a temporary file (whose name, 36 characters longer, the system refused)."""
    pytest.importorskip("matplotlib")
    plot = tmp_path / f"{'p' * 205}.png"
    assert main(["evaluate", str(one_face_folder), "--plot", str(plot)]) == 0
    assert plot.is_file() and Path(f"{plot.with_suffix('')}-reliability.png").is_file()


def test_a_plot_that_fails_to_save_keeps_the_figures(monkeypatch, capsys, one_face_folder, tmp_path):
    """A full disk at the plot: the table is out first, then one error line, and no partial PNG."""
    pytest.importorskip("matplotlib")
    import emojify.evaluate

    def full_disk(fig, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(emojify.evaluate, "write_figure", full_disk)
    plot = tmp_path / "plots" / "confusion.png"
    assert main(["evaluate", str(one_face_folder), "--plot", str(plot)]) == 2
    out, err = capsys.readouterr()
    assert "accuracy" in out and "macro F1" in out
    assert stderr_lines(err) == [f"emojify: error: --plot {plot}: cannot save the plot ({os.strerror(errno.ENOSPC)})"]
    assert list(plot.parent.iterdir()) == []


def test_a_plot_pair_is_saved_whole_or_not_at_all(monkeypatch, capsys, one_face_folder, tmp_path):
    """The disk full at the second picture of the pair: an earlier run's pair stays as it was, not a new
    confusion matrix beside an old reliability diagram."""
    pytest.importorskip("matplotlib")
    import emojify.evaluate

    plot = tmp_path / "plots" / "confusion.png"
    assert main(["evaluate", str(one_face_folder), "--plot", str(plot)]) == 0
    before = {path.name: path.read_bytes() for path in plot.parent.iterdir()}
    assert sorted(before) == ["confusion-reliability.png", "confusion.png"]
    write_figure = emojify.evaluate.write_figure

    def full_disk_at_the_second(fig, path):
        if "reliability" in path.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write_figure(fig, path)

    monkeypatch.setattr(emojify.evaluate, "write_figure", full_disk_at_the_second)
    assert main(["evaluate", str(one_face_folder), "--plot", str(plot), "--raw"]) == 2
    assert stderr_lines(capsys.readouterr().err)[-1].startswith(f"emojify: error: --plot {plot}: cannot save the plot")
    assert {path.name: path.read_bytes() for path in plot.parent.iterdir()} == before


# --- self-test, doctor, bench, help ------------------------------------------------------------------

def test_self_test_passes(tmp_path):
    """Needs the real model (the sample face must come out 'happy')."""
    code, out, err = run_cli("--self-test", cwd=tmp_path)
    lines = [line for line in out.splitlines() if line.strip()]
    checks = lines[:-1]
    assert code == 0, out + err
    assert len(checks) >= 4 and all(line.startswith("ok") for line in checks), out
    for name in ("model", "detector", "face mesh", "emoji", "pipeline"):
        assert any(name in line for line in checks), name
    assert "FAIL" not in out
    assert "passed" in lines[-1]


def test_self_test_fails_on_a_tampered_model(tampered_model, tmp_path):
    code, out, err = run_cli("--self-test", "--model", tampered_model, cwd=tmp_path)
    assert code != 0
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert any("model" in line and str(tampered_model) in line for line in failed), out
    assert "Traceback" not in out + err


def test_predict_with_a_tampered_model_is_one_line(tampered_model, images):
    code, out, err = run_cli("predict", "--model", tampered_model, images["astronaut.png"])
    assert code == 2
    lines = stderr_lines(err)
    assert len(lines) == 1 and str(tampered_model) in lines[0], err
    assert "Traceback" not in err and out.strip() == ""


def test_doctor_names_the_backend_and_the_model(classifier):
    code, out, err = run_cli("doctor")
    assert code == 0, out + err
    assert classifier.info.backend in out
    assert sha256_file(classifier.info.path) in out
    assert any(line.startswith("face mesh") and "face_landmark.tflite (verified)" in line for line in out.splitlines())
    assert "Traceback" not in out + err
    # the video back-ends OpenCV can use: its list named plug-ins that did not load (GStreamer, not built in)
    [backends] = re.findall(r"\(video back-ends: (.*)\)", out)
    usable = {cv2.videoio_registry.getBackendName(b) for b in cv2.videoio_registry.getBackends()
              if cv2.videoio_registry.hasBackend(b)}
    assert "FFMPEG" in backends.split(", ") and set(backends.split(", ")) <= usable, backends


def test_bench_on_a_camera_that_opens_but_sends_nothing_says_so(monkeypatch, capsys):
    """A camera node that opens but gives no picture (on a Pi with a camera module, /dev/video0): bench
    said "none of it could be read as a picture or video", a file's words."""
    import emojify.cli
    from emojify.sources import readers

    class OpensNoFrames:
        def __init__(self, *args):
            pass

        def isOpened(self):
            return True

        def set(self, *args):
            return True

        def read(self):
            return False, None

        def release(self):
            pass

    monkeypatch.setattr(readers.cv2, "VideoCapture", OpensNoFrames)
    monkeypatch.setattr(emojify.cli, "NO_FRAME_SECONDS", 1.0)
    assert main(["bench", "--source", "0", "--frames", "3"]) == 2
    assert stderr_lines(capsys.readouterr().err) == ["emojify: error: 0: no frames in 1 s (it opens but sends no pictures)"]


def window_line(out: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith("window ")]
    return line


def test_doctor_says_whether_the_kiosk_s_window_can_open():
    """The kiosk's own error without a display sends the user to doctor: it must tell, without calling
    it a problem of the install (predict, evaluate and bench need no window), and say why where a
    display is named but cannot be opened."""
    code, out, err = run_cli("doctor", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert code == 0 and window_line(out) == ("window       no display (DISPLAY is not set): the kiosk cannot open its "
                                              "window here; run it on the desktop"), out + err
    code, out, err = run_cli("doctor", env={"DISPLAY": ":97"})  # no server there
    assert code == 0 and window_line(out) == 'window       cannot open a window on :97 (couldn\'t connect to display ":97")'
    assert err == ""  # Xlib's own lines stay in the probe


def test_doctor_names_the_display_the_window_opens_on(display):
    code, out, _ = run_cli("doctor", env={"DISPLAY": display})
    assert code == 0 and window_line(out).split()[1] == "Tk" and f"on display {display}" in window_line(out), out


@pytest.mark.parametrize(("printed", "line"), [
    ("print('a site hook says hello'); print('8.6.13 :5.0 1920 1080')", "Tk 8.6.13 on display :5.0 (1920x1080)"),
    ("pass", "a window opens on display :5")], ids=["a line printed before", "nothing printed"])
def test_doctor_reads_tk_s_line_last_and_a_window_that_opened_is_no_problem(printed, line, monkeypatch):
    """The probe's window opened (exit code 0): another line printed before Tk's (a site hook at the
    interpreter's start) or none at all made doctor report a problem, Python's 'not enough values to unpack'."""
    from emojify import doctor

    monkeypatch.setenv("DISPLAY", ":5")
    monkeypatch.setattr(doctor, "WINDOW_PROBE", printed)
    assert doctor.window_report() == line


def test_doctor_does_not_wait_for_ever_for_a_display_that_does_not_answer(monkeypatch):
    """A wedged X server or a stalled SSH tunnel takes the connection and never answers: Xlib would
    wait for ever where no Ctrl-C reaches it. Doctor ends its probe and says so."""
    import socket

    from emojify import doctor

    with socket.socket() as server:
        for number in range(90, 100):  # display N listens on TCP port 6000 + N
            with contextlib.suppress(OSError):
                server.bind(("127.0.0.1", 6000 + number))
                break
        else:
            pytest.skip("no free port for a display here")
        server.listen()  # the connection is taken, and never answered
        monkeypatch.setenv("DISPLAY", f"127.0.0.1:{number}")
        monkeypatch.setattr(doctor, "WINDOW_SECONDS", 2.0)
        assert doctor.window_report() == (f"the display 127.0.0.1:{number} does not answer (2 s): the kiosk "
                                          "cannot open its window")


def test_doctor_reports_a_tampered_model(tampered_model):
    code, out, _ = run_cli("doctor", "--model", tampered_model)
    assert code != 0
    assert any("PROBLEM" in line and str(tampered_model) in line for line in out.splitlines()), out


@pytest.mark.parametrize("argv", [["predict", "--model", "LONG", "photo.jpg"], ["evaluate", "--model", "LONG", "."],
                                  ["bench", "--model", "LONG"], ["doctor", "--model", "LONG"],
                                  ["doctor", "--emoji-dir", "LONG"]], ids=" ".join)
def test_a_path_the_system_refuses_is_one_line_naming_the_flag(argv, capsys):
    """A path too long for the system is bad input, as in ``emojify run``: one line, exit code 2."""
    flag = argv[argv.index("LONG") - 1]
    assert main([("a" * 5000 if word == "LONG" else word) for word in argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and stderr_lines(err) == [
        f"emojify: error: {flag} must be a usable file or folder path (File name too long); choose another"]


@pytest.mark.parametrize(("argv", "says"), [
    (["predict", "--out", "LONG", "photo.jpg"], "emojify: error: --out LONG: cannot make the folder LONG (File name too long)"),
    (["evaluate", "LONG"], "emojify: error: LONG: cannot read the folder (File name too long)"),
    (["evaluate", ".", "--plot", "LONG.png"], "emojify: error: --plot LONG.png: cannot use LONG.png (File name too long)"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_an_output_or_data_path_too_long_to_look_at_is_one_line(argv, says, capsys, tmp_path, monkeypatch):
    """Looking at the path fails before anything is made (as for a folder on the way that cannot be
    entered): one line and exit code 2, where it was a traceback."""
    monkeypatch.chdir(tmp_path)
    long = str(tmp_path / ("a" * 300))
    assert main([word.replace("LONG", long) for word in argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and stderr_lines(err) == [says.replace("LONG", long)]
    assert list(tmp_path.iterdir()) == []


def test_bench_json(classifier):
    code, out, err = run_cli("bench", "--frames", "30", "--json", "--emoji", "generated")
    assert code == 0, err
    report = load_json_output(out)
    assert isinstance(report, dict)
    for key in ("detect_ms_median", "classifier_ms_median", "landmarks_ms_median", "frame_ms_median", "fps"):
        assert isinstance(report[key], (int, float)) and report[key] > 0, key
    assert classifier.info.backend in report["backend"]
    assert isinstance(report["machine"], str) and report["machine"]
    assert report["frames"] == 30


def test_bench_runs_the_face_mesh_only_for_the_generated_emoji_as_the_kiosk_does():
    code, out, err = run_cli("bench", "--frames", "5", "--json")
    assert code == 0, err
    report = load_json_output(out)
    assert report["landmarks_ms_median"] is None and report["landmarks_ms_p95"] is None, "not run: no time"


def test_bench_text_names_the_source_and_threads_timed_and_no_mesh_it_did_not_run():
    code, out, err = run_cli("bench", "--frames", "5", "--threads", "2")
    assert code == 0, err
    assert "synthetic 640x480 stream with the sample face, 2 threads" in out and "one thread" not in out
    assert "landmarks" not in out


def test_bench_on_an_unreadable_video_fails_with_one_line_saying_why(tmp_path):
    clip = tmp_path / "visit.mp4"
    clip.write_bytes(b"\0\0\0\x18ftypmp42" + bytes(64))  # an MP4 header, no frames
    code, _, err = run_cli("bench", "--frames", "5", "--source", clip)
    assert code == 2
    assert len(stderr_lines(err)) == 1 and str(clip) in err, err


def test_bench_on_a_folder_without_a_readable_picture_says_so_and_not_that_it_keeps_trying(tmp_path):
    (tmp_path / "a.png").write_text("not a picture")
    code, _, err = run_cli("bench", "--frames", "5", "--source", tmp_path)
    assert code == 2
    expected = (f"emojify: error: {tmp_path}: its one picture cannot be read (a.png: not an image (unrecognised "
                "format)); put pictures that open in the folder itself (sub-folders and hidden files are passed over)")
    assert stderr_lines(err) == [expected], err


def test_bench_on_a_camera_that_is_not_there_says_so_at_once_in_one_line():
    """The kiosk waits for a camera to be plugged in; a benchmark of it cannot."""
    code, _, err = run_cli("bench", "--frames", "5", "--source", "/dev/video63")
    assert code == 2
    assert stderr_lines(err) == ["emojify: error: camera 63: cannot be opened (missing or unplugged)"]


@pytest.mark.parametrize(("source", "line"), [
    ("", '--source must be a camera index, a video, an image or a folder (got "")'),  # was ": no such camera, ..."
    ("nowhere", ("--source must be a camera index (0, 1, ...), picamera, a video, an image or a folder of images "
                 "(nowhere: no such camera, file or folder)"))])
def test_bench_says_a_bad_source_as_the_kiosk_does(source, line):
    code, _, err = run_cli("bench", "--frames", "5", "--source", source)
    assert code == 2 and stderr_lines(err) == [f"emojify: error: {line}"]


@pytest.mark.parametrize(("option", "value", "most"), [("--frames", "0", "1,000,000"),
                                                       ("--frames", "99999999999999999999", "1,000,000"),
                                                       ("--threads", "0", "64"), ("--threads", "2147483648", "64")])
def test_bench_rejects_counts_out_of_range_in_one_line(option, value, most):
    code, _, err = run_cli("bench", option, value)
    assert code == 2 and stderr_lines(err) == [f"emojify: error: {option} {value}: must be 1 .. {most}"]


HELP = {
    "predict": ["--json", "--out", "--region", "--emoji", "--model"],
    "evaluate": ["--json", "--plot", "--model"],
    "bench": ["--frames", "--threads", "--json", "--source", "--model"],
    "doctor": ["--model", "--emoji-dir", "PROBLEM", "checksum"],
    "run": ["--source", "--region", "--kiosk", "--save-dir", "--config", "--self-test", "--model"],
}


@pytest.mark.parametrize("command", list(HELP))
def test_help_of_each_command(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in HELP[command]:
        assert option in text, option
    if command != "run":  # only the kiosk has a panel and snapshots; the other commands' --emoji says what it does there
        assert "panel" not in text and "snapshots" not in text, text


def test_installed_command_help_lists_the_commands():
    script = os.path.join(os.path.dirname(sys.executable), "emojify")
    if not os.path.exists(script):
        pytest.skip(f"console script not installed at {script}")
    proc = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0
    for command in HELP:
        assert command in proc.stdout


@pytest.mark.parametrize("argv", [["--help"], *([command, "--help"] for command in HELP)])
def test_help_has_no_markup(argv, capsys):
    """What a user reads in a terminal: no reStructuredText (``literal``, :class:`X`, ``::``)."""
    from emojify.training import quantize, train

    for entry in (main, train.main, quantize.main):
        if entry is not main and argv != ["--help"]:
            continue
        with pytest.raises(SystemExit):
            entry(argv)
        text = capsys.readouterr().out
        assert "usage:" in text
        assert "``" not in text and ":class:" not in text and ":func:" not in text, text
        assert not any(line.rstrip().endswith("::") for line in text.splitlines()), text


# --- the settings table ----------------------------------------------------------------------------

def run_help() -> str:
    return subprocess.run([sys.executable, "-m", "emojify", "run", "--help"], capture_output=True, text=True,
                          cwd=REPO, timeout=120, check=True).stdout


def test_every_setting_has_a_flag_a_file_key_and_a_field():
    from dataclasses import fields

    from emojify.config import FILE_KEYS, SETTINGS, Origin, Settings

    defaults = Settings()
    assert [(f.name, getattr(defaults, f.name)) for f in fields(Settings)] == [
        (s.name, s.parse(s.default, Origin("default")) if s.raw_default else s.default) for s in SETTINGS]
    text = run_help()
    for setting in SETTINGS:
        assert setting.flag in text, setting.flag
    assert FILE_KEYS[:3] == ("source", "region", "emoji_dir")


def test_debug_from_a_config_file(tmp_path, capsys):
    from emojify.cli import build_parser
    from emojify.config import settings_from_args

    config = tmp_path / "kiosk.toml"
    config.write_text("debug = true\nkiosk = true\n")
    settings = settings_from_args(build_parser().parse_args(["run", "--config", str(config)]))
    assert settings.debug is True and settings.kiosk is True
    settings = settings_from_args(build_parser().parse_args(["run", "--config", str(config), "--no-kiosk"]))
    assert settings.kiosk is False


def test_the_table_expresses_choices_optional_numbers_and_switches():
    """The kinds of setting the kiosk is gaining (--detector, --button-pin, --rotate, --large-text):
    each is one Setting, parsed alike from its flag's text and from a config file's value."""
    import argparse

    from emojify.config import ConfigError, Origin, Setting, add_flag, gpio_pin

    detector = Setting("detector", str, "blazeface", "face detector", choices=("blazeface", "haar"))
    pin = Setting("button_pin", int | None, None, "GPIO pin of the snapshot button", gpio_pin, metavar="N",
                  shown="no button")
    rotate = Setting("rotate", int, 0, "turn the picture", choices=(0, 90, 180, 270), metavar="DEGREES")
    large = Setting("large_text", bool, False, "bigger captions")
    parser = argparse.ArgumentParser()
    for setting in (detector, pin, rotate, large):
        add_flag(parser, setting)
    args = parser.parse_args(["--detector", "haar", "--button-pin", "17", "--rotate", "90", "--large-text"])
    flag, toml = Origin("--x"), Origin("kiosk.toml: 'x'")
    assert detector.parse(args.detector, flag) == "haar"
    assert pin.parse(args.button_pin, flag) == 17 and pin.parse(17, toml) == 17
    assert rotate.parse(args.rotate, flag) == 90 and rotate.parse(90, toml) == 90
    assert large.parse(args.large_text, flag) is True
    assert parser.parse_args(["--no-large-text"]).large_text is False
    plain = argparse.ArgumentParser()  # a command without a config file, such as predict
    add_flag(plain, detector, config_file=False)
    assert plain.parse_args([]).detector == "blazeface" and plain.parse_args(["--detector", "haar"]).detector == "haar"
    with pytest.raises(SystemExit):
        plain.parse_args(["--detector", "dlib"])
    help_text = parser.format_help()
    assert "{blazeface,haar}" in help_text and "(default: no button)" in help_text and "(default: off)" in help_text
    for setting, bad, message in [
        (detector, "dlib", "--x must be one of blazeface, haar (got \"dlib\")"),
        (pin, "40", "--x must be a GPIO pin number (BCM numbering, 0-27), e.g. 17 (got \"40\")"),
        (pin, 4.5, "--x must be a GPIO pin number (BCM numbering, 0-27), e.g. 17 (got 4.5)"),
        (rotate, 45, "--x must be one of 0, 90, 180, 270 (got 45)"),
        (large, "yes", "--x must be true or false (got \"yes\")"),
    ]:
        with pytest.raises(ConfigError) as caught:
            setting.parse(bad, flag)
        assert str(caught.value) == message


def test_the_detector_is_parsed_once_into_its_enum(tmp_path, capsys):
    """The words stay blazeface and haar, on every command and in a settings file, but what travels
    to the pipeline is a Detector, parsed once where the word comes in."""
    from emojify.cli import build_parser
    from emojify.config import Settings, settings_from_args
    from emojify.detectors import Detector
    from emojify.faces import DETECTORS, HaarDetector

    parser = build_parser()
    for command in (["predict", "face.jpg"], ["evaluate", "faces/", "--detect"], ["bench"]):
        assert parser.parse_args(command).detector is (None if "--detect" in command else Detector.BLAZEFACE)
        assert parser.parse_args([*command, "--detector", "haar"]).detector is Detector.HAAR
    assert settings_from_args(parser.parse_args(["run", "--detector", "haar"])).detector is Detector.HAAR
    assert Settings().detector is Detector.BLAZEFACE
    config = tmp_path / "kiosk.toml"
    config.write_text('detector = "haar"\n')
    assert settings_from_args(parser.parse_args(["run", "--config", str(config)])).detector is Detector.HAAR
    assert isinstance(DETECTORS[Detector.HAAR](), HaarDetector)
    with pytest.raises(SystemExit):
        parser.parse_args(["predict", "face.jpg", "--detector", "HAAR"])
    assert "invalid choice: 'HAAR' (choose from 'blazeface', 'haar')" in capsys.readouterr().err
    config.write_text('detector = "dlib"\n')
    assert main(["run", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip().endswith("'detector' must be one of blazeface, haar (got \"dlib\")")


def test_pgm_and_other_suffixes_are_read_alike_by_evaluate_and_source_folders(astronaut, tmp_path):
    """One list of image suffixes: a folder evaluate scores is a folder --source plays, file for file."""
    from emojify.classifier import Classifier
    from emojify.evaluate import evaluate_folder
    from emojify.imageio import IMAGE_SUFFIXES
    from emojify.sources import folder_images, parse_source

    happy = tmp_path / "happy"
    happy.mkdir()
    gray = Image.fromarray(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY))  # every format holds gray
    for suffix in sorted(IMAGE_SUFFIXES):
        gray.save(happy / f"visitor{suffix}")
    (happy / "notes.txt").write_text("not an image")
    assert parse_source(str(happy)).kind == "folder"
    assert [p.suffix for p in folder_images(happy)] == sorted(IMAGE_SUFFIXES)
    evaluation = evaluate_folder(Classifier(), tmp_path)
    assert evaluation.errors == [] and evaluation.summary["n"] == len(IMAGE_SUFFIXES) == len(folder_images(happy))


# --- every bad input: one line and exit code 2 -------------------------------------------------

@pytest.mark.parametrize("region", ["0", "-1", "5", "big"])
def test_predict_region_outside_its_range_is_one_line(images, region):
    code, out, err = run_cli("predict", f"--region={region}", images["astronaut.jpg"])
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert len(stderr_lines(err)) <= 2 and "--region" in stderr_lines(err)[-1], err  # argparse adds its usage line


@pytest.mark.parametrize(("flags", "named"), [(["--emoji", "generated"], "--emoji generated"),
                                              (["--snapshot-style", "mask", "--json"], "--snapshot-style mask")])
def test_predict_flags_that_only_draw_ask_for_the_folder_they_draw_into(images, flags, named, tmp_path):
    """Alone they would print what plain predict prints: the user who forgot --out is told, before any work."""
    code, out, err = run_cli("predict", *flags, images["astronaut.jpg"], cwd=tmp_path)
    assert (code, out) == (2, "") and stderr_lines(err) == [f"emojify: error: {named} draws the composites: give --out DIR too"]
    assert list(tmp_path.iterdir()) == []
    code, out, _ = run_cli("predict", *flags, "--out", tmp_path / "out", images["astronaut.jpg"])
    assert code == 0 and "happy" in out and len(list((tmp_path / "out").iterdir())) >= 1


@pytest.mark.parametrize("argv", [["predict", "--json"], ["predict"], ["evaluate", "--json"], ["--help"],
                                  ["doctor"]])
def test_a_closed_pipe_ends_every_command_quietly(images, argv, tmp_path):
    """``emojify predict --json ... | head -1``: the reader went away; no traceback, exit code 141."""
    (tmp_path / "happy").mkdir()
    shutil.copy(images["astronaut.jpg"], tmp_path / "happy")
    extra = {"predict": [images["astronaut.jpg"], images["flat.png"]], "evaluate": [tmp_path]}
    proc = subprocess.Popen([sys.executable, "-m", "emojify", *argv, *map(str, extra.get(argv[0], []))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    # argparse itself ignores a closed pipe while printing help from Python 3.11 on (exit 0); on 3.10
    # our own handler ends it (141): quiet either way
    expected = {0, 141} if argv == ["--help"] else {141}
    assert proc.wait(CLI_TIMEOUT) in expected and err == "", err


def test_run_with_a_file_that_is_no_image_says_so_at_once(tmp_path):
    fake = tmp_path / "notimage.jpg"
    fake.write_text("hello\n")
    code, _, err = run_cli("run", "--source", fake, env={"DISPLAY": ""}, timeout=120)
    assert code == 2 and "Traceback" not in err
    assert stderr_lines(err) == [f"emojify: error: {fake}: not an image (unrecognised format)"]


def test_debug_in_a_settings_file_shows_the_traceback(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('debug = true\nmodel = "missing.tflite"\n')
    code, _, err = run_cli("run", "--config", config, env={"DISPLAY": ""}, timeout=120)
    assert code == 2 and "Traceback" in err and "ModelError" in err  # the exit code is as without it
    assert stderr_lines(err)[-1].startswith("emojify: error: ") and "missing.tflite" in stderr_lines(err)[-1]
    code, _, err = run_cli("run", "--config", config, "--no-debug", env={"DISPLAY": ""}, timeout=120)
    assert code == 2 and "Traceback" not in err and len(stderr_lines(err)) == 1


def hide_module(folder: Path, module: str, error: str | None = None) -> dict:
    """An environment in which ``import module`` fails as it does where the package is not installed,
    or, given an ``error``, where it is installed but cannot be loaded (its ImportError)."""
    (folder / module).mkdir()
    (folder / module / "__init__.py").write_text(
        f"raise ImportError({error!r})\n" if error else
        f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n")
    return {**os.environ, "PYTHONPATH": str(folder)}


@pytest.mark.parametrize(("module", "package"), [("numpy", "numpy"), ("PIL", "Pillow")])
@pytest.mark.parametrize("command", [["-m", "emojify"], ["emojify"], ["emojify-train"], ["emojify-quantize"]])
def test_a_missing_runtime_library_is_one_line(command, module, package, tmp_path):
    """Even --help needs NumPy and Pillow (the settings table's types); without one, each command says
    which package to install, as the console scripts run it, instead of a traceback."""
    if command[0] != "-m":
        script = os.path.join(os.path.dirname(sys.executable), command[0])
        if not os.path.exists(script):
            pytest.skip(f"console script not installed at {script}")
        argv = [script, "--help"]
    else:
        argv = [sys.executable, *command, "--help"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False,
                          env=hide_module(tmp_path, module))
    assert proc.returncode == 2, proc.stderr
    prog = "emojify" if command[0] == "-m" else command[0]
    expected = f"{prog}: error: needs the Python package {package}, which is not installed here (pip install {package})"
    assert stderr_lines(proc.stderr) == [expected]
    assert proc.stdout == ""


@pytest.mark.parametrize(("options", "traceback"), [
    (["--debug"], True), (["--debug", "--no-debug"], False), (["--no-debug", "--debug"], True), (["--deb"], True)])
def test_a_missing_runtime_library_with_debug_shows_the_traceback(tmp_path, options, traceback):
    """As the command's own parser reads --debug: the last of --debug and --no-debug, a prefix too."""
    proc = subprocess.run([sys.executable, "-m", "emojify", "predict", *options, "x.jpg"], capture_output=True,
                          text=True, timeout=CLI_TIMEOUT, check=False, env=hide_module(tmp_path, "numpy"))
    if traceback:  # then the line, and the exit code as without --debug
        assert proc.returncode == 2 and "Traceback" in proc.stderr and "ModuleNotFoundError" in proc.stderr
        assert stderr_lines(proc.stderr)[-1] == ("emojify: error: needs the Python package numpy, which is not "
                                                 "installed here (pip install numpy)")
    else:
        assert proc.returncode == 2 and len(stderr_lines(proc.stderr)) == 1, proc.stderr


@pytest.mark.parametrize(("module", "error", "expected"), [
    ("cv2", "libGL.so.1: cannot open shared object file: No such file or directory", "sudo apt install libgl1"),
    ("numpy", "numpy.core.multiarray failed to import", "pip install --force-reinstall numpy"),
])
@pytest.mark.parametrize("script", ["emojify-train", "emojify-quantize"])
def test_a_runtime_library_that_cannot_be_loaded_is_one_line(tmp_path, script, module, error, expected):
    """Installed but broken (a missing system library, a NumPy ABI clash): the training tools, which
    import OpenCV as they load, say what to install, as ``emojify`` does, not a traceback."""
    path = os.path.join(os.path.dirname(sys.executable), script)
    if not os.path.exists(path):
        pytest.skip(f"console script not installed at {path}")
    proc = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False,
                          env=hide_module(tmp_path, module, error))
    assert proc.returncode == 2 and len(stderr_lines(proc.stderr)) == 1, proc.stderr
    assert proc.stderr.startswith(f"{script}: error: ") and expected in proc.stderr and error in proc.stderr
