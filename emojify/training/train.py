"""Train the expression CNN on FER2013 (Keras; TensorFlow, or any Keras 3 backend).

    emojify-train DATA [--out runs/emotion] [--epochs 40] [--resume] [--init-from model/emotion.keras]

DATA is the Kaggle image-folder root (``train/``, ``test/``) or ``fer2013.csv``. Every epoch the
run folder gets a resumable backup, ``last.keras``, ``best.keras`` (best PublicTest accuracy),
``history.json`` and ``curves.png``; the saved models carry exact batch-norm statistics over
un-augmented training faces, not the running averages of training. ``--resume`` carries on an
interrupted run where it stopped.
``--init-from`` starts from a saved model with a fresh learning-rate schedule, which is how a long
training is spread over several sessions. ``--teacher`` (repeatable) distils bigger, better models
into this one: their averaged probabilities on every training face and its mirror image become part
of its targets (with ``--teach-augmented``, on each augmented face exactly as the student sees it).
Augmentation runs in NumPy/OpenCV, so a GPU machine trains the same code under any Keras 3 backend
(``KERAS_BACKEND=jax`` was fastest). Then ``emojify-quantize`` makes the int8 model.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
import os
import shlex
import shutil
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from emojify.errors import first_line, print_error, reason_of, until_interrupted, write_problem
from emojify.evaluate import pyplot
from emojify.fileio import MadeFolders, OutputError, atomic_path, make_folder, path_argument
from emojify.helptext import plain_text
from emojify.labels import CLASSES, NUM_CLASSES
from emojify.preprocess import INPUT_SIZE
from emojify.training.commands import ctrl_c_held
from emojify.training.data import DataError, Split, load_dataset
from emojify.training.model import BLOCKS, format_blocks, parse_blocks

log = logging.getLogger("emojify.train")


@dataclass
class TrainConfig:
    """Hyper-parameters of one run (saved as ``config.json`` in the run folder)."""

    data: str
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 2e-3
    warmup_epochs: int = 2
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5
    seed: int = 1
    subset: int = 0
    init_from: str = ""
    teacher: list[str] = field(default_factory=list)
    teacher_weight: float = 0.5
    teach_augmented: bool = False
    lighting: float = 0.0
    blocks: str = format_blocks(BLOCKS)
    """The network built (:func:`~emojify.training.model.parse_blocks`); "" where the run went on from an
    ``init_from`` model, whose own layers it keeps."""
    jit_compile: bool = True


SEED_RANGE = (0, 2**32 - 1)
"""The random seeds numpy and Keras's ``set_random_seed`` take."""


def missing_model(path: Path) -> str:
    """Why ``path``, which is not a file, is no model: a folder (a run folder given for its best.keras), or nothing."""
    if path.is_dir():
        return f"{path}: a folder, not a model file (a run's model is its best.keras)"
    return f"{path}: no such model file"


def range_problem(option: str, value, least, most=math.inf, over: bool = False) -> str | None:
    """``OPTION VALUE: must be LEAST .. MOST`` (or ``at least LEAST``, or ``over LEAST`` where ``over``
    leaves LEAST itself out) for a value outside that range, NaN and infinity included; None for a
    value inside it."""
    if (least < value if over else least <= value) and value <= most and value != math.inf:
        return None
    limits = f"over {least}" if over else f"at least {least}" if most == math.inf else f"{least} .. {most}"
    finite = " (a finite number)" if isinstance(value, float) and not math.isfinite(value) else ""
    return f"{option} {value}: must be {limits}{finite}"


def settings_problem(cfg: TrainConfig, new: bool = True) -> str | None:
    """What is wrong with the counts, rates and shares of ``cfg`` (the option, its value and its range), or None.

    A saved run (``new=False``) is held only to what a run had to meet when it was made: a run made
    before the shares were checked (``--lighting 1.5``, say) can still be resumed and quantized."""
    checks = [("--epochs", cfg.epochs, 1), ("--batch-size", cfg.batch_size, 1), ("--lr", cfg.learning_rate, 0, math.inf, True),
              ("--warmup-epochs", cfg.warmup_epochs, 0), ("--subset", cfg.subset, 0)]
    if new:
        checks += [("--class-weight-power", cfg.class_weight_power, 0, 1), ("--seed", cfg.seed, *SEED_RANGE),
                   ("--teacher-weight", cfg.teacher_weight, 0, 1), ("--lighting", cfg.lighting, 0, 1)]
    return next(filter(None, (range_problem(*check) for check in checks)), None)


