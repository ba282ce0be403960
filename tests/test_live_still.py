"""``packaging/live_still_agreement.py``: the live view and ``predict`` read a steady face alike."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import ASTRONAUT_FACE, REPO, load_script

from emojify.imageio import read_image
from emojify.pipeline import Pipeline
from emojify.resources import SAMPLE_FACE

SCRIPT = REPO / "packaging" / "live_still_agreement.py"


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Three head shots cut from the bundled astronaut photo (as it is, mirrored, darker), and a wall without a face."""
    photo = cv2.imread(str(SAMPLE_FACE))
    x, y, w, h = ASTRONAUT_FACE
    side = int(max(w, h) * 1.8)
    cx, cy = x + w // 2, y + h // 2
    head = photo[max(cy - side // 2, 0):cy + side // 2, max(cx - side // 2, 0):cx + side // 2]
    root = tmp_path_factory.mktemp("pictures")
    (root / "happy").mkdir()
    for name, picture in {"head.png": head, "mirrored.png": head[:, ::-1],
                          "darker.png": (head * 0.6).astype(np.uint8)}.items():
        assert cv2.imwrite(str(root / "happy" / name), picture)
    wall = cv2.GaussianBlur(np.random.default_rng(0).integers(60, 200, (192, 192)).astype(np.uint8), (9, 9), 3)
    assert cv2.imwrite(str(root / "wall.png"), wall)
    return root


def test_script_plays_the_faces_and_its_counts_add_up(pictures):
    done = subprocess.run([sys.executable, str(SCRIPT), str(pictures), "--seconds", "1", "--json"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pictures"] == 4
    assert report["both_found"] == 3 and report["still_no_face"] == 1 and report["live_no_face"] == 1
    assert report["agree"] + sum(report["differ"].values()) == report["both_found"]
    assert report["share"] == pytest.approx(report["agree"] / report["both_found"])
    assert report["agree"] == 3  # the smiling astronaut reads the same live and still


def test_the_script_refuses_counts_that_do_not_add_up():
    agreement = load_script("live_still_agreement").Agreement(pictures=3, both_found=3, agree=2, differ={}, share=2 / 3)
    with pytest.raises(ArithmeticError, match="agree"):
        agreement.check()
    agreement = load_script("live_still_agreement").Agreement(pictures=3, both_found=3, agree=2, differ={"happy -> sad": 1}, share=0.5)
    with pytest.raises(ArithmeticError, match="share"):
        agreement.check()


def test_an_empty_folder_is_one_line_and_exit_code_2(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=REPO)
    assert done.returncode == 2 and "no pictures found" in done.stderr and len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [["--limit", "-1"], ["--limit", "0"], ["--noise", "-1"], ["--seconds", "0"],
                                  ["--seconds", "-1"], ["--seconds", "0.03"]])
def test_a_count_or_time_out_of_range_is_one_line_and_exit_code_2(pictures, args):
    """No limit of 0 that means none, no noise below 0, and no picture shown for less than a frame
    (which reported "0 of 0 pictures read alike" as a figure)."""
    done = subprocess.run([sys.executable, str(SCRIPT), str(pictures), *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=REPO)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"live_still_agreement.py: error: argument {args[0]}: ")


def test_a_steady_face_is_cut_and_read_alike_live_and_still(pictures):
    """Both searches end with the same last look at the face, so the live path classifies the very crop
    ``predict`` does, though their first boxes differ by a few pixels (the region's one look, the tiles)."""
    script, pipeline = load_script("live_still_agreement"), Pipeline(shapes=False)
    region_height = pipeline.region(np.zeros((*script.FRAME, 3), np.uint8))[3]
    first_boxes_differ = 0
    for path in sorted((pictures / "happy").iterdir()):
        frame = script.in_frame(read_image(path), region_height)
        (live, *_), (still, *_) = pipeline.detect(frame)[1], pipeline.detect(frame, use_region=False)[1]
        assert live.box == still.box and live.roll == pytest.approx(still.roll), path.name
        live_probabilities = pipeline.classify(pipeline.crops(frame, [live]))
        np.testing.assert_allclose(live_probabilities, pipeline.classify(pipeline.crops(frame, [still])), atol=1e-6)
        first_boxes_differ += (pipeline.detector.detect(frame, pipeline.region(frame))[0].box
                               != pipeline.still_detector.detect(frame)[0].box)
    assert first_boxes_differ  # the pictures do test the last look: without it their boxes differ


def test_the_two_halves_split_the_pictures_chosen(pictures, tmp_path):
    script = load_script("live_still_agreement")
    for hidden in ("happy/._photo.jpg", ".ipynb_checkpoints/photo.jpg"):  # macOS's and Jupyter's: passed over, as evaluate does
        (tmp_path / hidden).parent.mkdir(exist_ok=True)
        (tmp_path / hidden).write_bytes(b"not a picture")
    (tmp_path / "happy" / "photo.jpg").write_bytes(b"a picture")
    assert script.picture_files(tmp_path, None) == [tmp_path / "happy" / "photo.jpg"]
    chosen = script.picture_files(pictures, 3)
    first, second = script.picture_files(pictures, 3, 1), script.picture_files(pictures, 3, 2)
    assert len(chosen) == 3 and first == chosen[0::2] and second == chosen[1::2]
