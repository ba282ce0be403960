"""Turn a trained Keras model into the shipped full-integer int8 TFLite model, and measure it.

    emojify-quantize runs/emotion/best.keras DATA [--out-dir DIR | --install] [--run runs/emotion]

Sets the batch-norm statistics to their exact values over un-augmented training faces (see
``set_batchnorm_statistics``), calibrates on a class-stratified sample of training images, converts
with int8 input and output, then scores the float and the int8 model on PublicTest (and PrivateTest
where the data has it) and writes into a new folder (``--out-dir``, by default
``quantized-<UTC time>``), or with ``--install`` into ``model/``, the folder the kiosk loads. The
files are written into a hidden folder beside it, which then takes the folder's name by a rename
(an old folder moved aside first, and put back if that fails), so the model and its metadata
change as one pair and nothing is left half-written:

* ``emotion_int8.tflite``  the model the kiosk runs
* ``emotion.keras``        the float model it came from, with those statistics (to re-quantize, or
                          to train on from)
* ``emotion_int8.json``    metadata: classes, input spec, sha256, metrics, training recipe, and the
                          decision rule fitted on PublicTest (``emojify.decision.fit_rule``)
* ``confusion_publictest.png``
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import filecmp
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path

import numpy as np

from emojify.classifier import MODEL_NAME, Classifier, interpreter_installed, sha256_of
from emojify.decision import METADATA_KEY, class_frequencies, fit_rule
from emojify.errors import print_error, until_interrupted, write_problem
from emojify.fileio import MadeFolders, path_argument, real_folder
from emojify.helptext import plain_text
from emojify.labels import CLASSES
from emojify.metrics import summarize
from emojify.preprocess import INPUT_SIZE, to_batch
from emojify.resources import PACKAGE_DIR, resource_dir
from emojify.training.commands import check_output_folder
from emojify.training.data import DataError, load_dataset
from emojify.training.model import set_batchnorm_statistics
from emojify.training.train import (
    SEED_RANGE,
    batchnorm_faces,
    check_keras_file,
    load_keras_model,
    missing_library,
    missing_model,
    range_problem,
    read_run_file,
    saved_config,
    saved_history,
    stratified_subset,
)

log = logging.getLogger("emojify.quantize")

FLOAT_NAME = "emotion.keras"
METADATA_NAME = "emotion_int8.json"
CONFUSION_NAME = "confusion_publictest.png"
OUTPUT_FILES = (MODEL_NAME, METADATA_NAME, FLOAT_NAME, CONFUSION_NAME)
"""What :func:`quantize` writes."""
SPLIT_NAMES = {"val": "publictest", "test": "privatetest"}


def convert_int8(model, calibration: np.ndarray) -> bytes:
    """Full-integer int8 conversion of a Keras model, calibrated on prepared faces ``(N, 48, 48)``."""
    import tensorflow as tf

    def representative():
        for face in calibration:
            yield [to_batch(face)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(sys.stderr):  # Keras prints "Saved artifact at ..."; stdout is for the result
        return converter.convert()


def prior_training(init_from: str) -> dict:
    """The training record of the model we trained on from (from its metadata), or ``{}``: also, with
    a warning, where that metadata is damaged (it only adds history; the new model is no worse)."""
    meta = Path(init_from).with_name(METADATA_NAME) if init_from else None
    if not (meta and meta.is_file()):
        return {}
    try:
        saved = json.loads(meta.read_text())
    except (OSError, ValueError) as exc:
        problem = str(exc)
    else:
        record = saved.get("training", {}) if isinstance(saved, dict) else None
        if isinstance(record, dict):
            return record
        problem = "no training record in it"
    log.warning("%s: damaged model metadata (%s); the new model's record leaves out its earlier sittings",
                meta, problem)
    return {}


def run_config(saved) -> dict:
    """A run's ``config.json`` (parsed), checked as ``emojify-train --resume`` checks it, as it was saved."""
    saved_config(dict(saved) if isinstance(saved, dict) else saved)
    return saved


