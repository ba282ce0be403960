"""The decision rule: what it does to probabilities, how it is fitted, and that every path shows the same numbers.

The live kiosk, snapshots, ``emojify predict`` and ``emojify evaluate`` must all show a face's
probabilities through the one rule stored with the model; the last tests check that face for face.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from helpers import ASTRONAUT_FACE, MODEL_JSON, copy_model, load_json_output, run_cli, sha256_file

from emojify.classifier import Classifier, ModelError
from emojify.decision import (
    IDENTITY,
    DecisionRule,
    class_frequencies,
    decide,
    fit_camera_bias,
    fit_rule,
    negative_log_likelihood,
    rule_from_metadata,
)
from emojify.imageio import read_image
from emojify.labels import CLASSES, NUM_CLASSES
from emojify.metrics import summarize
from emojify.pipeline import Pipeline
from emojify.preprocess import prepare_face
from emojify.smoothing import Smoother

FREQUENCIES = class_frequencies(np.repeat(np.arange(NUM_CLASSES), (3995, 436, 4097, 7215, 4830, 3171, 4965)))
"""FER2013 Training's class shares."""
A, D, F, H, S, U, N = range(7)


def rows(*probabilities) -> np.ndarray:
    out = np.array(probabilities, float)
    return out / out.sum(axis=1, keepdims=True)


# --- the rule itself --------------------------------------------------------------------------------

