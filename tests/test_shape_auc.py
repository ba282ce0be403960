"""``packaging/shape_auc.py``: its hand-written ROC AUC and discriminant, and a run over made pictures."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import cv2
import numpy as np
import pytest
from helpers import REPO, load_script

from emojify.faces import BlazeFaceDetector
from emojify.imageio import read_image
from emojify.landmarks import crop_matrix, load_mesh, to_picture
from emojify.resources import SAMPLE_FACE

SCRIPT = REPO / "packaging" / "shape_auc.py"
LANDMARKER_MODELS = ("face_landmarks_detector.tflite", "face_blendshapes.tflite")
"""The bundle's two models, by the names MediaPipe gives them."""


@pytest.fixture(scope="module")
def script():
    return load_script("shape_auc")


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_is_the_share_of_pairs_in_order_ties_counting_half(script, seed):
    rng = np.random.default_rng(seed)
    higher, lower = rng.integers(0, 6, 40), rng.integers(0, 5, 25)  # few values: many ties
    pairs = higher[:, None] - lower[None, :]
    expected = ((pairs > 0).sum() + 0.5 * (pairs == 0).sum()) / pairs.size
    assert script.roc_auc(higher, lower) == pytest.approx(expected)


def test_roc_auc_ends_and_middle(script):
    assert script.roc_auc([3, 4], [1, 2]) == 1.0
    assert script.roc_auc([1, 2], [3, 4]) == 0.0
    assert script.roc_auc([5, 5], [5]) == 0.5
    assert np.isnan(script.roc_auc([], [1.0]))


def test_auc_interval_holds_the_figure_and_narrows_with_more_pictures(script):
    rng = np.random.default_rng(1)
    few = rng.normal(0.5, 1, 30), rng.normal(0, 1, 30)
    many = rng.normal(0.5, 1, 3000), rng.normal(0, 1, 3000)
    (low, high), (low_many, high_many) = script.auc_interval(*few, rounds=300), script.auc_interval(*many, rounds=300)
    assert low < script.roc_auc(*few) < high and low_many < script.roc_auc(*many) < high_many
    assert high_many - low_many < (high - low) / 5  # a hundred times the pictures: a tenth of the width
    assert low_many < 0.638 < high_many  # the true ROC AUC of these two normals, Phi(0.5 / sqrt(2))
    assert script.auc_interval([2.0, 3.0], [0.0, 1.0], rounds=50) == (1.0, 1.0)


def test_fisher_direction_discounts_what_both_classes_share(script):
    """Two classes apart along x, both spread far along x + y: the discriminant leans against the
    shared spread, and separates fresh samples far better than the plain difference of the means
    (ROC AUC 0.84 against 0.59 in theory)."""
    rng = np.random.default_rng(0)

    def sample(shift: float, n: int = 2000) -> np.ndarray:
        shared = rng.normal(0, 3, n)
        return np.stack([shift + shared + rng.normal(0, 0.5, n), shared + rng.normal(0, 0.5, n)], 1)

    higher, lower = sample(1.0), sample(0.0)
    weights = script.fisher_direction(higher, lower)
    naive = higher.mean(0) - lower.mean(0)
    assert weights[0] > 0 > weights[1]
    fresh_high, fresh_low = sample(1.0), sample(0.0)
    fisher = script.roc_auc(fresh_high @ weights, fresh_low @ weights)
    assert fisher > 0.8 and fisher > script.roc_auc(fresh_high @ naive, fresh_low @ naive) + 0.2


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """happy/: the smiling sample photo as it is, mirrored and darker; neutral/: the same three with
    the mouth painted over with the cheek's skin (no smile left). No angry or surprise pictures."""
    photo = read_image(SAMPLE_FACE)
    face = BlazeFaceDetector.for_stills().detect(photo)[0]
    covered = load_script("generated_pictures").mouth_covered(photo, load_mesh().run(photo, face.box, face.roll).points)
    root = tmp_path_factory.mktemp("shapes")
    for name, picture in (("happy", photo), ("neutral", covered)):
        (root / name).mkdir()
        for variant, made in (("as-is", picture), ("mirrored", picture[:, ::-1]), ("darker", (picture * 0.7).astype(np.uint8))):
            assert cv2.imwrite(str(root / name / f"{variant}.jpg"), made)
    return root


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=REPO)