def training_record(run: Path | None, model_file: str = "best.keras") -> dict:
    """The recipe and epochs of the run that produced the model (from its folder), if given; a folder
    that holds no run, or a damaged run file, is a :class:`DataError`. ``model_file`` is which of the
    run's models it is: ``best.keras`` (the best epoch's) or ``last.keras`` (the last epoch's), whose
    epoch is ``model_epoch_this_run`` and counts in ``epochs_total``.

    A run that went on from an earlier model (``--init-from``) carries that model's sittings along
    in ``earlier_sittings``, oldest first, so the metadata tells the model's whole history.
    """
    if not run:
        return {}
    if not (run / "config.json").is_file():
        raise DataError(f"--run {run}: not a training run (no config.json there)")
    config = read_run_file(run, "config.json", run_config)
    history = read_run_file(run, "history.json", saved_history) if (run / "history.json").is_file() else []
    best = max(history, key=lambda h: h["val_accuracy"], default={})
    kept = history[-1] if model_file == "last.keras" and history else best
    earlier = prior_training(config.get("init_from", ""))
    sittings = list(earlier.get("earlier_sittings", []))
    if earlier.get("recipe"):
        sittings.append({k: v for k, v in earlier.items() if k not in ("earlier_sittings", "epochs_total")})
    return {
        "recipe": config,
        "epochs_this_run": len(history),
        "best_epoch_this_run": best.get("epoch"),
        "model_epoch_this_run": kept.get("epoch"),
        "epochs_total": int(earlier.get("epochs_total", 0)) + int(kept.get("epoch", 0)),
        "seconds_this_run": round(sum(h.get("seconds", 0) for h in history)),
        "earlier_sittings": sittings,
    }


def install_dir() -> Path:
    """Where ``--install`` puts the model: the folder the kiosk loads (the checkout's ``model/``),
    wherever the command is run from."""
    try:
        return resource_dir("model")
    except FileNotFoundError:
        return PACKAGE_DIR.parent / "model"


def default_out_dir(now: dt.datetime | None = None) -> Path:
    """A new folder for a quantized model, named after the time: ``quantized-20261202-170512``."""
    return Path(f"quantized-{(now or dt.datetime.now(dt.timezone.utc)):%Y%m%d-%H%M%S}")


def refuse_existing(target: Path, replace: bool) -> None:
    """:class:`FileExistsError` for an existing ``target`` unless ``replace``: a run never overwrites by default.
    The error names ``target`` as its file, so that :func:`~emojify.errors.write_problem` says it once;
    where ``target`` is the kiosk's model folder, it names ``--install`` too."""
    if not replace and Path(target).exists():
        install = ", or --install to replace it" if Path(target).resolve() == install_dir().resolve() else ""
        raise FileExistsError(errno.EEXIST, f"already exists; give a new --out-dir{install}", str(target))


@contextlib.contextmanager
def staged_folder(target: Path, replace: bool, renewed: Collection[str] = ()) -> Iterator[Path]:
    """Yield a hidden folder beside ``target`` to fill; when the block ends without error it becomes
    ``target`` by a rename, so a reader sees the old files or the new ones, never a mix.

    Without ``replace`` an existing ``target`` is an error (:class:`FileExistsError`, before
    anything is written). With it, the files of the old folder that were not written anew are carried
    over (the face detector, its licence), but for those named in ``renewed`` (a run's own files, which
    a run that did not write one, such as a confusion picture without PublicTest, must not inherit), the old folder is moved aside, the new one
    renamed in and the old one removed: an error or Ctrl-C between the two renames puts the old
    folder back (a power cut there leaves it as ``.NAME.old-*/NAME`` beside it). On any error the
    hidden folder is removed.
    """
    target = Path(target)
    refuse_existing(target, replace)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=real_folder(target.parent)))
    try:
        yield staging
        old = None
        if target.exists():
            for item in target.iterdir():
                if item.is_file() and not (staging / item.name).exists() and item.name not in renewed:
                    shutil.copy2(item, staging / item.name)
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=real_folder(target.parent)))
            os.replace(target, old / target.name)
        try:
            staging.chmod(0o755)
            os.replace(staging, target)
        except BaseException:
            if old is not None:  # no moment without a model folder beyond this one
                os.replace(old / target.name, target)
                old.rmdir()
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install(folder: Path, target: Path | None = None) -> None:
    """Put the model files a run wrote into ``folder`` into ``target`` (the kiosk's ``model/``) as
    one swap (:func:`staged_folder`): the other files there, the face detector's, stay."""
    with staged_folder(target or install_dir(), replace=True) as staging:
        for name in OUTPUT_FILES:
            if (Path(folder) / name).is_file():
                shutil.copy2(Path(folder) / name, staging / name)