def test_identity_rule_shows_the_model_probabilities():
    raw = rows([0.1, 0.0, 0.2, 0.5, 0.1, 0.05, 0.05], [1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(decide(raw, None, IDENTITY), raw, atol=1e-6)


def test_prior_correction_lifts_a_rare_expression_over_a_common_one():
    """A face the model finds as likely disgusted as happy is shown as disgusted: disgust is 16x rarer."""
    raw = rows([0.02, 0.4, 0.02, 0.4, 0.02, 0.02, 0.12])
    shown = decide(raw, None, DecisionRule(FREQUENCIES, power=0.5))
    assert CLASSES[int(shown.argmax())] == "disgust"
    assert shown.sum() == pytest.approx(1.0)


def test_temperature_below_one_sharpens_and_keeps_the_order():
    raw = rows([0.1, 0.05, 0.1, 0.4, 0.15, 0.1, 0.1])
    sharp = decide(raw, None, DecisionRule(temperature=0.5))
    assert sharp.max() > raw.max()
    assert list(np.argsort(sharp[0])) == list(np.argsort(raw[0], kind="stable"))
    soft = decide(raw, None, DecisionRule(temperature=2.0))
    assert soft.max() < raw.max()


def test_mirror_averaging_takes_the_mean_of_face_and_mirror():
    face, mirror = rows([0.6, 0, 0, 0.4, 0, 0, 0]), rows([0.2, 0, 0, 0.8, 0, 0, 0])
    shown = decide(face, mirror, DecisionRule(mirror=True))
    np.testing.assert_allclose(shown, rows([0.4, 0, 0, 0.6, 0, 0, 0]), atol=1e-6)
    np.testing.assert_allclose(decide(face, mirror, IDENTITY), face, atol=1e-6)  # no mirror: ignored
    with pytest.raises(ValueError, match="mirror"):
        decide(face, None, DecisionRule(mirror=True))


@pytest.mark.parametrize("params", [
    {"power": 0.5, "temperature": 0.7, "mirror": True},  # no class_frequencies
    {"class_frequencies": [0.5, 0.5], "power": 0.5, "temperature": 0.7, "mirror": True},
    {"class_frequencies": list(FREQUENCIES), "power": "strong", "temperature": 0.7, "mirror": True},
    {"class_frequencies": list(FREQUENCIES), "power": 0.5, "temperature": 0.0, "mirror": True},
    # json.loads reads NaN and Infinity; they passed "<= 0" and "< 0" and made every answer angry at 0%
    {"class_frequencies": list(FREQUENCIES), "power": float("nan"), "temperature": 0.7, "mirror": True},
    {"class_frequencies": list(FREQUENCIES), "power": 0.5, "temperature": float("nan"), "mirror": True},
    {"class_frequencies": list(FREQUENCIES), "power": 0.5, "temperature": float("inf"), "mirror": True},
    {"class_frequencies": [float("inf")] * 7, "power": 0.5, "temperature": 0.7, "mirror": True},
    {"class_frequencies": list(FREQUENCIES), "power": 0.5, "temperature": 0.7, "mirror": "no"},  # bool("no") is True
], ids=["no frequencies", "two frequencies", "a word for power", "temperature 0", "power NaN",
        "temperature NaN", "temperature inf", "frequencies inf", "mirror a word"])
def test_malformed_parameters_are_refused(params):
    with pytest.raises(ValueError, match="decision rule"):
        rule_from_metadata({"decision": params})


def test_parameters_round_trip_through_json():
    rule = DecisionRule(FREQUENCIES, 0.65, 0.7, True)
    again = rule_from_metadata(json.loads(json.dumps({"decision": rule.as_dict()})))
    assert again.power == 0.65 and again.temperature == 0.7 and again.mirror
    np.testing.assert_allclose(again.class_frequencies, FREQUENCIES, atol=1e-6)
    assert rule_from_metadata({}) == IDENTITY


def test_camera_bias_moves_only_camera_pictures():
    """A face the model finds a little more sad than neutral: a camera picture with a neutral bias reads neutral."""
    raw = rows([0.05, 0.01, 0.05, 0.1, 0.42, 0.02, 0.35])
    rule = DecisionRule(camera_bias=(0.0,) * 6 + (0.5,))
    assert CLASSES[int(decide(raw, None, rule).argmax())] == "sad"
    on_camera = decide(raw, None, rule, camera=True)
    assert CLASSES[int(on_camera.argmax())] == "neutral" and on_camera.sum() == pytest.approx(1.0)
    ratio = on_camera[0, :6] / raw[0, :6]  # the other classes keep their proportions
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)


def test_camera_bias_round_trips_and_a_bad_one_is_refused():
    rule = DecisionRule(FREQUENCIES, 0.65, 0.7, True, (0.1, 0.0, 0.0, -0.2, 0.3, 0.0, 0.45))
    again = rule_from_metadata(json.loads(json.dumps({"decision": rule.as_dict()})))
    assert again.camera_bias == rule.camera_bias and again.power == rule.power
    assert "camera_bias" not in DecisionRule(FREQUENCIES, 0.65, 0.7, True).as_dict()
    for bad in ([0.1, 0.2], [0.0] * 6 + ["x"], [0.0] * 6 + [float("nan")]):
        with pytest.raises(ValueError, match="decision rule"):
            rule_from_metadata({"decision": rule.as_dict() | {"camera_bias": bad}})


def test_fitted_camera_bias_gives_back_the_class_a_model_under_calls():
    """A model that reads a third of the neutral faces as sad: the fitted bias lifts neutral over sad,
    raising balanced accuracy, and leaves the classes it was not asked to tune at 0."""
    rng = np.random.default_rng(1)
    y = np.repeat([H, S, N, D], [300, 100, 300, 20])
    logits = rng.normal(0.0, 1.0, (len(y), NUM_CLASSES))
    logits[np.arange(len(y)), y] += 3.0
    logits[y == N, S] += 2.6  # neutral faces look sad to it
    shown = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    bias = np.array(fit_camera_bias(y, shown, (H, S, N)))
    before = summarize(y, shown.argmax(axis=1))["per_class_recall"]
    after = summarize(y, (np.log(shown) + bias).argmax(axis=1))["per_class_recall"]
    assert bias[N] - bias[S] > 0.3
    assert bias[D] == 0.0 and bias[A] == 0.0
    assert after["neutral"] > before["neutral"] + 0.1
    assert np.mean([after[c] for c in ("happy", "sad", "neutral")]) > np.mean([before[c] for c in ("happy", "sad", "neutral")])


def test_photos_missed_by_the_detector_do_not_steer_the_camera_bias():
    shown = rows(*([[0.1, 0.0, 0.0, 0.8, 0.1, 0.0, 0.0]] * 4))
    assert fit_camera_bias(np.array([H, H, -1, -1]), shown, (H, S)) == (0.0,) * NUM_CLASSES


# --- fitting ----------------------------------------------------------------------------------------

def biased_overconfident_model(n: int = 6000, seed: int = 0):
    """Labels with FER2013's class shares, and a model that favours common classes and is overconfident.

    Returns the labels and the model's probabilities for each face and for its mirror image (two
    noisy views of the same evidence).
    """
    rng = np.random.default_rng(seed)
    y = rng.choice(NUM_CLASSES, size=n, p=np.array(FREQUENCIES))
    evidence = rng.normal(0, 0.7, (n, NUM_CLASSES)) + 1.2 * np.eye(NUM_CLASSES)[y] + np.log(FREQUENCIES)

    def view():
        sharp = np.exp(2.0 * (evidence + rng.normal(0, 0.7, evidence.shape)))
        return sharp / sharp.sum(axis=1, keepdims=True)

    return y, view(), view()


def test_fitted_rule_raises_balanced_accuracy_within_the_accuracy_budget_and_calibrates():
    y, raw, mirrored = biased_overconfident_model()
    rule = fit_rule(y, raw, mirrored, FREQUENCIES)
    shown = decide(raw, mirrored, rule)
    before, after = summarize(y, raw.argmax(1), raw), summarize(y, shown.argmax(1), shown)
    assert rule.power > 0 and rule.mirror
    assert after["balanced_accuracy"] > before["balanced_accuracy"] + 0.01
    assert after["accuracy"] >= before["accuracy"] - 0.003 - 1e-9
    assert rule.temperature > 1.0  # the model was overconfident
    assert after["ece"] < 0.03 < before["ece"]
    assert negative_log_likelihood(y, shown) < negative_log_likelihood(y, raw)


def test_class_frequencies_are_shares_and_survive_a_missing_class():
    shares = class_frequencies(np.array([H, H, H, S]))
    assert sum(shares) == pytest.approx(1.0)
    assert shares[H] == pytest.approx(3 / 9) and shares[D] == pytest.approx(1 / 9)  # unseen classes count once


# --- the model carries its rule -----------------------------------------------------------------------

def test_shipped_model_carries_a_fitted_rule(classifier):
    rule = classifier.decision
    assert rule != IDENTITY and rule.mirror and rule.power > 0
    face = prepare_face(np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8))
    shown = classifier.classify(face)
    assert shown.shape == (1, NUM_CLASSES) and shown.sum() == pytest.approx(1.0, abs=1e-5)
    expected = decide(classifier.predict(face), classifier.predict(face[:, ::-1]), rule)
    np.testing.assert_allclose(shown, expected, atol=1e-6)


