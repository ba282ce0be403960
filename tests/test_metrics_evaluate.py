"""Scoring the model: the metrics on hand-checkable cases, and ``emojify evaluate`` end to end."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from helpers import fer_files, load_json_output, run_cli, stderr_lines
from PIL import Image

from emojify.labels import CLASSES
from emojify.metrics import (
    ECE_BINS,
    confusion_matrix,
    expected_calibration_error,
    reliability_bins,
    summarize,
)
from emojify.preprocess import prepare_face

A, D, F, H, S, U, N = range(7)  # angry, disgust, fear, happy, sad, surprise, neutral


# --- metrics ------------------------------------------------------------------------------------

def test_accuracy_recall_and_confusion_by_hand():
    y_true = [H, H, H, H, S, S]
    y_pred = [H, H, H, S, S, A]
    summary = summarize(np.array(y_true), np.array(y_pred))
    assert summary["n"] == 6
    assert summary["accuracy"] == pytest.approx(4 / 6)
    assert summary["per_class_recall"]["happy"] == pytest.approx(3 / 4)
    assert summary["per_class_recall"]["sad"] == pytest.approx(1 / 2)
    confusion = np.array(summary["confusion"])
    assert confusion.shape == (7, 7)
    assert confusion[H, H] == 3 and confusion[H, S] == 1 and confusion[S, S] == 1 and confusion[S, A] == 1
    assert confusion.sum() == 6
    assert summary["support"] == {c: (4 if c == "happy" else 2 if c == "sad" else 0) for c in CLASSES}


def test_accuracy_comes_with_its_95_percent_interval():
    """Wilson's interval: 4 of 6 right is 0.300-0.903 (the textbook figures); none or all of 10 right
    reach 0 or 1 and not beyond; more faces, a narrower interval; no faces, none."""
    def interval(hits: int, n: int) -> list[float] | None:
        return summarize(np.array([H] * n), np.array([H] * hits + [S] * (n - hits)))["accuracy_interval"]

    assert interval(4, 6) == pytest.approx([0.3000, 0.9032], abs=1e-4)
    assert interval(0, 10) == pytest.approx([0.0, 0.2775], abs=1e-4)
    assert interval(10, 10) == pytest.approx([0.7225, 1.0], abs=1e-4) and interval(10, 10)[1] <= 1.0
    low, high = interval(400, 600)
    assert 0.3 < low < 4 / 6 < high < 0.903 and high - low < 0.08
    assert summarize(np.array([], int), np.array([], int))["accuracy_interval"] is None


def test_macro_f1_averages_only_classes_that_occur():
    """Angry is predicted once but never true: it is not in the macro average and has no recall."""
    y_true = [H, H, H, H, S, S]
    y_pred = [H, H, H, S, S, A]
    summary = summarize(np.array(y_true), np.array(y_pred))
    f1_happy = 2 * 1.0 * 0.75 / (1.0 + 0.75)  # precision 3/3, recall 3/4
    f1_sad = 2 * 0.5 * 0.5 / (0.5 + 0.5)  # precision 1/2, recall 1/2
    assert summary["macro_f1"] == pytest.approx((f1_happy + f1_sad) / 2)
    for name in ("angry", "disgust", "fear", "surprise", "neutral"):
        assert summary["per_class_recall"][name] is None, name


def test_perfect_and_hopeless_predictions():
    y = np.array([A, D, F, H, S, U, N, H])
    perfect = summarize(y, y)
    assert perfect["accuracy"] == 1.0 and perfect["macro_f1"] == pytest.approx(1.0)
    assert all(r == 1.0 for r in perfect["per_class_recall"].values())
    hopeless = summarize(y, (y + 1) % 7)
    assert hopeless["accuracy"] == 0.0 and hopeless["macro_f1"] == 0.0


def test_no_samples_gives_zero_not_a_crash():
    summary = summarize(np.array([], int), np.array([], int))
    assert summary["n"] == 0 and summary["accuracy"] == 0.0 and summary["macro_f1"] == 0.0
    assert all(r is None for r in summary["per_class_recall"].values())


def test_confusion_matrix_counts_true_rows_predicted_columns():
    matrix = confusion_matrix(np.array([F, F, N]), np.array([S, S, F]))
    assert matrix[F, S] == 2 and matrix[N, F] == 1 and matrix.sum() == 3


def test_balanced_accuracy_weighs_every_present_class_alike():
    """Nine happy faces right and one sad face wrong: 90% accuracy, but only half the expressions work."""
    y_true = np.array([H] * 9 + [S])
    y_pred = np.array([H] * 10)
    assert summarize(y_true, y_pred)["accuracy"] == pytest.approx(0.9)
    assert summarize(y_true, y_pred)["balanced_accuracy"] == pytest.approx(0.5)
    assert summarize(np.array([], int), np.array([], int))["balanced_accuracy"] == 0.0


def one_hot_ish(top: list[int], confidence: list[float]) -> np.ndarray:
    """Probability rows whose top class is ``top`` with the given probability (the rest spread evenly)."""
    rows = np.array([[(1 - c) / 6] * 7 for c in confidence])
    rows[np.arange(len(top)), top] = confidence
    return rows


def test_ece_by_hand():
    """Two bins: 0.9 shown, 2 of 4 right (gap 0.4); 0.5 shown, 1 of 2 right (gap 0): ECE = 4/6 * 0.4."""
    y_true = np.array([H, H, S, S, A, A])
    probabilities = one_hot_ish([H, H, H, H, A, H], [0.9, 0.9, 0.9, 0.9, 0.5, 0.5])
    assert expected_calibration_error(y_true, probabilities) == pytest.approx(4 / 6 * 0.4)
    bins = reliability_bins(y_true, probabilities)
    assert len(bins) == ECE_BINS and sum(b["n"] for b in bins) == 6
    high = next(b for b in bins if b["low"] <= 0.9 < b["high"])
    assert high["n"] == 4 and high["confidence"] == pytest.approx(0.9) and high["accuracy"] == pytest.approx(0.5)
    assert all(b["confidence"] is None for b in bins if not b["n"])


def test_a_calibrated_model_has_no_ece_and_a_confident_wrong_one_the_most():
    y_true = np.array([H, H, H, S])
    assert expected_calibration_error(y_true, one_hot_ish([H, H, H, H], [0.75] * 4)) == pytest.approx(0.0)
    assert expected_calibration_error(y_true, one_hot_ish([S, S, S, H], [1.0] * 4)) == pytest.approx(1.0)
    assert expected_calibration_error(np.array([], int), np.zeros((0, 7))) == 0.0


def test_summary_has_calibration_only_with_probabilities():
    y_true = np.array([H, S])
    probabilities = one_hot_ish([H, H], [0.8, 0.6])
    assert "ece" not in summarize(y_true, probabilities.argmax(1))
    summary = summarize(y_true, probabilities.argmax(1), probabilities)
    assert summary["ece"] == pytest.approx(expected_calibration_error(y_true, probabilities))
    assert len(summary["reliability"]) == ECE_BINS


# --- emojify evaluate on real faces ---------------------------------------------------------------

PER_CLASS = 15
MISSING, EMPTY = "disgust", "surprise"


@pytest.fixture(scope="module")
def eval_folder(fer_root, tmp_path_factory):
    """PublicTest faces, 15 per class, in DIR/<class>/; no disgust/ folder and an empty surprise/."""
    root = tmp_path_factory.mktemp("evaluate") / "faces"
    for name in CLASSES:
        if name == MISSING:
            continue
        (root / name).mkdir(parents=True)
        if name == EMPTY:
            continue
        for path in fer_files(fer_root, "test", name, "PublicTest_", PER_CLASS):
            shutil.copyfile(path, root / name / path.name)
    return root


def direct_accuracy(classifier, root) -> tuple[float, dict[str, float]]:
    """Accuracy and per-class recall computed here: OpenCV decoding, prepare_face, the Classifier's rule."""
    hits, per_class = [], {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.jpg"))
        if not files:
            continue
        faces = np.stack([prepare_face(cv2.imread(str(p), cv2.IMREAD_UNCHANGED)) for p in files])
        right = classifier.classify(faces).argmax(axis=1) == CLASSES.index(folder.name)
        per_class[folder.name] = float(right.mean())
        hits += right.tolist()
    return float(np.mean(hits)), per_class


@pytest.fixture(scope="module")
def evaluate_json(eval_folder):
    code, out, err = run_cli("evaluate", eval_folder, "--json")
    return code, out, err


def test_evaluate_json_reports_the_folder(evaluate_json):
    code, out, err = evaluate_json
    assert code == 0, err
    report = load_json_output(out)
    assert isinstance(report, dict)
    n = PER_CLASS * (len(CLASSES) - 2)
    assert report["n"] == n
    assert 0.0 <= report["accuracy"] <= 1.0 and 0.0 <= report["macro_f1"] <= 1.0
    assert list(report["per_class_recall"]) == list(CLASSES)
    assert report["per_class_recall"][MISSING] is None and report["per_class_recall"][EMPTY] is None
    assert all(isinstance(report["per_class_recall"][c], float) for c in CLASSES if c not in (MISSING, EMPTY))
    confusion = np.array(report["confusion"])
    assert confusion.shape == (7, 7) and confusion.sum() == n
    assert confusion[CLASSES.index(MISSING)].sum() == 0 and confusion[CLASSES.index(EMPTY)].sum() == 0
    assert all(confusion[CLASSES.index(c)].sum() == PER_CLASS for c in CLASSES if c not in (MISSING, EMPTY))
    assert np.trace(confusion) / n == pytest.approx(report["accuracy"])
    present = [report["per_class_recall"][c] for c in CLASSES if c not in (MISSING, EMPTY)]
    assert report["balanced_accuracy"] == pytest.approx(np.mean(present))
    assert 0.0 <= report["ece"] <= 1.0
    assert sum(b["n"] for b in report["reliability"]) == n


def test_evaluate_accuracy_is_the_classifiers(evaluate_json, eval_folder, classifier):
    """What ``emojify evaluate`` reports is what the model does on those files."""
    _, out, _ = evaluate_json
    report = load_json_output(out)
    accuracy, per_class = direct_accuracy(classifier, eval_folder)
    assert report["accuracy"] == pytest.approx(accuracy)
    for name, recall in per_class.items():
        assert report["per_class_recall"][name] == pytest.approx(recall), name


def test_evaluate_mentions_the_empty_class_folder(evaluate_json):
    _, _, err = evaluate_json
    assert EMPTY in err


def test_evaluate_prints_a_table(eval_folder):
    code, out, err = run_cli("evaluate", eval_folder)
    assert code == 0, err
    for name in CLASSES:
        assert name in out
    assert "accuracy" in out and "macro F1" in out
    low, high = load_json_output(run_cli("evaluate", eval_folder, "--json")[1])["accuracy_interval"]
    assert f"(95% interval {low:.1%}-{high:.1%}) on " in out
    with pytest.raises(ValueError):
        load_json_output(out)


def test_evaluate_plot_writes_a_png(eval_folder, tmp_path):
    plot = tmp_path / "confusion.png"
    code, _, err = run_cli("evaluate", eval_folder, "--json", "--plot", plot)
    assert code == 0, err
    for picture in (plot, tmp_path / "confusion-reliability.png"):
        with Image.open(picture) as image:
            assert image.format == "PNG"
            image.load()
            assert image.width > 100 and image.height > 100


def test_evaluate_reports_a_corrupt_image_and_scores_the_rest(fer_root, tmp_path):
    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    for name in ("happy", "sad"):
        for path in fer_files(fer_root, "test", name, "PublicTest_", 4):
            shutil.copyfile(path, root / name / path.name)
    broken = root / "sad" / "broken face.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    code, out, err = run_cli("evaluate", root, "--json")
    assert code == 2
    report = load_json_output(out)
    assert report["n"] == 8
    assert report["unreadable"] == 1
    lines = stderr_lines(err)
    assert len(lines) == 1 and "broken face.jpg" in lines[0], err
    assert "Traceback" not in err


# --- bad folders ----------------------------------------------------------------------------------

def assert_one_line_error(code: int, out: str, err: str, *names: str) -> None:
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    lines = stderr_lines(err)
    assert len(lines) == 1, err
    for name in names:
        assert name in lines[0], (name, lines[0])


def test_evaluate_not_a_folder(tmp_path):
    missing = tmp_path / "no such folder"
    assert_one_line_error(*run_cli("evaluate", missing, "--json"), str(missing))
    a_file = tmp_path / "faces.jpg"
    a_file.write_bytes(b"x")
    assert_one_line_error(*run_cli("evaluate", a_file), str(a_file))


def test_evaluate_unknown_subfolder(tmp_path):
    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    (root / "smiling").mkdir()
    cv2.imwrite(str(root / "happy" / "a.png"), np.full((48, 48), 100, np.uint8))
    assert_one_line_error(*run_cli("evaluate", root, "--json"), str(root), "smiling")


def test_evaluate_no_class_folders(tmp_path):
    root = tmp_path / "faces"
    root.mkdir()
    cv2.imwrite(str(root / "a.png"), np.full((48, 48), 100, np.uint8))  # images, but not in class folders
    assert_one_line_error(*run_cli("evaluate", root, "--json"), str(root))


def test_evaluate_no_images(tmp_path):
    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    (root / "sad" / "notes.txt").write_text("not an image")
    assert_one_line_error(*run_cli("evaluate", root, "--json"), str(root))


def test_labelled_images_come_in_the_order_of_their_paths(tmp_path):
    """The dim room's noise is drawn face after face from one seeded generator: the documented dim-room
    figures hold only for this order (folders by name, then files by name)."""
    from emojify.evaluate import labelled_images

    for name in ("surprise", "Neutral", "sad", "angry"):
        for file in ("b.png", "a.png"):
            (tmp_path / name).mkdir(exist_ok=True)
            cv2.imwrite(str(tmp_path / name / file), np.full((48, 48), 100, np.uint8))
    paths = [p.relative_to(tmp_path).as_posix() for p, _ in labelled_images(tmp_path)]
    assert paths == sorted(paths) == ["Neutral/a.png", "Neutral/b.png", "angry/a.png", "angry/b.png", "sad/a.png",
                                      "sad/b.png", "surprise/a.png", "surprise/b.png"]


def test_the_kaggle_test_folder_s_two_splits_are_told_apart(tmp_path):
    """The Kaggle download's test/ holds PublicTest_* and PrivateTest_* faces: scored together they
    are not the published figures' split, which the user is told; --split scores one of them."""
    root = tmp_path / "test"
    for name, files in {"happy": ("PublicTest_1.png", "PrivateTest_2.png", "PrivateTest_3.png"),
                        "sad": ("publictest_4.png", "PrivateTest_5.png")}.items():
        (root / name).mkdir(parents=True)
        for file in files:
            cv2.imwrite(str(root / name / file), np.full((48, 48), 100, np.uint8))
    code, out, err = run_cli("evaluate", root, "--json")
    assert (code, load_json_output(out)["n"]) == (0, 5)
    assert stderr_lines(err) == [(f"WARNING emojify.evaluate: {root} holds FER2013's PublicTest and PrivateTest "
                                 "faces, scored together here; --split PublicTest scores the split the model's "
                                 "published figures use")]
    for split, n in (("PublicTest", 2), ("PrivateTest", 3)):
        code, out, err = run_cli("evaluate", root, "--json", "--split", split)
        assert (code, load_json_output(out)["n"], load_json_output(out)["split"], err) == (0, n, split, "")
    for file in root.glob("*/PrivateTest_*"):
        file.unlink()
    code, out, err = run_cli("evaluate", root, "--split", "PrivateTest")
    assert (code, out) == (2, "")
    assert stderr_lines(err) == [f"emojify: error: {root}: no PrivateTest* images found in its class folders"]


def test_two_folders_for_one_class_are_refused_naming_both(tmp_path):
    """happy/ and Happy/ on a disk that tells them apart: one of them was left out without a word."""
    from emojify.evaluate import FolderError, labelled_images

    for name in ("happy", "Happy"):
        (tmp_path / name).mkdir()
        cv2.imwrite(str(tmp_path / name / "a.png"), np.full((48, 48), 100, np.uint8))
    if len(list(tmp_path.iterdir())) < 2:
        pytest.skip("this disk does not tell happy from Happy")
    with pytest.raises(FolderError) as info:
        labelled_images(tmp_path)
    assert str(info.value) == f"{tmp_path}: two folders for one class, Happy and happy; put their pictures in one"
    for name in ("Contempt", "contempt"):  # no class at all: that is said first
        (tmp_path / name).mkdir()
    with pytest.raises(FolderError, match="sub-folder"):
        labelled_images(tmp_path)


def test_evaluate_no_images_exits_2_naming_the_folder(tmp_path):
    """The part of the 'no images' behaviour that works: exit 2, the folder named, no traceback."""
    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    code, out, err = run_cli("evaluate", root, "--json")
    assert code == 2 and "Traceback" not in err
    assert any(str(root) in line and "no images" in line for line in stderr_lines(err)), err
    assert out.strip() == ""


# --- dim rooms ------------------------------------------------------------------------------------

DIM_BRIGHTNESS = 0.3
DIM_KEPT = 0.92
"""Share of its daylight accuracy the kiosk must keep at 30% brightness with sensor noise (sigma 3)."""


@pytest.fixture(scope="module")
def public_test(fer_root, tmp_path_factory):
    """All of PublicTest, linked into DIR/<class>/."""
    root = tmp_path_factory.mktemp("publictest")
    for name in CLASSES:
        (root / name).mkdir()
        for path in fer_files(fer_root, "test", name, "PublicTest_"):
            (root / name / path.name).symlink_to(path)
    return root


def test_dim_room_keeps_most_of_the_accuracy(classifier, public_test):
    """PublicTest darkened to 30% with sensor noise (seeded) keeps >= 92% of its daylight accuracy."""
    from emojify.evaluate import evaluate_folder

    daylight = evaluate_folder(classifier, public_test).summary
    dim = evaluate_folder(classifier, public_test, brightness=DIM_BRIGHTNESS).summary
    assert dim["n"] == daylight["n"] > 3000
    assert dim["accuracy"] < daylight["accuracy"]  # the faces really were darkened
    assert dim["accuracy"] >= DIM_KEPT * daylight["accuracy"], (dim["accuracy"], daylight["accuracy"])


def test_dimmed_face_is_darker_and_noisy_but_the_same_size():
    from emojify.evaluate import dim

    face = np.full((48, 48), 200, np.uint8)
    darker = dim(face, 0.3, 3.0, np.random.default_rng(0))
    assert darker.shape == face.shape and darker.dtype == np.uint8
    assert darker.mean() == pytest.approx(60, abs=1) and 2.0 < darker.std() < 4.0
    np.testing.assert_array_equal(darker, dim(face, 0.3, 3.0, np.random.default_rng(0)))  # seeded: repeatable


def test_evaluate_dim_option_scores_lower_than_daylight(eval_folder):
    day = load_json_output(run_cli("evaluate", eval_folder, "--json")[1])
    code, out, err = run_cli("evaluate", eval_folder, "--json", "--dim", "0.05")
    assert code == 0, err
    assert load_json_output(out)["accuracy"] < day["accuracy"]
    code, _, err = run_cli("evaluate", eval_folder, "--dim", "1.5")
    assert code == 2 and len(stderr_lines(err)) == 1 and "--dim" in err


# --- whole photos: evaluate --detect ------------------------------------------------------------

def test_no_answer_counts_as_wrong_and_stays_out_of_the_confusion():
    """Two happy photos, one of them without a face found: 50% recall, one count in the matrix."""
    from emojify.metrics import NO_ANSWER

    probabilities = np.eye(7)[[H, H, S]].astype(np.float32)
    summary = summarize(np.array([H, H, S]), np.array([H, NO_ANSWER, S]), probabilities)
    assert summary["n"] == 3 and summary["accuracy"] == pytest.approx(2 / 3)
    assert summary["per_class_recall"]["happy"] == pytest.approx(0.5)
    assert summary["support"]["happy"] == 2
    assert np.array(summary["confusion"]).sum() == 2
    assert summary["ece"] == pytest.approx(0.0)  # over the two answered photos, both right at 100%


def test_balanced_accuracy_min30_leaves_out_classes_under_30_images():
    y_true = np.array([H] * 30 + [S] * 30 + [F] * 5)
    y_pred = np.array([H] * 30 + [S] * 15 + [H] * 15 + [H] * 5)
    summary = summarize(y_true, y_pred)
    assert summary["balanced_accuracy_min30"] == pytest.approx((1.0 + 0.5) / 2)
    assert summary["balanced_accuracy"] == pytest.approx((1.0 + 0.5 + 0.0) / 3)


def test_with_no_class_of_30_images_the_min30_figure_is_not_there_rather_than_zero():
    """A small folder, every face right: its balanced accuracy over classes of 30+ images is n/a, not 0%."""
    from emojify.evaluate import format_table

    y = np.array([H] * 5 + [S] * 5)
    summary = summarize(y, y, np.eye(len(CLASSES))[y])
    assert summary["balanced_accuracy_min30"] is None and summary["accuracy"] == 1.0
    assert "(n/a over classes of 30+ images)" in format_table(summary)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Whole pictures: the bundled astronaut pasted into two larger frames (happy/), and a picture with no face (sad/)."""
    from emojify.resources import SAMPLE_FACE

    face = cv2.imread(str(SAMPLE_FACE))
    root = tmp_path_factory.mktemp("photos")
    (root / "happy").mkdir()
    (root / "sad").mkdir()
    for name, (height, width, x, y) in {"left.jpg": (720, 1280, 40, 100), "corner.png": (900, 900, 380, 380)}.items():
        frame = np.full((height, width, 3), 90, np.uint8)
        frame[y:y + face.shape[0], x:x + face.shape[1]] = face[:height - y, :width - x]
        assert cv2.imwrite(str(root / "happy" / name), frame)
    wall = np.random.default_rng(0).integers(60, 200, (480, 640, 3)).astype(np.uint8)
    assert cv2.imwrite(str(root / "sad" / "wall.jpg"), cv2.GaussianBlur(wall, (9, 9), 3))
    return root


def test_evaluate_detect_finds_the_faces_and_counts_the_faceless_picture_wrong(photo_folder):
    code, out, err = run_cli("evaluate", photo_folder, "--detect", "--json")
    assert code == 0, err
    report = load_json_output(out)
    assert report["n"] == 3 and report["faces_found"] == 2
    assert report["no_face"] == {c: (1 if c == "sad" else 0) for c in CLASSES}
    assert report["per_class_recall"]["happy"] == 1.0  # the smiling astronaut, found in both frames
    assert report["per_class_recall"]["sad"] == 0.0
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert np.array(report["confusion"]).sum() == 2


def test_evaluate_without_detect_takes_each_picture_as_a_crop(photo_folder):
    """The same folder as crops: every picture gets an answer, so no faces_found key."""
    code, out, err = run_cli("evaluate", photo_folder, "--json")
    assert code == 0, err
    report = load_json_output(out)
    assert report["n"] == 3 and "faces_found" not in report and np.array(report["confusion"]).sum() == 3


def test_evaluate_detect_reports_an_unreadable_photo_and_scores_the_rest(photo_folder, tmp_path):
    shutil.copytree(photo_folder, tmp_path / "photos")
    (tmp_path / "photos" / "happy" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    code, out, err = run_cli("evaluate", tmp_path / "photos", "--detect")
    assert code == 2
    assert any("broken.jpg" in line for line in stderr_lines(err))
    assert "faces found in 2 of 3 photos" in out


def test_evaluate_detect_plot_has_a_no_face_column(photo_folder, tmp_path):
    pytest.importorskip("matplotlib")
    code, _, err = run_cli("evaluate", photo_folder, "--detect", "--plot", tmp_path / "confusion.png")
    assert code == 0, err
    from emojify.evaluate import plot_confusion

    y = np.array([H, S])
    plot_confusion(summarize(y, y), tmp_path / "plain.png", "faces")  # the same plot without the column
    picture, plain = cv2.imread(str(tmp_path / "confusion.png")), cv2.imread(str(tmp_path / "plain.png"))
    assert picture.shape[0] == plain.shape[0] and picture.shape[1] > plain.shape[1] + 40  # one column wider


# --- what the plots and the folder scan show ------------------------------------------------------

def drawn_texts(monkeypatch, draw) -> tuple:
    """Run ``draw`` (a plot function) and keep its figure open: the figure and its non-empty texts."""
    pytest.importorskip("matplotlib")
    from matplotlib.text import Text

    from emojify.evaluate import pyplot

    plt, figures = pyplot(), []
    monkeypatch.setattr(plt, "close", figures.append)
    draw()
    figure = figures[-1]
    figure.canvas.draw()
    return figure, [t for t in figure.findobj(Text) if t.get_visible() and t.get_text()]


def test_plot_titles_of_a_deep_folder_stay_inside_the_picture(monkeypatch, tmp_path):
    """A long folder path in the title is broken over lines, not cut off at the picture's edge."""
    from emojify.evaluate import plot_confusion, plot_reliability

    y = np.array([H] * 20 + [S] * 10)
    summary = summarize(y, y, one_hot_ish(list(y), [0.8] * len(y)))
    title = "emotion_int8.tflite on /home/maker/datasets/realfaces-2026-december/development-part (whole photos)"
    for plot in (plot_confusion, plot_reliability):
        figure, texts = drawn_texts(monkeypatch, lambda: plot(summary, tmp_path / "plot.png", title))  # noqa: B023
        edge = figure.bbox
        for text in texts:
            box = text.get_window_extent()
            assert box.x0 >= edge.x0 - 1 and box.x1 <= edge.x1 + 1, (plot.__name__, text.get_text())


def test_reliability_diagram_counts_the_faces_it_bins(monkeypatch, tmp_path):
    """Whole photos without a face found are not in the diagram: its n is the faces found, not the photos."""
    from emojify.evaluate import plot_reliability
    from emojify.metrics import NO_ANSWER

    y_true = np.array([H, H, S, S])
    summary = summarize(y_true, np.array([H, NO_ANSWER, S, NO_ANSWER]), one_hot_ish([H, H, S, S], [0.9] * 4))
    _, texts = drawn_texts(monkeypatch, lambda: plot_reliability(summary, tmp_path / "r.png", "photos"))
    title = next(t.get_text() for t in texts if "ECE" in t.get_text())
    assert "n=2 faces found of 4 photos" in title, title


def test_confusion_plot_leaves_a_class_without_images_blank_not_zero(monkeypatch, tmp_path):
    """A folder of happy and sad faces only: the angry row shows "-", not 0.00 as if angry were never found."""
    from emojify.evaluate import plot_confusion

    y = np.array([H, H, S])
    summary = summarize(y, np.array([H, A, S]))
    _, texts = drawn_texts(monkeypatch, lambda: plot_confusion(summary, tmp_path / "c.png", "two classes"))
    cells = {tuple(t.get_position()): t.get_text() for t in texts if t.get_fontsize() == 8}
    assert [cells[(j, A)] for j in range(7)] == ["-"] * 7
    assert cells[(H, H)] == "0.50" and cells[(A, H)] == "0.50" and cells[(S, S)] == "1.00"


def test_evaluate_passes_over_hidden_folders_and_files(fer_root, tmp_path):
    """Jupyter's .ipynb_checkpoints/ and macOS's ._face.jpg copies are the tools', not faces: no error, not scored."""
    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    (root / ".ipynb_checkpoints").mkdir()
    for path in fer_files(fer_root, "test", "happy", "PublicTest_", 3):
        shutil.copyfile(path, root / "happy" / path.name)
    (root / "happy" / "._face.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork")
    code, out, err = run_cli("evaluate", root, "--json")
    assert code == 0, err
    assert load_json_output(out)["n"] == 3 and stderr_lines(err) == []
