"""The shipped int8 model: it loads, it classifies, and a broken or wrong model is refused clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import types

import numpy as np
import pytest
from helpers import MODEL, copy_model, sha256_file, six_class_model

from emojify import classifier as classifier_module
from emojify.classifier import Classifier, ModelError
from emojify.labels import CLASSES
from emojify.preprocess import prepare_face


def faces(n: int, seed: int = 0) -> np.ndarray:
    """``n`` prepared 48x48 faces from random pictures."""
    rng = np.random.default_rng(seed)
    return np.stack([prepare_face(rng.integers(0, 256, (60, 50), dtype=np.uint8)) for _ in range(n)])


def model_error(path) -> str:
    with pytest.raises(ModelError) as info:
        Classifier(path)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# --- the shipped model -----------------------------------------------------------------------

def test_shipped_model_loads_and_is_verified(classifier):
    info = classifier.info
    assert info.path.resolve() == MODEL.resolve()
    assert info.sha256 == sha256_file(MODEL)
    assert info.classes == CLASSES
    modules = dict(classifier_module.BACKENDS)
    assert info.backend in modules and modules[info.backend] in sys.modules, info.backend  # the one that runs it
    assert info.backend_version == classifier_module.backend_version(info.backend) != "?"  # as doctor prints it


def test_the_runtime_never_falls_back_on_tensorflow() -> None:
    """Where no TFLite package is installed, but TensorFlow is (a training set-up without the kiosk's
    extra), loading the model says what to install; it does not import TensorFlow."""
    pytest.importorskip("tensorflow")
    script = ("import sys\n"
              "sys.modules.update(dict.fromkeys(['tflite_runtime', 'ai_edge_litert']))  # as if not installed\n"
              "from emojify.classifier import Classifier, ModelError\n"
              "try:\n    Classifier()\nexcept ModelError as exc:\n    print(exc)\n"
              "print('tensorflow' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    message, imported = done.stdout.splitlines()
    assert message.startswith("no TFLite interpreter is installed; install ai-edge-litert") and imported == "False"


@pytest.mark.parametrize("n", [1, 5])
def test_predict_gives_one_probability_row_per_face(classifier, n):
    probabilities = classifier.predict(faces(n))
    assert probabilities.shape == (n, len(CLASSES))
    assert np.all(probabilities >= 0)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_predict_accepts_a_single_face(classifier):
    probabilities = classifier.predict(faces(1)[0])
    assert probabilities.shape == (1, len(CLASSES))
    assert np.isclose(probabilities.sum(), 1.0, atol=1e-4)


def test_batched_and_single_predictions_agree(classifier, astronaut):
    """``emojify evaluate`` classifies in batches, ``predict`` one by one: same answers."""
    batch = np.concatenate([faces(3), prepare_face(astronaut)[None]])
    together = classifier.predict(batch)
    alone = np.concatenate([classifier.predict(face) for face in batch])
    assert np.allclose(together, alone, atol=1e-6)


def test_model_output_depends_on_the_face(classifier, astronaut):
    """Not a constant: a face and a flat gray square get different probabilities."""
    face = prepare_face(astronaut)
    flat = prepare_face(np.full((48, 48), 128, np.uint8))
    a, b = classifier.predict(np.stack([face, flat]))
    assert not np.allclose(a, b, atol=1e-3)


# --- refusing broken models ------------------------------------------------------------------

def test_missing_model_is_named(tmp_path):
    path = tmp_path / "nowhere" / "emotion_int8.tflite"
    message = model_error(path)
    assert str(path) in message and message.endswith("check the path given"), message


def test_missing_metadata_is_named(tmp_path):
    path = copy_model(tmp_path)
    path.with_suffix(".json").unlink()
    message = model_error(path)
    assert str(path.with_suffix(".json")) in message


def test_truncated_model_is_refused(tmp_path):
    path = copy_model(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = model_error(path)
    assert str(path) in message and "checksum" in message


def test_tampered_model_is_refused(tampered_model):
    message = model_error(tampered_model)
    assert str(tampered_model) in message and "checksum" in message


def test_metadata_with_six_classes_is_refused(tmp_path):
    path = six_class_model(tmp_path)
    message = model_error(path)
    assert str(path) in message and "6 classes" in message


def test_invalid_model_with_matching_checksum_names_the_model_not_the_install(tmp_path, monkeypatch):
    """A file that is not a TFLite model (its metadata made for it) is the model's fault, not the install's."""
    monkeypatch.setattr(classifier_module, "BACKENDS", (("ai_edge_litert", "ai_edge_litert.interpreter"),))
    path = copy_model(tmp_path)
    path.write_bytes(b"\x00" * 4096)
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = sha256_file(path)
    meta_path.write_text(json.dumps(meta))
    message = model_error(path)
    assert str(path) in message
    assert "install" not in message


# --- choosing the interpreter ------------------------------------------------------------------

LITERT = ("ai_edge_litert", "ai_edge_litert.interpreter")


def fake_backend_module(monkeypatch, name: str, interpreter) -> str:
    """Register a module ``name`` whose ``Interpreter`` is ``interpreter``; returns its name."""
    module = types.ModuleType(name)
    module.Interpreter = interpreter
    monkeypatch.setitem(sys.modules, name, module)
    return name


def test_backend_that_cannot_be_imported_is_skipped(monkeypatch):
    monkeypatch.setattr(classifier_module, "BACKENDS",
                        (("tflite_runtime", "emojify_tests_no_such_module.interpreter"), LITERT))
    model = Classifier()
    assert model.info.backend == "ai_edge_litert"
    assert model.predict(faces(2)).shape == (2, len(CLASSES))


def test_backend_whose_interpreter_fails_is_skipped(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("this build has no int8 kernels")

    module = fake_backend_module(monkeypatch, "emojify_tests_broken_backend", broken)
    monkeypatch.setattr(classifier_module, "BACKENDS", (("tflite_runtime", module), LITERT))
    model = Classifier()
    assert model.info.backend == "ai_edge_litert"
    assert np.allclose(model.predict(faces(1)).sum(), 1.0, atol=1e-4)


def test_first_working_backend_is_preferred(monkeypatch):
    """When the preferred backend works it is used (and named), not the next one."""
    from ai_edge_litert.interpreter import Interpreter

    module = fake_backend_module(monkeypatch, "emojify_tests_working_backend", Interpreter)
    monkeypatch.setattr(classifier_module, "BACKENDS", (("tflite_runtime", module), LITERT))
    assert Classifier().info.backend == "tflite_runtime"


def test_no_installed_backend_says_what_to_install(monkeypatch):
    monkeypatch.setattr(classifier_module, "BACKENDS",
                        (("tflite_runtime", "emojify_tests_no_such_module"),
                         ("ai_edge_litert", "emojify_tests_no_such_module_either")))
    with pytest.raises(ModelError) as info:
        Classifier()
    message = str(info.value)
    assert "\n" not in message
    assert "ai-edge-litert" in message


def test_backend_that_cannot_build_the_interpreter_is_named_with_its_reason(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("broken")

    module = fake_backend_module(monkeypatch, "emojify_tests_broken_backend", broken)
    monkeypatch.setattr(classifier_module, "BACKENDS",
                        (("tflite_runtime", "emojify_tests_no_such_module"), ("ai_edge_litert", module)))
    with pytest.raises(ModelError) as info:
        Classifier()
    message = str(info.value)
    assert "\n" not in message
    assert "emotion_int8.tflite" in message and "ai_edge_litert: broken" in message


def test_stderr_comes_back_when_two_threads_make_interpreters_at_once(tmp_path) -> None:
    """The worker and the snapshot's face search may each make an interpreter (its start-up line
    silenced) at the same moment; what is written to stderr after both must reach it, not /dev/null."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with classifier_module.native_stderr_silenced():
            first_in.set()
            second_in.wait(1)  # the second is inside now, or waits for this one to finish
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with classifier_module.native_stderr_silenced():
            second_in.set()
            first_out.wait(5)

    log = tmp_path / "stderr"
    saved = os.dup(2)
    try:
        with log.open("wb") as handle:
            os.dup2(handle.fileno(), 2)
            threads = [threading.Thread(target=first), threading.Thread(target=second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
            os.write(2, b"after both")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    assert not any(thread.is_alive() for thread in threads)
    assert log.read_bytes() == b"after both", "stderr was left on /dev/null"