def model_with_metadata(tmp_path, change) -> Classifier:
    model = copy_model(tmp_path)
    meta_path = model.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    change(meta)
    meta["sha256"] = sha256_file(model)
    meta_path.write_text(json.dumps(meta))
    return model


def test_model_without_a_rule_shows_its_raw_probabilities(tmp_path, astronaut):
    model = model_with_metadata(tmp_path, lambda meta: meta.pop("decision", None))
    plain = Classifier(model)
    assert plain.decision == IDENTITY
    face = prepare_face(astronaut, ASTRONAUT_FACE)
    np.testing.assert_allclose(plain.classify(face), plain.predict(face), atol=1e-6)


def test_model_with_a_broken_rule_is_refused_in_one_line(tmp_path):
    model = model_with_metadata(tmp_path, lambda meta: meta.update(decision={"power": "x"}))
    with pytest.raises(ModelError) as info:
        Classifier(model)
    assert "decision rule" in str(info.value) and "\n" not in str(info.value)


# --- one rule in all four places ----------------------------------------------------------------------

def by_hand(raw: np.ndarray, mirrored: np.ndarray, camera: bool = False) -> np.ndarray:
    """The shipped model's decision rule worked out from the numbers in its metadata file, in float64
    and without :mod:`emojify.decision`: mirror mean, divided by the class frequencies to the power,
    sharpened by the temperature, times exp(camera bias) for a camera picture, normalised."""
    rule = json.loads(MODEL_JSON.read_text())["decision"]
    q = (raw + mirrored) / 2 if rule["mirror"] else raw
    q = q.astype(np.float64) / np.asarray(rule["class_frequencies"]) ** rule["power"]
    q = q ** (1 / rule["temperature"])
    if camera and rule.get("camera_bias") is not None:
        q = q * np.exp(rule["camera_bias"])
    return q / q.sum()