def test_the_script_scores_made_pictures_and_says_which_pairs_have_no_faces(pictures, tmp_path):
    done = run_script("--fer", str(tmp_path / "missing"), "--real", str(pictures), "--learned", "--train", str(pictures))
    assert done.returncode == 0, done.stderr
    assert "FER2013 PublicTest" in done.stderr and "not found, skipped" in done.stderr
    lines = done.stdout.splitlines()
    smile = next(line for line in lines if line.strip().startswith("smile      happy > neutral"))
    assert "ROC AUC 1.000 (95% interval 1.000-1.000; target 0.95, met)" in smile
    assert any(line.strip().startswith("mouth_open surprise > neutral") and "no faces" in line for line in lines)
    learned = next(line for line in lines if line.strip().startswith("smile") and "(40 points)" in line)
    assert "happy > neutral 1.000" in learned and "angry: no faces" in learned  # fitted and scored on the same six pictures: the plumbing works
    assert any(line.strip().startswith("mouth_open skipped: fewer than two training faces of surprise") for line in lines)
    assert any(line.strip().startswith("brows      skipped: fewer than two training faces of angry") for line in lines)
    assert "nan" not in done.stdout  # a class without faces has no median, and says so
    assert any(line.strip().startswith("smile      medians: angry no faces, happy +") for line in lines)
    ends = next(line for line in lines if line.strip().startswith("smile      under -0.3 / over 0.7"))
    assert "angry no faces / no faces, happy 0% / 100%," in ends and "sad no faces" in ends  # her broad smile grins


def test_shares_are_whole_percents_and_say_when_there_are_no_faces():
    script = load_script("shape_auc")
    assert script.share([True, False, False, False]) == "25%" and script.share([False] * 3) == "0%"
    assert script.share([]) == "no faces"


def test_nothing_to_measure_is_one_line_and_exit_code_2(tmp_path):
    """Both folders missing, or one empty: one line naming each, not two notes and an exit code of 0
    (or medians of nan) for a run that measured nothing."""
    (tmp_path / "empty").mkdir()
    real = tmp_path / "no-such-folder"
    for fer, why in (("missing", "not found"), ("empty", ": no pictures of angry, happy, neutral, sad or surprise there")):
        done = run_script("--fer", str(tmp_path / fer), "--real", str(real))
        assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"shape_auc.py: error: nothing to measure: --fer {tmp_path / fer}"), line
        assert why in line and line.endswith(f"; --real {real} not found"), line


