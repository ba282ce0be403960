"""The measuring scripts of ``packaging/`` that docs quote run, briefly, and report what they say they do.

Their figures are timings and are not checked here (no timings in tests); what is checked is that
each documented command still runs to the end and its report holds what a reader of the docs expects,
and that the scripts of FER2013 pictures (and ``shape_auc.py``, ``live_still_agreement.py``) meet bad
input with one error line and exit code 2, show a progress bar over long work and explain each option.
Those run on made-up pictures in a temporary folder: they need no FER2013.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest
from helpers import FER_ROOT, REPO, assert_one_error_line, load_script, make_fer_folder, run_script

FER_SCRIPTS = ("group_faces", "party_bench", "still_latency", "turned_faces", "party_coverage")
"""The scripts that read FER2013's ``test/<class>/PublicTest_*.jpg`` pictures."""


@pytest.fixture(scope="module")
def made_fer(tmp_path_factory):
    """A made-up FER2013 root: one generated 48x48 PublicTest picture in each test/<class>/ (no real data)."""
    root = tmp_path_factory.mktemp("made_fer")
    make_fer_folder(root, train=0, public=1, private=0)
    return root


@pytest.fixture
def fer_with_a_text_file(tmp_path):
    """A made-up FER2013 root whose happy picture is a text file named .jpg; returns (root, that file)."""
    make_fer_folder(tmp_path, train=0, public=1, private=0)
    text = next((tmp_path / "test" / "happy").glob("PublicTest_*.jpg"))
    text.write_text("not a picture\n")
    return tmp_path, text


def test_faceless_photos_counts_boxes_on_eighteen_photos_and_finds_the_astronaut():
    """At 512 pixels the photo search invents few boxes on the eighteen faceless photos and boxes the
    astronaut once; without its second look it invents more."""
    done = run_script("faceless_photos", "--side", "512", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["boxes"]) == 18 and report["second_look"]
    assert report["false_boxes"] <= 3, report["boxes"]  # measured: 2 (the colour wheel and the coins)
    assert report["astronaut_boxes"] == 1
    done = run_script("faceless_photos", "--side", "512", "--json", "--no-second-look")
    assert done.returncode == 0, done.stderr
    without = json.loads(done.stdout)
    assert not without["second_look"] and without["false_boxes"] > report["false_boxes"], without["boxes"]  # 15


@pytest.mark.parametrize(("script", "option", "args"), [("soak", "--plot", ("--frames", "100000")),
                                                     ("group_faces", "--save", ("MADE_FER",))])
@pytest.mark.parametrize("name", ["plot.txt", "a-file/plot.png", "/proc/plot.png"])
def test_an_output_that_cannot_be_written_stops_the_script_before_its_work(tmp_path, made_fer, script, option, args,
                                                                          name):
    """A long soak or the group picture: a bad output name, or a folder where nothing can be written
    (/proc, even for root), is the script's one error line at once, not a traceback after the work."""
    if name.startswith("/proc") and not os.path.isdir("/proc/self"):
        pytest.skip("needs Linux's /proc")
    (tmp_path / "a-file").write_text("not a folder")
    args = [str(made_fer) if arg == "MADE_FER" else arg for arg in args]
    done = run_script(script, *args, option, str(tmp_path / name), timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1].startswith(f"{script}.py: error: {option} {tmp_path / name}: "), done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


def test_generated_bench_reports_drawing_mesh_and_frame(tmp_path):
    done = run_script("generated_bench", "--frames", "20")
    assert done.returncode == 0, done.stderr
    for start in ("machine:", "generated emoji 512 px, no cache: median", "live frame: median",
                  "FaceMesh.run: median", "the live sequence's generated emoji through the cache: median"):
        assert any(line.startswith(start) for line in done.stdout.splitlines()), start