def rule_on_largest_face(classifier, image, use_region: bool = False):
    """The largest face's box as the pipeline's detector finds it, and the shipped rule worked out by
    hand on the model's raw probabilities for the pipeline's own crop of it (and its mirror image)."""
    pipeline = Pipeline(classifier)
    _, found = pipeline.detect(image, use_region)
    assert found, "no face found"
    crop = pipeline.crops(image, found[:1])
    raw, mirrored = classifier.predict(crop)[0], classifier.predict(crop[:, :, ::-1])[0]
    return found[0].box, by_hand(raw, mirrored, camera=True)


@pytest.fixture(scope="module")
def astronaut_probabilities(classifier, astronaut):
    """The astronaut's face box as the still detector finds it, and the rule's probabilities for it."""
    return rule_on_largest_face(classifier, astronaut)


def test_snapshot_and_still_show_the_rule(classifier, astronaut, astronaut_probabilities):
    _, expected = astronaut_probabilities
    pipeline = Pipeline(classifier)
    for result in (pipeline.analyze(astronaut, use_region=False),
                   pipeline.analyze(astronaut, use_region=False, mirror_average=True)):  # the snapshot's call
        np.testing.assert_allclose(result.probabilities, expected, atol=1e-5)


def test_live_path_shows_the_rule(classifier, astronaut):
    """The first live frame of a face is shown as it is (smoothing starts from it)."""
    # the live detector wants a bigger face: the astronaut at twice the size, in a 640x480 frame
    pipeline = Pipeline(classifier, smoother=Smoother())
    frame = np.ascontiguousarray(cv2.resize(astronaut, (1024, 1024))[0:480, 130:770])
    result = pipeline.live(frame, now=0.0)
    assert result.box is not None
    np.testing.assert_allclose(result.probabilities, rule_on_largest_face(classifier, frame, use_region=True)[1],
                               atol=1e-5)


def test_predict_command_shows_the_rule(astronaut_jpg, classifier):
    code, out, err = run_cli("predict", astronaut_jpg, "--json")
    assert code == 0, err
    (entry,) = load_json_output(out)
    box, expected = rule_on_largest_face(classifier, read_image(astronaut_jpg))
    assert tuple(entry["box"]) == box
    shown = np.array([entry["probabilities"][c] for c in CLASSES])
    np.testing.assert_allclose(shown, expected, atol=6e-5)  # the JSON rounds to 4 places


def test_evaluate_command_scores_the_rule(tmp_path, classifier, astronaut, astronaut_probabilities):
    """``evaluate`` on one face crop: its one reliability bin holds exactly the rule's top probability."""
    box, _ = astronaut_probabilities
    (tmp_path / "happy").mkdir()
    assert cv2.imwrite(str(tmp_path / "happy" / "face.png"), prepare_face(astronaut, box))
    code, out, err = run_cli("evaluate", tmp_path, "--json")
    assert code == 0, err
    report = load_json_output(out)
    (filled,) = [b for b in report["reliability"] if b["n"]]
    face = prepare_face(cv2.imread(str(tmp_path / "happy" / "face.png")))  # evaluate prepares the file again
    shown = classifier.classify(face)[0]
    assert filled["confidence"] == pytest.approx(float(shown.max()), abs=1e-6)
    assert report["ece"] == pytest.approx(abs(float(shown.max()) - float(shown.argmax() == CLASSES.index("happy"))),
                                          abs=1e-6)
    assert report["decision"]["power"] == classifier.decision.power
    raw = load_json_output(run_cli("evaluate", tmp_path, "--json", "--raw")[1])
    (raw_bin,) = [b for b in raw["reliability"] if b["n"]]
    assert raw_bin["confidence"] == pytest.approx(float(classifier.predict(face).max()), abs=1e-6)