def quantize(keras_path: Path, data: Path, out_dir: Path, run: Path | None, samples: int, seed: int,
             replace: bool = False) -> dict:
    """Convert, evaluate and write the model files into the new folder ``out_dir`` (or in place of
    it, with ``replace``: see :func:`staged_folder`); returns the metadata."""
    if run:  # a bad --run: before the work
        training_record(run)  # a folder that holds no run, or a damaged run file: said first
        trained = [name for name in ("best.keras", "last.keras")
                   if (run / name).is_file() and filecmp.cmp(run / name, keras_path, shallow=False)]
        if not trained:
            raise DataError(f"--run {run}: {keras_path} is neither its best.keras nor its last.keras (nor a copy); "
                            "give the run that trained it, or leave --run out")
        training = training_record(run, trained[0])  # the best epoch's where the two are one
    else:
        training = prior_training(str(keras_path))
    refuse_existing(out_dir, replace)  # before the long work, not after it
    from emojify.evaluate import plot_confusion

    check_keras_file(keras_path)  # a file that is no model: said at once, before the data is read
    splits = load_dataset(data)  # a bad data path: one line, before TensorFlow's start-up lines
    model = load_keras_model(keras_path, stacked=True)
    statistics_faces = batchnorm_faces(splits["train"])
    set_batchnorm_statistics(model, statistics_faces)
    log.info("batch-norm statistics set over %d un-augmented training faces", len(statistics_faces))
    calibration = stratified_subset(splits["train"], samples, seed).x
    log.info("calibrating on %d training faces", len(calibration))
    tflite = convert_int8(model, calibration)

    with staged_folder(out_dir, replace, renewed=OUTPUT_FILES) as staging:  # the old model's files are not this one's
        (staging / MODEL_NAME).write_bytes(tflite)
        model.save(staging / FLOAT_NAME)  # loaded uncompiled: the weights without the optimizer state
        metadata = {
            "model": MODEL_NAME,
            "sha256": sha256_of(tflite),
            "size_bytes": len(tflite),
            "classes": list(CLASSES),
            "input": {"shape": [1, INPUT_SIZE, INPUT_SIZE, 1], "dtype": "int8",
                      "pixels": "gray 0..255, face crop, histogram-equalised (emojify.preprocess.prepare_face)",
                      "normalisation": "inside the model (x / 255); int8 input = quantized pixel value"},
            "output": {"dtype": "int8", "meaning": "softmax probabilities over classes"},
            "quantization": {"type": "full-integer int8 (weights and activations)",
                             "calibration_images": len(calibration), "from": FLOAT_NAME,
                             "batchnorm_statistics_images": len(statistics_faces)},
            "float_model": {"file": FLOAT_NAME, "sha256": sha256_of((staging / FLOAT_NAME).read_bytes())},
            "dataset": "FER2013 (Goodfellow et al. 2013): Training to train, PublicTest to select",
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "training": training,
            "metrics": {},
        }
        (staging / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")
        int8 = Classifier(staging / MODEL_NAME)
        if len(splits["val"]):
            val = splits["val"]
            rule = fit_rule(val.y, int8.predict(val.x), int8.predict(val.x[:, :, ::-1]),
                            class_frequencies(splits["train"].y))
            metadata[METADATA_KEY] = rule.as_dict() | {"fitted_on": "publictest"}
            log.info("decision rule fitted on PublicTest: prior power %.2f, temperature %.3f, mirror %s",
                     rule.power, rule.temperature, rule.mirror)
            (staging / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")
            int8 = Classifier(staging / MODEL_NAME)
        for split, name in SPLIT_NAMES.items():
            faces, y = splits[split].x, splits[split].y
            if not len(y):
                continue
            raw, shown = int8.predict(faces), int8.classify(faces)
            p_float = model.predict(to_batch(faces), batch_size=256, verbose=0).argmax(1)
            metadata["metrics"][name] = {
                "int8": summarize(y, raw.argmax(1), raw),
                "int8_decision": summarize(y, shown.argmax(1), shown),
                "float": summarize(y, p_float),
                "int8_float_agreement": float((raw.argmax(1) == p_float).mean()),
            }
            log.info("%s: int8 accuracy %.4f (with the decision rule %.4f, balanced %.4f, ECE %.4f), float %.4f, "
                     "agreement %.4f", name, metadata["metrics"][name]["int8"]["accuracy"],
                     metadata["metrics"][name]["int8_decision"]["accuracy"],
                     metadata["metrics"][name]["int8_decision"]["balanced_accuracy"],
                     metadata["metrics"][name]["int8_decision"]["ece"],
                     metadata["metrics"][name]["float"]["accuracy"], metadata["metrics"][name]["int8_float_agreement"])
        (staging / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")
        if "publictest" in metadata["metrics"]:
            plot_confusion(metadata["metrics"]["publictest"]["int8_decision"], staging / CONFUSION_NAME,
                           "int8 model with its decision rule on FER2013 PublicTest")
    return metadata


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="emojify-quantize", description=plain_text(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("keras_model", type=path_argument, help="trained float model (.keras), e.g. runs/emotion/best.keras")
    p.add_argument("data", type=path_argument, help="FER2013 image-folder root or fer2013.csv (calibration + scoring)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out-dir", type=path_argument, help="a new folder to write (default: quantized-<UTC time>)")
    where.add_argument("--install", action="store_true",
                       help=f"replace the model in {install_dir()}/, the folder the kiosk loads (model and metadata "
                            "change together: the new folder is renamed in)")
    p.add_argument("--run", type=path_argument, help="training run folder whose best.keras or last.keras the model is, to record its "
                   "recipe and epochs; without it, the training record of the model's own metadata (beside it) is "
                   "kept, if it has one")
    p.add_argument("--samples", type=int, default=1000, help="calibration images (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed of the calibration sample (default: %(default)s)")
    args = p.parse_args(argv)
    out_dir = install_dir() if args.install else args.out_dir or default_out_dir()
    return until_interrupted("emojify-quantize", lambda: run_command(args, out_dir),
                             lambda: f"nothing was written to {out_dir}; run it again")


def run_command(args: argparse.Namespace, out_dir: Path) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    problem = (range_problem("--samples", args.samples, 1) or range_problem("--seed", args.seed, *SEED_RANGE)
               or (None if args.keras_model.is_file() else missing_model(args.keras_model))
               or missing_library("tensorflow", "matplotlib")  # matplotlib draws the confusion matrix
               or (None if interpreter_installed() else missing_library("ai_edge_litert")))  # runs the int8 model
    if problem:
        print_error("emojify-quantize", problem)
        return 2
    made = MadeFolders([])
    try:
        made = check_output_folder(out_dir, f"--out-dir {out_dir}")  # an OutputError is a ValueError: one line
        meta = quantize(args.keras_model, args.data, out_dir, args.run, args.samples, args.seed, replace=args.install)
    except (DataError, OSError, ValueError) as exc:
        made.take_back()  # a refused run leaves no folder behind
        print_error("emojify-quantize", write_problem(exc, out_dir) if isinstance(exc, OSError) else exc)
        return 2
    except BaseException:  # Ctrl-C or SIGTERM: "nothing was written", and no folder made either
        made.take_back()
        raise
    print(json.dumps({"folder": str(out_dir)} | {k: v for k, v in meta.items() if k in ("sha256", "size_bytes")}
                     | {s: {"int8": m["int8"]["accuracy"], "float": m["float"]["accuracy"],
                            "agreement": m["int8_float_agreement"],
                            "decision": {k: m["int8_decision"][k] for k in ("accuracy", "balanced_accuracy", "ece")}}
                        for s, m in meta["metrics"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