def teacherless_problem(cfg: TrainConfig, given: dict) -> str | None:
    """``--teacher-weight`` or ``--teach-augmented`` typed (:func:`given_settings`, at its default too)
    for a new run without a ``--teacher``: they would do nothing, in silence."""
    if not cfg.teacher and {"teacher_weight", "teach_augmented"} & given.keys():
        return "--teacher-weight and --teach-augmented say how to learn from a --teacher; give one, or leave them out"
    return None


TRAIN_EXTRA = "pip install 'emojify[train]', or in a checkout bash packaging/setup_env.sh train"
LIBRARIES = {"keras": ("TensorFlow (Keras)", TRAIN_EXTRA),
             "tensorflow": ("TensorFlow", TRAIN_EXTRA),
             "matplotlib": ("matplotlib", "pip install matplotlib"),
             "ai_edge_litert": ("a TFLite interpreter (ai-edge-litert)", TRAIN_EXTRA)}
"""What the training tools import, by module: the name to give and how to install it."""


def missing_library(*modules: str) -> str | None:
    """``needs NAME, which is not installed here (HOW)`` for the first of ``modules`` not installed, or
    None. ``find_spec`` looks without importing, as packaging/retrain.sh's check does."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            name, how = LIBRARIES[module]
            return f"needs {name}, which is not installed here ({how})"
    return None


def check_keras_file(path) -> None:
    """A one-line DataError for a file that cannot be a ``.keras`` model (not a zip archive, or one
    without the ``config.json`` every saved model holds), found without starting TensorFlow."""
    try:
        with zipfile.ZipFile(path) as archive:
            has_config = "config.json" in archive.namelist()
    except Exception as exc:  # a damaged archive fails with anything from NotImplementedError to UnicodeDecodeError
        reason = ("not a zip archive" if isinstance(exc, zipfile.BadZipFile)
                  else reason_of(exc))
        raise DataError(f"{path}: not a readable .keras model ({reason})") from exc
    if not has_config:
        raise DataError(f"{path}: not a readable .keras model (no config.json in the archive)")


MODEL_INPUT = (INPUT_SIZE, INPUT_SIZE, 1)
"""The shape of what a model takes, batch left out: one prepared face."""


def plain_shape(shape) -> tuple:
    """A shape's sizes as plain ints (an unknown one None): ``(48, 48, 1)``, not ``np.int32(48)``."""
    return tuple(None if size is None else int(size) for size in shape)


def shape_problem(inputs: list, outputs: list) -> str | None:
    """``takes (64, 64, 1), gives 5 classes; expected (48, 48, 1) and 7 classes`` for a model whose input and
    output shapes (batch first, as Keras gives them) are not one face in and a probability a class out;
    None for one that is."""
    takes = [plain_shape(shape)[1:] for shape in inputs]
    gives = [plain_shape(shape)[1:] for shape in outputs]
    if takes == [MODEL_INPUT] and gives == [(NUM_CLASSES,)]:
        return None
    gave = " and ".join(f"{shape[0]} classes" if len(shape) == 1 else str(shape) for shape in gives)
    return f"takes {' and '.join(map(str, takes))}, gives {gave}; expected {MODEL_INPUT} and {NUM_CLASSES} classes"


def load_keras_model(path, stacked: bool = False):
    """``keras.models.load_model(path, compile=False)``; a file that is not a model, or a model that
    does not take a face and give the classes' probabilities (:func:`shape_problem`), is a one-line
    DataError, before the model is trained on or converted. With ``stacked`` (a model whose batch-norm
    statistics will be set), so is a model that is no plain stack of layers
    (:func:`~emojify.training.model.stack_layers`)."""
    check_keras_file(path)
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
        shapes = [t.shape for t in model.inputs], [t.shape for t in model.outputs]  # none for a model never built
    except Exception as exc:  # Keras fails with anything from KeyError to OSError
        reason = first_line(exc).strip("'\"")  # Keras quotes a KeyError's text
        raise DataError(f"{path}: not a readable .keras model ({reason})") from exc
    problem = shape_problem(*shapes)
    if problem:
        raise DataError(f"{path}: {problem}")
    if stacked:
        from emojify.training.model import stack_layers

        try:
            stack_layers(model)
        except ValueError as exc:
            raise DataError(f"{path}: {exc}") from None
    return model