def test_generated_pictures_writes_both_pictures_of_the_docs(tmp_path):
    done = run_script("generated_pictures", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    from PIL import Image
    assert Image.open(tmp_path / "generated-emoji-faces.png").size == (960, 160)  # three faces, each with its emoji
    assert Image.open(tmp_path / "generated-emoji-bases.png").size == (672, 384)  # seven bases, four shapes
    lines = done.stdout.splitlines()  # each face named, its measures and angles labelled
    assert [line.split(":")[0] for line in lines] == ["the sample face", "its mouth painted over", "turned 20 degrees"]
    smiles = [float(line.split(" smile ")[1].split(",")[0]) for line in lines]
    assert smiles[1] < smiles[0] - 0.3 and all(line.endswith(" degrees") for line in lines)  # the covered mouth loses the smile
    assert run_script("generated_pictures", "--out", str(tmp_path / "missing")).returncode == 2


@pytest.mark.skipif(not (FER_ROOT / "test").is_dir(), reason=f"FER2013 not found at {FER_ROOT}")
def test_party_bench_plays_the_group_at_both_sizes():
    done = run_script("party_bench", str(FER_ROOT), "--frames", "30", "--json")
    assert done.returncode == 0, done.stderr
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["size"] for r in reports] == ["640x480", "1280x720"]
    assert [r["predict_faces"] for r in reports] == [4, 5]  # what docs/face-detection.md quotes
    assert all(r["frames_without_stray"] >= 0.9 and r["party_vs_single"] > 0 for r in reports)
    for report in reports:  # the two nearest faces are boxed within a few frames (docs/face-detection.md)
        waits = list(report["first_boxed"].values())
        assert len(waits) == 6 and all(wait is not None and wait <= 5 for wait in waits[:2]), report["first_boxed"]


@pytest.mark.skipif(not (FER_ROOT / "test").is_dir(), reason=f"FER2013 not found at {FER_ROOT}")
def test_party_coverage_finds_faces_between_the_tiles_and_the_regions_look():
    """A 1920x1080 camera's region (1152 pixels): FER2013 faces of 0.14-0.28 of its side, which fell
    between the 320-pixel tiles and the region's one look (75% found on average, 62.5% at worst, on
    these eight faces), are found in nine places of ten over one round (docs/face-detection.md)."""
    done = run_script("party_coverage", str(FER_ROOT), "--sides", "1152", "--faces", "8", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    from emojify.faces import BlazeFaceDetector
    assert report["steps"] == len(BlazeFaceDetector().party_steps((768, 1152)))
    between = [share for fraction, share in report["found"].items() if 0.14 <= float(fraction) <= 0.28]
    assert len(between) == 6 and sum(between) / len(between) >= 0.9, report["found"]


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)")
def test_window_cost_measures_a_kiosk_on_its_own_screen():
    done = run_script("window_cost", "--sizes", "640x480", "--seconds", "1", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["screen"] == "640x480" and report["shown_fps"] > 0 and report["cpu_ms_per_shown_frame"] > 0


@pytest.mark.parametrize("args", [["--sizes", "800"], ["--sizes", "10x10"], ["--seconds", "0"]])
def test_window_cost_refuses_bad_arguments_in_one_line(args):
    done = run_script("window_cost", *args)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("window_cost.py: error:")


def test_panel_sizes_reports_the_big_emoji_giving_way_to_large_text_on_a_small_screen():
    done = run_script("panel_sizes", "--windows", "480x320", "1280x720", "--languages", "en", "de", "--json")
    assert done.returncode == 0, done.stderr
    emoji = {(line["window"], line["large_text"], line["language"]): line["emoji_px"] for line in json.loads(done.stdout)}
    assert len(emoji) == 8 and all(px >= 16 for px in emoji.values())
    for language in ("en", "de"):
        assert emoji["480x320", True, language] < emoji["480x320", False, language] < emoji["1280x720", False, language]
    # the German names are longer: on a small screen with large text its rows take more of the panel
    assert emoji["480x320", True, "de"] < emoji["480x320", True, "en"]


def test_panel_sizes_times_the_redraws_it_is_asked_for_and_names_the_processor():
    done = run_script("panel_sizes", "--windows", "320x320", "--languages", "fr", "--redraws", "3", "--json")
    assert done.returncode == 0, done.stderr
    lines = json.loads(done.stdout)
    assert len(lines) == 2 and all(line["panel_redraw_ms"] > 0 and line["challenge_redraw_ms"] > 0 for line in lines)
    assert all(line["cpu"] == lines[0]["cpu"] for line in lines)
    plain = json.loads(run_script("panel_sizes", "--windows", "320x320", "--languages", "fr", "--json").stdout)
    assert [{k: v for k, v in line.items() if k in plain[0]} for line in lines] == plain  # the sizes as without


@pytest.mark.parametrize("args", [["--windows", "480"], ["--windows", "100x100"], ["--languages", "xx"],
                                  ["--redraws", "-1"], ["--redraws", "many"]])
def test_panel_sizes_refuses_bad_arguments_in_one_line(args):
    done = run_script("panel_sizes", *args)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("panel_sizes.py: error:")


def test_the_docs_quote_each_script_tested_here():
    docs = "\n".join(path.read_text() for path in (REPO / "docs").glob("*.md"))
    for name in ("faceless_photos", "generated_bench", "generated_pictures", "party_bench", "party_coverage",
                 "window_cost", "shape_auc", "panel_sizes"):
        assert f"packaging/{name}.py" in docs, name


@pytest.mark.parametrize("script", FER_SCRIPTS)
@pytest.mark.parametrize("where", ["missing", "a-file", "empty"])
def test_a_folder_that_is_no_fer2013_root_is_one_line_naming_it(tmp_path, script, where):
    """A mistyped FER2013 path, a file in its place or an empty folder: the script's one error line
    naming it, before any work (no traceback from an empty list of pictures)."""
    fer = tmp_path / where
    if where == "a-file":
        fer.write_text("not a folder")
    elif where == "empty":
        fer.mkdir()
    done = run_script(script, str(fer), timeout=120)
    assert_one_error_line(done, script, f"{fer}: no FER2013 test/<class> folders there")


def test_a_class_folder_without_pictures_is_one_line_naming_it(tmp_path):
    make_fer_folder(tmp_path, train=0, public=1, private=0)
    for picture in (tmp_path / "test" / "fear").iterdir():
        picture.unlink()
    done = run_script("group_faces", str(tmp_path), timeout=120)
    assert_one_error_line(done, "group_faces", f"{tmp_path / 'test' / 'fear'}: no PublicTest_*.jpg pictures there")


def test_a_mistyped_fer2013_path_makes_no_folder_for_the_saved_picture(tmp_path):
    """The data is checked before ``--save``'s folder is made: a typo leaves nothing behind."""
    done = run_script("group_faces", str(tmp_path / "no-such-fer2013"), "--save",
                      str(tmp_path / "made_by_typo" / "group.png"), timeout=120)
    assert_one_error_line(done, "group_faces", f"{tmp_path / 'no-such-fer2013'}: no FER2013 test/<class> folders")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("script", "args"), [("group_faces", ()), ("turned_faces", ("--per-class", "1")),
                                              ("party_coverage", ("--faces", "1", "--sides", "200"))])