def test_a_file_that_is_no_picture_is_one_line_naming_it(tmp_path):
    (tmp_path / "angry").mkdir()
    text = tmp_path / "angry" / "not-a-picture.jpg"
    text.write_text("not a picture\n")
    done = run_script("--fer", str(tmp_path / "missing"), "--real", str(tmp_path), "--per-class", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"shape_auc.py: error: {text}: not an image (unrecognised format)"
    text.rename(tmp_path / "angry" / "._not-a-picture.jpg")  # what macOS writes beside a photo on a memory stick
    done = run_script("--fer", str(tmp_path / "missing"), "--real", str(tmp_path), "--per-class", "1")
    assert done.returncode == 2 and "nothing to measure" in done.stderr, done.stderr  # passed over, as evaluate does


def test_a_photo_measured_again_at_its_own_size_moves_nothing(script, pictures):
    done = run_script("--fer", "no-such-folder", "--real", str(pictures), "--scaled", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    head = lines.index(next(line for line in lines if line.startswith("Photos resized 1x")))
    assert "(6 faces with a mesh at both sizes" in lines[head]
    for line, measure in zip(lines[head + 1:head + 5], script.SCALED_MEASURES, strict=True):
        assert " ".join(line.split()) == f"{measure} moves median 0.000, 90th percentile 0.000; less than 0.05 on 100% of the faces"


def test_scale_moves_measures_each_photo_at_both_sizes(script, pictures):
    moves, widths = script.scale_moves(pictures, 10, 0, None, 0.5)
    assert moves.shape == (6, 4) and (moves >= 0).all()
    assert widths[:, 1] / widths[:, 0] == pytest.approx(np.full(6, 0.5), abs=0.05)  # the face found again, half as wide
    assert moves.max() > 0  # a face half as big is not the same picture to the mesh


@pytest.mark.parametrize("args", [["--per-class", "0"], ["--learned", "--train", "no-such-folder"], ["--scaled", "0"]])
def test_the_script_refuses_bad_arguments_in_one_line(args):
    done = run_script(*args)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("shape_auc.py: error:")


def test_a_bundle_without_the_face_landmarkers_models_is_refused_in_one_line(script, tmp_path):
    """The shipped 468-point mesh packed under the Face Landmarker's names is not its 478-point mesh;
    a zip without the names, or no zip at all, is refused too."""
    shipped = (REPO / "model" / "face_landmark.tflite").read_bytes()
    wrong = tmp_path / "wrong.task"
    with zipfile.ZipFile(wrong, "w") as bundle:
        for name in LANDMARKER_MODELS:
            bundle.writestr(name, shipped)
    empty = tmp_path / "empty.task"
    with zipfile.ZipFile(empty, "w") as bundle:
        bundle.writestr("readme.txt", "no models")
    text = tmp_path / "text.task"
    text.write_text("not a zip")
    for path, why in ((wrong, r"\[1404, 1\]"), (empty, "face_landmarks_detector.tflite"), (text, "zip")):
        with pytest.raises(ValueError, match=f"not a Face Landmarker bundle.*{why}") as caught:
            script.Landmarker(path)
        assert "\n" not in str(caught.value)


def test_the_script_refuses_a_missing_landmarker_bundle_before_measuring(tmp_path):
    done = run_script("--landmarker", str(tmp_path / "face_landmarker.task"), "--fer", str(tmp_path), "--real", str(tmp_path))
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.strip().splitlines()[-1] == f"shape_auc.py: error: --landmarker: {tmp_path / 'face_landmarker.task'} not found"


def stand_in_bundle(path, crop_points: np.ndarray, score_logit: float = 5.0) -> None:
    """A bundle of two small models with the Face Landmarker's shapes: the mesh gives ``crop_points``
    (478, 3), ``score_logit`` and, after it, another single value (its opposite: taking it for the
    score would be caught) whatever the crop; the blendshapes give back the x of their first 52 points."""
    tf = pytest.importorskip("tensorflow")

    crop = tf.keras.Input((256, 256, 3), batch_size=1)
    touch = tf.keras.layers.Lambda(lambda x: tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True) * 0.0)(crop)
    points = tf.keras.layers.Lambda(lambda t: tf.reshape(tf.constant(crop_points.reshape(-1), tf.float32), (1, 1, 1, -1)) + t)(touch)
    score = tf.keras.layers.Lambda(lambda t: t + score_logit)(touch)
    other = tf.keras.layers.Lambda(lambda t: tf.reshape(t, (1, 1)) - score_logit)(touch)
    read = tf.keras.Input((146, 2), batch_size=1)
    first_x = tf.keras.layers.Lambda(lambda p: tf.reshape(p[0, :52, 0], (52,)))(read)
    with zipfile.ZipFile(path, "w") as bundle:
        for name, model in zip(LANDMARKER_MODELS, (tf.keras.Model(crop, [points, score, other]), tf.keras.Model(read, first_x)),
                               strict=True):
            bundle.writestr(name, tf.lite.TFLiteConverter.from_keras_model(model).convert())


def test_the_landmarker_maps_its_points_back_and_feeds_the_blendshapes_their_points_in_picture_pixels(script, tmp_path):
    rng = np.random.default_rng(0)
    crop_points = np.column_stack([rng.uniform(0, 256, (478, 2)), rng.uniform(-20, 20, 478)]).astype(np.float32)
    stand_in_bundle(tmp_path / "stand-in.task", crop_points)
    landmarker = script.Landmarker(tmp_path / "stand-in.task")
    picture = np.full((480, 640, 3), 128, np.uint8)
    box, roll = (300, 100, 120, 150), 12.0
    points, blendshapes = landmarker.run(picture, box, roll)
    expected = to_picture(crop_points, crop_matrix(box, roll, 256))
    np.testing.assert_allclose(points, expected, atol=1e-3)
    assert abs(np.linalg.norm(points[1, :2] - points[0, :2]) / np.linalg.norm(crop_points[1, :2] - crop_points[0, :2])
               - 1.5 * 150 / 256) < 1e-4  # the crop is 1.5 times the box's longer side
    np.testing.assert_allclose(blendshapes, expected[list(script.BLENDSHAPE_POINTS[:52]), 0], atol=1e-3)
    assert len(landmarker.mesh_ms) == len(landmarker.blend_ms) == 1
    stand_in_bundle(tmp_path / "no-face.task", crop_points, score_logit=-5.0)
    assert script.Landmarker(tmp_path / "no-face.task").run(picture, box, roll) is None  # a low face score: no mesh
    order = script.BLENDSHAPE_POINTS  # MediaPipe's 146, rising, the ten iris points (468-477) last
    assert len(order) == 146 and list(order) == sorted(set(order)) and order[-10:] == tuple(range(468, 478))


def test_the_held_out_private_test_faces_are_never_in_the_sample(tmp_path):
    """The Kaggle download's test/ holds PrivateTest_* beside PublicTest_*: the script's "FER2013
    PublicTest" figures take only the latter (and any picture of no split, as the real photos)."""
    script = load_script("shape_auc")
    (tmp_path / "happy").mkdir()
    for name in ("PublicTest_1.jpg", "PrivateTest_2.jpg", "privatetest_3.jpg", "photo.jpg"):
        (tmp_path / "happy" / name).write_bytes(b"")
    assert sorted(p.name for p in script.chosen(tmp_path, "happy", 10, 0, None)) == ["PublicTest_1.jpg", "photo.jpg"]
