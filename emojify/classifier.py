"""Run the int8 TFLite expression model: pick an interpreter, check the model, classify faces.

The interpreter comes from the first of ``tflite_runtime`` (needs numpy<2) and ``ai_edge_litert``
that can actually build an interpreter for the model; never from TensorFlow, which the runtime does
not import (its ``tf.lite.Interpreter`` is deprecated for LiteRT, and importing it takes seconds). The model file is
checked against the sha256 and class list in its metadata JSON before it is used, so a truncated
or swapped model is refused with a message instead of giving wrong emoji.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from emojify.decision import DecisionRule, decide, rule_from_metadata
from emojify.errors import EmojifyError, reason_of
from emojify.labels import CLASSES
from emojify.preprocess import INPUT_SIZE, to_batch
from emojify.resources import resource_dir

log = logging.getLogger(__name__)

MODEL_NAME = "emotion_int8.tflite"
TFLITE_IDENTIFIER = b"TFL3"
"""The FlatBuffer file identifier at bytes 4-8 of every TFLite model."""
BACKENDS: tuple[tuple[str, str], ...] = (
    ("tflite_runtime", "tflite_runtime.interpreter"),
    ("ai_edge_litert", "ai_edge_litert.interpreter"),
)
"""(backend name, module holding ``Interpreter``), in order of preference."""


class ModelError(EmojifyError):
    """The model or its metadata is missing, damaged or does not fit; the message says which and what to do."""


@dataclass(frozen=True)
class ModelInfo:
    """What was loaded: file, checksum, classes, and the interpreter that runs it."""

    path: Path
    sha256: str
    classes: tuple[str, ...]
    backend: str
    backend_version: str
    metadata: dict


def default_model_path() -> Path:
    """The shipped model, ``model/emotion_int8.tflite``."""
    try:
        return resource_dir("model") / MODEL_NAME
    except FileNotFoundError as exc:
        raise ModelError(str(exc)) from None


def metadata_path(model_path: Path) -> Path:
    """The metadata JSON that belongs to a model: same name, ``.json``."""
    return model_path.with_suffix(".json")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_model(model_path: Path, shipped: bool = True) -> tuple[bytes, dict]:
    """Read a model and its metadata, refusing a checksum or class-list mismatch; ``shipped`` says
    whether it is the shipped model (else one the user chose, whose path a missing file questions)."""
    try:
        content = model_path.read_bytes()
    except OSError as exc:
        mend = "restore model/ from the repository or pass --model" if shipped else "check the path given"
        raise ModelError(f"{model_path}: cannot read model ({reason_of(exc)}); {mend}") from None
    if content[4:8] != TFLITE_IDENTIFIER and not shipped:  # a photo or the trainer's .keras given by mistake
        raise ModelError(f"{model_path}: not a TFLite model; give a .tflite file "
                         "(emojify-quantize makes one from a trained .keras model)")
    meta_path = metadata_path(model_path)  # after the read: "/" has no name to give a .json
    try:
        metadata = json.loads(meta_path.read_text())
        expected_sha = metadata["sha256"]
        classes = tuple(metadata["classes"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{meta_path}: missing or invalid model metadata ({exc}); "
                         "re-create it with emojify-quantize") from None
    if sha256_of(content) != expected_sha:
        raise ModelError(f"{model_path}: checksum does not match {meta_path.name} (file damaged or replaced); "
                         "restore it or re-create both with emojify-quantize")
    if classes != CLASSES:
        raise ModelError(f"{model_path}: model has {len(classes)} classes {list(classes)}, this program "
                         f"expects {len(CLASSES)} {list(CLASSES)}; use a matching model")
    return content, metadata


_STDERR_LOCK = threading.RLock()
"""Held around the silencing of descriptor 2: two threads making interpreters at once (the worker and
the snapshot's face search) each saved what the other had put there, and stderr stayed silenced."""


def _new_stderr_lock() -> None:
    global _STDERR_LOCK
    _STDERR_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    # no fork while another thread has stderr silenced: the child would keep /dev/null for stderr
    os.register_at_fork(before=lambda: _STDERR_LOCK.acquire(), after_in_parent=lambda: _STDERR_LOCK.release(),
                        after_in_child=_new_stderr_lock)


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Hide what native code writes to stderr (the interpreter's "INFO: Created ... delegate" line),
    one thread at a time. Where Python has no stderr (``pythonw``, a windowed executable, a daemon that
    closed it: descriptor 2 may be another file by now) nothing is touched."""
    with _STDERR_LOCK:
        saved = None
        if sys.stderr is not None:
            with suppress(OSError, ValueError, AttributeError):  # a closed, broken or replaced stream
                sys.stderr.flush()
            with suppress(OSError):
                saved = os.dup(2)
        if saved is None:
            yield
            return
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 2)
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def interpreter_installed() -> bool:
    """Whether one of :data:`BACKENDS` is installed (found without importing it)."""
    return any(importlib.util.find_spec(name) is not None for name, _ in BACKENDS)


_FIRST_MADE = threading.Event()
"""Set once the process has made an interpreter: the start-up line is written once a process, by the
first, so only the first is made with stderr silenced. Silencing every one (a BlazeFace of each new
picture size) lost what the program's other threads wrote to stderr meanwhile."""


def make_interpreter(content: bytes, threads: int = 1, source: Path | str = "model"):
    """Build an interpreter with the first backend that works; returns (interpreter, name, version).

    A backend that imports but cannot build the interpreter may just be broken here (tflite-runtime
    under numpy 2), so the next is tried; if none works, the message blames the model when some
    backend loaded, and the installation when none did.
    """
    missing, failed = [], []
    for name, module_name in BACKENDS:
        try:
            module = importlib.import_module(module_name)
            interpreter_class = module.Interpreter
        except Exception as exc:  # noqa: BLE001 - any import failure means "not available here"
            missing.append(f"{name}: {type(exc).__name__}")
            continue
        try:
            with nullcontext() if _FIRST_MADE.is_set() else native_stderr_silenced():
                interpreter = interpreter_class(model_content=content, num_threads=threads)
                interpreter.allocate_tensors()
        except Exception as exc:  # noqa: BLE001 - try the next backend
            failed.append(f"{name}: {exc}".splitlines()[0])
            continue
        _FIRST_MADE.set()
        return interpreter, name, backend_version(name)
    if failed:
        raise ModelError(f"{source}: not a usable TFLite model ({'; '.join(failed)}); "
                         "restore model/ from the repository or re-create it with emojify-quantize")
    raise ModelError("no TFLite interpreter is installed; install ai-edge-litert (pip install 'emojify[kiosk]'), "
                     "or tflite-runtime with numpy<2. Tried: " + "; ".join(missing))


def backend_version(name: str) -> str:
    """The installed version of a backend's distribution, or ``"?"``."""
    from importlib import metadata

    try:
        return metadata.version({"tflite_runtime": "tflite-runtime", "ai_edge_litert": "ai-edge-litert"}[name])
    except metadata.PackageNotFoundError:
        return "?"


class Classifier:
    """The expression model behind a small API: 48x48 prepared faces in, 7 probabilities out."""

    def __init__(self, model_path: Path | None = None, threads: int = 1, decision: DecisionRule | None = None):
        """Load and check the model; ``decision`` replaces the decision rule of its metadata (e.g.
        :data:`~emojify.decision.IDENTITY` for the raw probabilities)."""
        path = Path(model_path) if model_path else default_model_path()
        content, metadata = read_model(path, shipped=not model_path)
        self._interpreter, backend, version = make_interpreter(content, threads, path)
        self.info = ModelInfo(path, metadata["sha256"], tuple(metadata["classes"]), backend, version, metadata)
        inp = self._interpreter.get_input_details()[0]
        out = self._interpreter.get_output_details()[0]
        if tuple(inp["shape"][1:]) != (INPUT_SIZE, INPUT_SIZE, 1) or out["shape"][-1] != len(CLASSES):
            raise ModelError(f"{path}: model takes {list(inp['shape'])} and gives {list(out['shape'])}, expected "
                             f"[1, {INPUT_SIZE}, {INPUT_SIZE}, 1] -> [1, {len(CLASSES)}]; use a matching model")
        self._in_index, self._in_dtype = inp["index"], inp["dtype"]
        self._in_scale, self._in_zero = inp["quantization"]
        self._out_index, self._out_dtype = out["index"], out["dtype"]
        self._out_scale, self._out_zero = out["quantization"]
        try:
            self.decision = rule_from_metadata(metadata) if decision is None else decision
        except ValueError as exc:
            raise ModelError(f"{metadata_path(path)}: {exc}; re-create it with emojify-quantize") from None
        log.info("model %s (%s) on %s %s", path, self.info.sha256[:12], backend, version)

    def _quantize(self, batch: np.ndarray) -> np.ndarray:
        if self._in_dtype == np.float32:
            return batch
        info = np.iinfo(self._in_dtype)
        q = np.round(batch / self._in_scale + self._in_zero)
        return np.clip(q, info.min, info.max).astype(self._in_dtype)

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, 7)`` float32 for prepared faces ``(N, 48, 48)`` (or one ``(48, 48)``)."""
        batch = self._quantize(to_batch(faces))
        return self._run(batch)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """One model call per face of a quantized batch ``(N, 48, 48, 1)``; normalised probabilities."""
        out = np.empty((len(batch), len(CLASSES)), np.float32)
        for i, face in enumerate(batch):
            self._interpreter.set_tensor(self._in_index, face[None])
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._out_index)[0]
            if self._out_dtype != np.float32:
                raw = (raw.astype(np.float32) - self._out_zero) * self._out_scale
            out[i] = raw
        out = np.clip(out, 0.0, None)
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)

    def classify(self, faces: np.ndarray, mirror: bool | None = None, camera: bool = False) -> np.ndarray:
        """The probabilities to show ``(N, 7)`` for prepared faces: :attr:`decision` over :meth:`predict`.

        The rule (see :mod:`emojify.decision`) is the model's metadata's unless the classifier was made
        with another; ``mirror`` True or False overrides whether it averages each face with its mirror
        image (two model calls a face instead of one); ``camera`` says the faces were found in a photo
        or a video frame, which adds the rule's camera bias (FER2013-style crops go without).
        """
        rule = self.decision if mirror is None else replace(self.decision, mirror=mirror)
        batch = self._quantize(to_batch(faces))
        if not rule.mirror:
            return decide(self._run(batch), None, rule, camera)
        both = self._run(np.concatenate([batch, batch[:, :, ::-1]]))  # each face, then its mirror image
        return decide(both[:len(batch)], both[len(batch):], rule, camera)