def test_a_file_among_the_faces_that_is_no_picture_is_one_line_naming_it(fer_with_a_text_file, script, args):
    root, text = fer_with_a_text_file
    done = run_script(script, str(root), *args, timeout=120)
    assert_one_error_line(done, script, f"{text}: not an image")


@pytest.mark.parametrize(("script", "args", "module", "package"), [
    ("group_faces", ("--detector", "haar"), "skimage", "scikit-image"),
    ("party_bench", ("--frames", "1"), "skimage", "scikit-image"),
    ("still_latency", ("--snapshots", "1"), "skimage", "scikit-image"),
    ("party_coverage", ("--faces", "1", "--sides", "200"), "skimage", "scikit-image")])
def test_a_missing_library_is_one_line_naming_its_pip_package(made_fer, script, args, module, package):
    """scikit-image (the rocket photo behind the faces) not installed."""
    done = run_script(script, str(made_fer), *args, timeout=120, without=(module,))
    line = assert_one_error_line(done, script)
    assert line.endswith(f"(pip install {package})"), line


def test_without_tqdm_the_work_is_done_without_a_progress_bar(made_fer):
    """tqdm draws the bars only (as in ``emojify evaluate``): without it the report is the same."""
    args = (str(made_fer), "--per-class", "1", "--angles", "0", "--json")
    done = run_script("turned_faces", *args, timeout=120, without=("tqdm",))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert json.loads(done.stdout) == json.loads(run_script("turned_faces", *args, timeout=120).stdout)


@pytest.mark.parametrize(("script", "args", "option"), [
    ("still_latency", ("--snapshots", "0"), "--snapshots"),
    ("party_bench", ("--frames", "0"), "--frames"),
    ("turned_faces", ("--per-class", "0"), "--per-class"),
    ("turned_faces", ("--per-class", "-1"), "--per-class"),
    ("turned_faces", ("--brightness", "-2"), "--brightness"),
    ("turned_faces", ("--brightness", "0"), "--brightness"),
    ("turned_faces", ("--angles", "0", "nan"), "--angles"),
    ("turned_faces", ("--angles", "400"), "--angles"),
    ("party_coverage", ("--seed", "-1"), "--seed"),
    ("party_coverage", ("--faces", "0"), "--faces"),
    ("party_coverage", ("--sides", "199"), "--sides"),
    ("party_coverage", ("--shares", "0.1", "0.6"), "--shares")])