def given_model(option: str, path: str, stacked: bool = False):
    """:func:`load_keras_model` for a model given with ``option``, which its one-line error names."""
    try:
        return load_keras_model(path, stacked)
    except DataError as exc:
        raise DataError(f"{option} {exc}") from exc


def class_weights(y: np.ndarray, power: float) -> dict[int, float]:
    """Per-class loss weights ``(mean count / count) ** power``; power 0 is none, 1 fully balanced."""
    counts = np.maximum(np.bincount(y, minlength=NUM_CLASSES), 1)
    weights = (counts.mean() / counts) ** power
    return {i: float(w) for i, w in enumerate(weights / np.average(weights, weights=counts))}


def stratified_subset(split: Split, n: int, seed: int) -> Split:
    """About ``n`` images of ``split`` with every class kept in proportion (at least one each)."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in range(NUM_CLASSES):
        idx = np.flatnonzero(split.y == c)
        take = max(1, round(n * len(idx) / len(split))) if len(idx) else 0
        keep.append(rng.choice(idx, size=min(take, len(idx)), replace=False))
    keep = np.sort(np.concatenate(keep))
    return Split(split.x[keep], split.y[keep])


BATCHNORM_FACES = 10_000
"""Training faces over which the batch-norm statistics are set, see ``set_batchnorm_statistics``."""


def batchnorm_faces(split: Split) -> np.ndarray:
    """The same un-augmented faces of ``split`` every time: the trainer and the quantizer agree on the
    whole training split. A ``--subset`` run sets its statistics over its own few faces, the quantizer
    over the whole split's, so its quantized model's float metrics differ a little from its history's."""
    return stratified_subset(split, BATCHNORM_FACES, seed=0).x


