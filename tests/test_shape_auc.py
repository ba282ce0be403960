"""``packaging/shape_auc.py``: its hand-written ROC AUC and discriminant, and a run over made pictures."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import REPO, load_script

from emojify.faces import BlazeFaceDetector
from emojify.imageio import read_image
from emojify.landmarks import load_mesh
from emojify.resources import SAMPLE_FACE

SCRIPT = REPO / "packaging" / "shape_auc.py"


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


@pytest.mark.parametrize("args", [["--per-class", "0"], ["--learned", "--train", "no-such-folder"]])
def test_the_script_refuses_bad_arguments_in_one_line(args):
    done = run_script(*args)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("shape_auc.py: error:")