def test_a_count_or_value_out_of_range_is_one_line_naming_the_option(made_fer, script, args, option):
    done = run_script(script, str(made_fer), *args, timeout=120)
    line = assert_one_error_line(done, script, f"argument {option}: ")
    assert args[-1] in line


def test_more_faces_than_the_data_has_is_one_line_saying_how_many_there_are(made_fer):
    """Four classes in turn, one picture each: four faces to paste, not five."""
    done = run_script("party_coverage", str(made_fer), "--faces", "5", "--sides", "200", timeout=120)
    line = assert_one_error_line(done, "party_coverage", "--faces 5: ")
    assert "has only 4 faces to paste" in line, line


def test_party_coverage_reports_the_face_sizes_asked_for(made_fer):
    """``--shares`` picks the face sizes (docs/face-detection.md's smallest faces are measured so)."""
    done = run_script("party_coverage", str(made_fer), "--faces", "2", "--sides", "200",
                      "--shares", "0.025", "0.2", "--json", timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(json.loads(done.stdout)["found"]) == ["0.025", "0.2"]


@pytest.mark.skipif(not (FER_ROOT / "test").is_dir(), reason=f"FER2013 not found at {FER_ROOT}")
def test_party_coverage_counts_a_share_given_twice_once():
    """Near faces, found everywhere: a share given twice is one share of at most 100% (it was
    pasted twice and counted as 200%)."""
    done = run_script("party_coverage", str(FER_ROOT), "--sides", "384", "--faces", "2", "--shares", "0.3", "0.3",
                      "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["found"] == {"0.3": 1.0}


def test_party_bench_passes_on_emojify_bench_s_own_reason():
    """A failing ``emojify`` command is its one-line reason after the command's name, not a
    CalledProcessError that hides it."""
    from emojify.errors import EmojifyError

    with pytest.raises(EmojifyError, match=r"^emojify bench: .*--frames") as caught:
        load_script("party_bench").emojify("bench", "--frames", "0", "--json")
    assert "\n" not in str(caught.value) and "error: " not in str(caught.value)


def test_turned_faces_says_what_its_accuracy_is_over(made_fer):
    done = run_script("turned_faces", str(made_fer), "--per-class", "1", "--angles", "0", timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = done.stdout.splitlines()
    assert re.search(r"found \d+/7 .*right of all 7 \(a face not found counts as wrong\): aligned \d+ ", row), row
    done = run_script("turned_faces", str(made_fer), "--per-class", "1", "--angles", "0", "--json", timeout=300)
    report = json.loads(done.stdout)
    assert report["accuracy_of"] == "all faces (a face not found counts as wrong)"
    assert report["rows"][0]["accuracy_aligned"] == pytest.approx(report["rows"][0]["right_aligned"] / 7, abs=1e-4)


def run_on_a_terminal(name: str, *args: str, timeout: float = 300) -> tuple[int, str, str]:
    """Run ``packaging/<name>.py ARGS`` as :func:`on_a_terminal` does."""
    return on_a_terminal([sys.executable, str(REPO / "packaging" / f"{name}.py"), *args], timeout)


def on_a_terminal(command: list[str], timeout: float = 300) -> tuple[int, str, str]:
    """Run ``command`` with its stderr on a pseudo-terminal, as in a shell, and its stdout on a pipe:
    (exit code, stdout, all the terminal was sent)."""
    import fcntl
    import pty
    import struct
    import termios

    terminal, its_end = pty.openpty()
    fcntl.ioctl(its_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 24 rows of 120, as a window
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=its_end)
    os.close(its_end)
    shown, deadline = b"", time.monotonic() + timeout
    with contextlib.suppress(OSError):  # EIO: the script ended and closed the terminal
        while time.monotonic() < deadline:
            if select.select([terminal], [], [], 1)[0]:
                if not (chunk := os.read(terminal, 65536)):
                    break
                shown += chunk
            elif process.poll() is not None:
                break
    os.close(terminal)
    stdout = process.communicate(timeout=max(deadline - time.monotonic(), 1))[0]
    return process.returncode, stdout.decode(), shown.decode(errors="replace")


@pytest.mark.parametrize(("script", "args", "bar"), [
    ("turned_faces", ("MADE_FER", "--per-class", "1", "--angles", "0"), "+0 deg"),
    ("party_coverage", ("MADE_FER", "--faces", "1", "--sides", "200"), "200x133 region"),
    ("live_still_agreement", ("MADE_FER/test/happy", "--seconds", "0.2"), "pictures"),
    ("shape_auc", ("--fer", "MADE_FER/test", "--real", "MADE_FER/none", "--per-class", "1"), "test/angry")])
def test_long_work_shows_a_progress_bar_on_the_terminal_and_json_stays_clean(made_fer, script, args, bar):
    """On a terminal, each script's long loop shows a tqdm bar (``done/total``) on stderr; stdout holds
    only the report (one JSON document where the script has ``--json``)."""
    args = [arg.replace("MADE_FER", str(made_fer)) for arg in args]
    json_option = ["--json"] if script != "shape_auc" else []
    code, stdout, shown = run_on_a_terminal(script, *args, *json_option)
    assert code == 0, shown
    assert re.search(rf"{re.escape(bar)}: +\d+%\|.*\| \d+/\d+ \[", shown), shown
    if json_option:
        assert all(json.loads(line) for line in stdout.splitlines()), stdout
    assert "%|" not in stdout


def test_emojify_evaluate_json_shows_its_progress_bar_on_the_terminal_too(made_fer):
    """As the scripts' ``--json``: the bar goes to the terminal (stderr), stdout holds only the JSON;
    a maker waiting minutes on real photos sees the work move."""
    code, stdout, shown = on_a_terminal([sys.executable, "-m", "emojify", "evaluate", str(made_fer / "test"), "--json"])
    assert code == 0, shown
    assert re.search(r"\d+%\|.*\| \d+/\d+ \[", shown), shown
    assert json.loads(stdout)["n"] > 0 and "%|" not in stdout


HELP_SAYS = {
    "group_faces": "--save", "party_bench": "--frames", "still_latency": "--snapshots", "turned_faces": "--angles",
    "party_coverage": "--sides", "shape_auc": "--landmarker", "live_still_agreement": "--seconds",
    "generated_bench": "FaceMesh.run",  # the description's last paragraph, not only its first line
    "generated_pictures": "generated-emoji-bases.png", "faceless_photos": "--no-second-look", "soak": "--plot",
    "window_cost": "Xvfb", "panel_sizes": "gives way", "render_emojis": "fonts-noto-color-emoji",
}
"""Each measuring script, and a phrase its whole ``--help`` holds."""


@pytest.mark.parametrize(("script", "phrase"), HELP_SAYS.items(), ids=list(HELP_SAYS))
def test_help_explains_every_option_on_its_own(script, phrase):
    """Each option in ``--help`` has its own text, with nothing left to a summary that is not there."""
    done = run_script(script, "--help", timeout=120)
    assert done.returncode == 0, done.stderr
    options = re.split(r"\n(?:options|optional arguments):\n", done.stdout)[1]
    entries = re.split(r"\n(?=  -)", options.rstrip())
    bare = [entry.split()[0] for entry in entries if not re.search(r"\S {2,}\S|\n {10,}\S", entry.strip())]
    assert not bare, f"options without help: {bare}"
    assert "see above" not in done.stdout and phrase in done.stdout


def test_every_script_ends_a_stop_with_one_line():
    """Each script run by hand goes through until_interrupted (exit_with), as soak's stop is tested below:
    generated_pictures.py ended a Ctrl-C in a traceback and SIGTERM in silence, its temporary file left in docs/."""
    for path in sorted((REPO / "packaging").glob("*.py")):
        text = path.read_text()
        if '__name__ == "__main__"' in text:
            ending = text.split('__name__ == "__main__"', 1)[1]
            assert "exit_with(main)" in ending or "until_interrupted(" in ending, path.name


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_ends_a_long_soak_with_one_line_not_a_traceback(stop, code):
    """A 20,000-frame soak is the one people stop, with Ctrl-C or ``kill``/``timeout``: the exit code a
    shell reports for each (130, 143) and the script's one line, where SIGTERM ended it in silence."""
    soak = subprocess.Popen([sys.executable, str(REPO / "packaging" / "soak.py"), "--frames", "1000000", "--block", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert soak.stdout.readline().strip().endswith("MB")  # the first block: it is measuring
        soak.send_signal(stop)
        _, err = soak.communicate(timeout=60)
    finally:
        soak.kill()
    assert soak.returncode == code and err.splitlines() == ["soak.py: stopped"], err