def as_inputs(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """(float32 faces (N, 48, 48, 1) in 0..255, one-hot labels (N, 7)) for ``fit``."""
    return split.x.astype(np.float32)[..., None], np.eye(NUM_CLASSES, dtype=np.float32)[split.y]


def teacher_probabilities(teachers, faces: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The teachers' mean probabilities (N, 7) over ``faces`` and their mirror images.

    Expressions do not change in a mirror, so the mean over both is the better soft label, and it holds
    for a face whichever way the augmentation flips it.
    """
    x = faces.astype(np.float32)[..., None]
    total = np.zeros((len(faces), NUM_CLASSES), np.float64)
    for teacher in teachers:
        for view in (x, x[:, :, ::-1]):
            total += teacher.predict(view, batch_size=batch_size, verbose=0)
    return (total / (2 * len(teachers))).astype(np.float32)


def consistent_teacher(teachers):
    """A function of an input batch (B, 48, 48, 1) giving the teachers' mean probabilities (B, 7).

    Used on each augmented batch, the student is taught on exactly the face it sees, shifted, turned
    or mirrored, not on a label computed once for the upright face ("consistent teaching").
    """
    def probabilities(x: np.ndarray) -> np.ndarray:
        return np.mean([np.asarray(t.predict_on_batch(x)) for t in teachers], axis=0, dtype=np.float32)

    return probabilities


def augmented_batches(split: Split, batch_size: int, seed: int,
                      soft: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None,
                      teacher_weight: float = 0.0, lighting: float = 0.0,
                      weights: dict[int, float] | None = None):
    """A Keras ``PyDataset`` of shuffled, freshly augmented training batches, every epoch anew.

    A share ``lighting`` of the faces is also dimmed, gamma-bent and noised (``relight_faces``). With
    ``soft`` labels (the teachers' probabilities: one row a face, or a function giving them for an
    augmented batch) the targets become ``(1 - w) * one-hot + w * soft`` (knowledge distillation,
    ``w = teacher_weight``). With ``weights`` (:func:`class_weights`) each batch carries a loss weight a
    face, its true class's: Keras's own ``class_weight`` takes the class from the target's largest
    value, which a teacher's probabilities can make another class than the face's.
    """
    per_face = None if weights is None else np.array([weights[c] for c in range(NUM_CLASSES)], np.float32)[split.y]
    import keras

    from emojify.training.augment import augment_faces, relight_faces

    class AugmentedFaces(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(split))

        def __len__(self):
            return math.ceil(len(split) / batch_size)

        def __getitem__(self, i):
            pick = self.order[i * batch_size:(i + 1) * batch_size]
            faces = augment_faces(split.x[pick], self.rng)
            if lighting:
                faces = relight_faces(faces, self.rng, lighting)
            x, y = as_inputs(Split(faces, split.y[pick]))
            if soft is not None:
                taught = soft(x) if callable(soft) else soft[pick]
                y = (1.0 - teacher_weight) * y + teacher_weight * taught
            return (x, y) if per_face is None else (x, y, per_face[pick])

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(split))

    return AugmentedFaces()


def save_atomic(model, path: Path) -> None:
    """Save a Keras model so that ``path`` is never left half-written."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def write_json_atomic(path: Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2) + "\n")


def plot_curves(history: list[dict], path: Path) -> None:
    """Loss and accuracy per epoch, training vs PublicTest, as a PNG."""
    plt = pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in ((ax1, "loss", "loss"), (ax2, "accuracy", "accuracy")):
        ax.plot(epochs, [h[key] for h in history], label="train (augmented)")
        (public,) = ax.plot(epochs, [h["val_" + key] for h in history], label="PublicTest")
        if all(f"val_{key}_running_bn" in h for h in history):
            ax.plot(epochs, [h[f"val_{key}_running_bn"] for h in history], ls="--", color=public.get_color(),
                    label="PublicTest, running batch-norm averages")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    best = max(history, key=lambda h: h["val_accuracy"])
    ax2.annotate(f"best {best['val_accuracy']:.3f} @ {best['epoch']}", (best["epoch"], best["val_accuracy"]),
                 textcoords="offset points", xytext=(-60 if best["epoch"] > epochs[len(epochs) // 2] else 10, -25),
                 arrowprops={"arrowstyle": "->"})
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def make_epoch_logger(run: Path, model_ref, statistics_faces: np.ndarray, val_split: Split):
    """A Keras callback writing history.json, curves.png, last.keras and best.keras every epoch.

    Before saving, it sets the model's batch-norm statistics over ``statistics_faces`` (see
    ``set_batchnorm_statistics``) and scores PublicTest again: ``val_accuracy`` and ``val_loss`` in the
    history are those of the saved model; Keras's, with the running averages, are kept as
    ``val_accuracy_running_bn`` and ``val_loss_running_bn``.
    """
    import keras

    from emojify.training.model import set_batchnorm_statistics

    x_val, y_val = as_inputs(val_split)

    class EpochLogger(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            path = run / "history.json"
            self.history = json.loads(path.read_text()) if path.is_file() else []
            self.started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            set_batchnorm_statistics(model_ref, statistics_faces)
            p_val = model_ref.predict(x_val, batch_size=256, verbose=0)
            exact = {"val_accuracy": float(np.mean(p_val.argmax(1) == y_val.argmax(1))),
                     "val_loss": float(model_ref.loss(y_val, p_val))}
            log.info("epoch %d: PublicTest accuracy %.4f with exact batch-norm statistics (%.4f with running "
                     "averages)", epoch + 1, exact["val_accuracy"], logs.get("val_accuracy", float("nan")))
            logs = logs | {f"{k}_running_bn": logs[k] for k in exact if k in logs} | exact
            # on resume Keras replays nothing, so the epoch number is ours to keep consistent
            self.history = [h for h in self.history if h["epoch"] < epoch + 1]
            best_before = max((h["val_accuracy"] for h in self.history), default=-1.0)
            lr = keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            entry = {"epoch": epoch + 1, **logs, "learning_rate": float(lr),
                     "seconds": round(time.time() - self.started, 1)}
            self.started = time.time()
            self.history.append(entry)
            save_atomic(model_ref, run / "last.keras")
            if logs.get("val_accuracy", -1) > best_before:
                save_atomic(model_ref, run / "best.keras")
                log.info("epoch %d: new best PublicTest accuracy %.4f", epoch + 1, logs["val_accuracy"])
            write_json_atomic(run / "history.json", self.history)
            plot_curves(self.history, run / "curves.png")

    return EpochLogger()


def make_backup(folder: Path, first=None):
    """Keras's ``BackupAndRestore`` into ``folder``, which writes its files in place: a Ctrl-C while it
    saves an epoch takes effect once they are whole (``ctrl_c_held``), so ``--resume`` can read them.
    ``first`` (the epoch logger) records each epoch before, under the same hold: a Ctrl-C between
    the two left the backup an epoch behind the history and ``best.keras``, so that ``--resume`` did
    the epoch again and could leave ``best.keras`` the model of an epoch no longer in the history.
    A fault it cannot hold off (a full disk, a power cut) may leave them broken: it keeps the epoch
    before too (``double_checkpoint``), which ``--resume`` then carries on from (Keras where the weights
    cannot be read, :func:`earlier_backup` where the epoch count is damaged), doing the last epoch
    again (``best.keras`` stays the best model saved, which may be that epoch's first go); where
    neither can be read, that is one line saying so."""
    import keras

    class Backup(keras.callbacks.BackupAndRestore):
        def set_model(self, model):
            super().set_model(model)
            if first is not None:
                first.set_model(model)

        def on_train_begin(self, logs=None):
            try:
                super().on_train_begin(logs)
            except OSError as exc:
                raise DataError(f"{folder}: the training backup cannot be read ({first_line(exc)}); "
                                "start a new run") from None

        def on_epoch_end(self, epoch, logs=None):
            with ctrl_c_held():
                if first is not None:
                    first.on_epoch_end(epoch, logs)
                super().on_epoch_end(epoch, logs)

    return Backup(str(folder), double_checkpoint=True)


def train(cfg: TrainConfig, run: Path, verbose: int, new: bool = False) -> Path:
    """Train according to ``cfg`` into the run folder (carrying on from its backup, if an earlier
    run was interrupted); returns the path of ``best.keras``. A ``new`` run's ``config.json`` is
    written once its data and models are accepted: a refused run leaves none."""
    splits = load_dataset(Path(cfg.data))  # before TensorFlow loads: bad data is one line, not after its log lines
    train_split, val_split = splits["train"], splits["val"]
    if len(val_split) == 0:
        raise DataError(f"{cfg.data}: no validation (PublicTest) images")

    import keras

    from emojify.training.model import build_model

    keras.utils.set_random_seed(cfg.seed)
    if cfg.subset:
        train_split = stratified_subset(train_split, cfg.subset, cfg.seed)
        val_split = stratified_subset(val_split, max(cfg.subset // 4, NUM_CLASSES), cfg.seed)
    log.info("train %d images, PublicTest %d images; per class %s", len(train_split), len(val_split),
             train_split.counts())

    steps = math.ceil(len(train_split) / cfg.batch_size)  # batches an epoch, the last one partial
    if cfg.init_from:
        model = given_model("--init-from", cfg.init_from, stacked=True)  # its statistics are set each epoch
        log.info("starting from %s", cfg.init_from)
    else:
        model = build_model(parse_blocks(cfg.blocks))
    teachers = [given_model("--teacher", path) for path in cfg.teacher]
    if new:
        write_json_atomic(run / "config.json", asdict(cfg))
    warmup = min(cfg.warmup_epochs * steps, cfg.epochs * steps // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.learning_rate / 20, decay_steps=cfg.epochs * steps - warmup, alpha=0.01,
        warmup_target=cfg.learning_rate, warmup_steps=warmup)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"], jit_compile=cfg.jit_compile and keras.backend.backend() != "torch")
    weights = class_weights(train_split.y, cfg.class_weight_power)
    log.info("class weights %s", {CLASSES[i]: round(w, 2) for i, w in weights.items()})

    # the history first: an epoch is in the backup only once it is in the history, so a run stopped
    # between the two (by a fault: Ctrl-C waits for both) repeats that epoch on --resume rather than
    # leaving a gap in its history
    callbacks = [make_backup(run / "backup", first=make_epoch_logger(run, model, batchnorm_faces(train_split),
                                                                     val_split))]
    soft = None
    if teachers:
        val_accuracy = np.mean(teacher_probabilities(teachers, val_split.x).argmax(1) == val_split.y)
        log.info("distilling from %s (weight %.2f); together, over each face and its mirror, they score "
                 "%.1f%% on PublicTest", ", ".join(cfg.teacher), cfg.teacher_weight, 100 * val_accuracy)
        if cfg.teach_augmented:
            soft = consistent_teacher(teachers)
            log.info("the teachers label every augmented batch as the student sees it")
        else:
            soft = teacher_probabilities(teachers, train_split.x)
            log.info("they agree with %.1f%% of the training labels",
                     100 * np.mean(soft.argmax(1) == train_split.y))
            del teachers
    batches = augmented_batches(train_split, cfg.batch_size, cfg.seed, soft, cfg.teacher_weight, cfg.lighting,
                                weights)
    model.fit(batches, validation_data=as_inputs(val_split),
              validation_batch_size=256, epochs=cfg.epochs, callbacks=callbacks, verbose=verbose)
    return run / "best.keras"


HISTORY_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")


def read_run_file(run: Path, name: str, check: Callable):
    """``check(parsed JSON of run/name)``; a file that cannot be read, parsed or checked is a DataError."""
    try:
        return check(json.loads((run / name).read_text()))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DataError(f"{run}: damaged run file {name} ({first_line(exc)}); start a new run or restore it") from exc


def saved_config(saved) -> TrainConfig:
    """The ``TrainConfig`` of a run's ``config.json`` (parsed), checked."""
    if not isinstance(saved, dict):
        raise TypeError("not a JSON object")
    unknown = sorted(set(saved) - {f.name for f in fields(TrainConfig)})
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}")
    if isinstance(saved.get("teacher"), str):  # runs from before --teacher could be repeated
        saved["teacher"] = [saved["teacher"]] if saved["teacher"] else []
    cfg = TrainConfig(**saved)
    problem = settings_problem(cfg, new=False)
    if problem:
        raise ValueError(problem.removeprefix("--"))
    return cfg


def saved_history(history) -> list[dict]:
    """A run's ``history.json`` (parsed), checked: one entry an epoch, in order."""
    if not isinstance(history, list):
        raise TypeError("not a JSON list")
    last = 0
    for n, entry in enumerate(history, 1):
        if not isinstance(entry, dict) or any(isinstance(entry.get(k), bool) or not isinstance(entry.get(k), int | float)
                                              for k in HISTORY_KEYS):
            raise ValueError(f"entry {n} lacks one of {', '.join(HISTORY_KEYS)}")
        if not isinstance(entry["epoch"], int) or entry["epoch"] <= last:
            raise ValueError(f"entry {n}: epoch {entry['epoch']} out of order")
        last = entry["epoch"]
    return history


def backup_epoch(metadata) -> int:
    """Epochs done according to Keras's ``backup/training_metadata.json`` (parsed), checked."""
    if not isinstance(metadata, dict) or isinstance(metadata.get("epoch"), bool) \
            or not isinstance(metadata.get("epoch"), int) or metadata["epoch"] < 0:
        raise ValueError("no epoch count")
    return metadata["epoch"]


def earlier_backup(folder: Path) -> bool:
    """Put the backup's copy of the epoch before (Keras's ``*.bkp``, :func:`make_backup`) in place of
    its last epoch, whose ``training_metadata.json`` is damaged (Keras writes it after the weights, so
    a fault can break it alone, and Keras falls back by itself only where the weights cannot be
    read); True where that copy is whole and now in place."""
    names = ("latest.weights.h5", "training_metadata.json")
    try:
        backup_epoch(json.loads((folder / f"{names[1]}.bkp").read_text()))
    except (OSError, ValueError):
        return False
    if not (folder / f"{names[0]}.bkp").is_file():
        return False
    for name in names:
        shutil.copyfile(folder / f"{name}.bkp", folder / name)
    log.warning("%s: the last epoch's backup is damaged; carrying on from the epoch before", folder)
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; a setting left out is None (:func:`given_settings`), its default then
    :class:`TrainConfig`'s, which the help shows."""
    p = argparse.ArgumentParser(
        prog="emojify-train", description=plain_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    d = TrainConfig(data="")
    p.add_argument("data", type=path_argument, help="FER2013 image-folder root (train/, test/) or fer2013.csv")
    p.add_argument("--out", type=path_argument, default=Path("runs/emotion"), help="run folder (default: %(default)s)")
    p.add_argument("--epochs", type=int, help=f"epochs in this run (default: {d.epochs})")
    p.add_argument("--batch-size", type=int, help=f"training faces per step (default: {d.batch_size})")
    p.add_argument("--lr", type=float, dest="learning_rate", help=f"peak learning rate (default: {d.learning_rate})")
    p.add_argument("--warmup-epochs", type=int,
                   help="epochs in which the learning rate rises to --lr, before it falls; at most half of "
                        f"--epochs (default: {d.warmup_epochs})")
    p.add_argument("--class-weight-power", type=float, metavar="POWER",
                   help="loss weight per class (mean count / count) ** POWER: 0 none, 1 fully balanced "
                        f"(default: {d.class_weight_power})")
    p.add_argument("--seed", type=int, help=f"random seed (default: {d.seed})")
    p.add_argument("--subset", type=int, metavar="N",
                   help="train on about N images only, and validate on about N/4 PublicTest images (smoke runs; "
                        "default: all)")
    p.add_argument("--init-from", metavar="MODEL", help="start from this saved .keras model, fresh schedule")
    p.add_argument("--teacher", action="append", metavar="MODEL",
                   help="a stronger saved .keras model to distil from; repeat it for an ensemble. Their "
                        "mean probabilities on each training face and its mirror become soft labels")
    p.add_argument("--teacher-weight", type=float,
                   help=f"share of the teacher's probabilities in the targets (default: {d.teacher_weight})")
    p.add_argument("--teach-augmented", action="store_true", default=None,
                   help="the teachers label each augmented face as the student sees it, not each face once "
                        "before training (consistent teaching; epochs take longer)")
    p.add_argument("--blocks",
                   help="network width and depth: CHANNELSxCONVS per block, each block ending in 2x2 "
                        f"max-pooling (default: {d.blocks}; not with --init-from, whose model keeps its own)")
    p.add_argument("--lighting", type=float, metavar="SHARE",
                   help="dim, gamma-bend and noise this share of the training faces, for dim rooms "
                        f"(default: {d.lighting})")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out, with its own settings (its config.json)")
    p.add_argument("--no-jit", action="store_false", dest="jit_compile", default=None,
                   help="do not XLA-compile the training step")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1 if sys.stdout.isatty() else 2,
                   help="Keras output: 1 progress bar, 2 one line an epoch (default: bar on a terminal)")
    return p.parse_args(argv)


def given_settings(args: argparse.Namespace) -> dict:
    """The settings typed on the command line, by :class:`TrainConfig` field (each option's ``dest`` is
    its field's name); those left out (None in ``args``) and those with no option are not here."""
    values = {f.name: getattr(args, f.name, None) for f in fields(TrainConfig) if f.name != "data"}
    return {name: value for name, value in values.items() if value is not None}


def config_of(args: argparse.Namespace) -> TrainConfig:
    """The settings of a new run, from the command line: :class:`TrainConfig`'s defaults where left out
    (no ``blocks`` where it goes on from an ``init_from`` model: the run records the network it trains)."""
    cfg = TrainConfig(data=str(args.data), **given_settings(args))
    return replace(cfg, blocks="") if cfg.init_from else cfg


def changed_on_resume(args: argparse.Namespace, saved: TrainConfig) -> list[str]:
    """The options given with ``--resume`` that differ from the run's own settings (its config.json),
    which a resumed run keeps; the same values as the run's, as in the command repeated, are fine. An
    option typed at its default counts as given: ``--epochs 40`` on a 10-epoch run is refused too."""
    own = asdict(saved)
    options = {"learning_rate": "--lr", "jit_compile": "--no-jit"}
    return [options.get(name, "--" + name.replace("_", "-")) for name, value in given_settings(args).items()
            if value != own[name]]


def resumed_data(given: str, saved: TrainConfig) -> tuple[TrainConfig, str | None]:
    """The run's settings to resume with DATA ``given``, or a problem. The run reads its own data; a
    ``given`` that is another data set is refused, but where the run's own is gone (moved, another
    machine), the ``given`` one is read in its place."""
    if not Path(given).exists():
        return saved, f"{given}: no such file or folder"
    if not Path(saved.data).exists():
        log.info("the run's data %s is not there any more; reading %s", saved.data, given)
        return replace(saved, data=given), None
    if not os.path.samefile(given, saved.data):
        return saved, (f"--resume reads the run's own data, {saved.data}, not {given}; give that one, or "
                       "start a new run in another --out")
    return saved, None


def how_to_resume(args: argparse.Namespace) -> str:
    """What to do after Ctrl-C: the ``--resume`` command once the run has begun (its config.json written,
    by this run: an earlier attempt's, stopped before its first epoch, would resume its own settings)."""
    path = args.out / "config.json"
    try:
        begun = path.is_file() and (args.resume or json.loads(path.read_text()) == json.loads(
            json.dumps(asdict(config_of(args)))))
    except (OSError, ValueError):
        begun = False
    if not begun:
        return "the run had not begun; start it again"
    return "resume with: " + shlex.join(["emojify-train", str(args.data), "--out", str(args.out), "--resume"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return until_interrupted("emojify-train", lambda: run_command(args), lambda: how_to_resume(args))


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run: Path = args.out
    config_path = run / "config.json"
    if args.resume:
        if not config_path.is_file():
            print_error("emojify-train", f"{run}: no run to resume (no config.json)")
            return 2
        try:
            cfg = read_run_file(run, "config.json", saved_config)
            done = read_run_file(run, "history.json", saved_history) if (run / "history.json").is_file() else []
            metadata = Path("backup", "training_metadata.json")
            if (run / metadata).is_file():
                try:
                    read_run_file(run, str(metadata), backup_epoch)
                except DataError:
                    if not earlier_backup(run / "backup"):
                        raise
        except DataError as exc:
            print_error("emojify-train", exc)
            return 2
        changed = changed_on_resume(args, cfg)
        if changed:
            print_error("emojify-train", f"--resume carries on with the settings in {config_path}; leave out "
                        f"what differs from them ({', '.join(changed)}), or start a new run in another --out")
            return 2
        last = done[-1]["epoch"] if done else 0
        if not (run / "backup").exists():
            if last >= cfg.epochs:
                print(f"emojify-train: {run} already finished its {cfg.epochs} epochs; nothing to resume")
                return 0
            if last:  # training again from the first epoch would overwrite its best.keras
                print_error("emojify-train", f"{run}: history.json has {last} of {cfg.epochs} epochs but no "
                            "backup/ to carry on from; start a new run")
                return 2
        cfg, problem = resumed_data(str(args.data), cfg)
        if problem:
            print_error("emojify-train", problem)
            return 2
    else:
        cfg = config_of(args)
        if cfg.init_from and args.blocks is not None:  # it would do nothing, in silence
            print_error("emojify-train", "--blocks builds a new network; a model given with --init-from keeps "
                        "its own layers: leave one out")
            return 2
        try:
            if cfg.blocks:  # none with --init-from
                parse_blocks(cfg.blocks)
        except ValueError as exc:
            print_error("emojify-train", f"--blocks {exc}")
            return 2
        for option, path in (("--init-from", cfg.init_from), *(("--teacher", t) for t in cfg.teacher)):
            if not path:
                continue
            try:  # a file that is no model: said now, not after the data is read and TensorFlow started
                if not Path(path).is_file():
                    raise DataError(missing_model(Path(path)))
                check_keras_file(path)
            except DataError as exc:
                print_error("emojify-train", f"{option} {exc}")
                return 2
        if (run / "backup").exists() or (run / "history.json").exists():
            print_error("emojify-train", f"{run} already holds a run; use --resume or another --out")
            return 2
        problem = (settings_problem(cfg) or teacherless_problem(cfg, given_settings(args))
                   or (None if Path(cfg.data).exists() else f"{cfg.data}: no such file or folder"))
        if problem:
            print_error("emojify-train", problem)
            return 2
    missing = missing_library("keras", "matplotlib")  # matplotlib draws curves.png after every epoch
    if missing:
        print_error("emojify-train", missing)
        return 2
    made = MadeFolders([])
    if not args.resume:
        try:  # an existing one that cannot be written: now, not after the data
            made = MadeFolders(make_folder(run, f"--out {run}"), run)
        except OutputError as exc:
            print_error("emojify-train", exc)
            return 2
    try:
        best = train(cfg, run, args.verbose, new=not args.resume)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before the first file: no folder left either
        made.take_back()
        raise
    except (DataError, OSError) as exc:
        made.take_back()  # a refused new run leaves no folder behind either
        print_error("emojify-train", write_problem(exc, run) if isinstance(exc, OSError) else exc)
        return 2
    log.info("done: best model %s", best)
    return 0


if __name__ == "__main__":
    sys.exit(main())
