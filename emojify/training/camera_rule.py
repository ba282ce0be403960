"""Fit the decision rule's camera bias on labelled real photos, into a new model folder.

    python -m emojify.training.camera_rule REALFACES --out runs/camera-model [--model model/emotion_int8.tflite]
        [--parts runs/realfaces-parts]

The photos (``REALFACES/<class>/*.jpg``) are split in two by a stable hash of the person's name
(the file name without its number, so one person's photos stay on one side): the **fit** part,
on which the bias is fitted, and the **development** part, kept for measuring
(``emojify evaluate PARTS/dev --detect``). Each fit photo goes through the same path as
``emojify predict`` (the face found, cropped, classified by the model's rule without a camera
bias); :func:`emojify.decision.fit_camera_bias` then chooses the bias of the expressions with
:data:`~emojify.metrics.MIN_SUPPORT` or more fit photos, fear and disgust excepted (too few, too
noisy to tune to), for the best balanced accuracy over them with their accuracy kept. The model, unchanged, and its metadata with the bias are written into ``--out``,
all at once; the model folder you ship from stays untouched until you copy them there.
Needs no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from emojify.classifier import Classifier, default_model_path, metadata_path
from emojify.decision import METADATA_KEY, fit_camera_bias
from emojify.errors import EmojifyError, print_error, until_interrupted, write_problem
from emojify.evaluate import FolderError, labelled_images
from emojify.fileio import MadeFolders, real_folder, remove_empty
from emojify.helptext import plain_text
from emojify.imageio import ImageError, read_image_scaled
from emojify.labels import CLASSES
from emojify.metrics import MIN_SUPPORT, NO_ANSWER
from emojify.progress import progress_bar
from emojify.training.commands import check_output_folder

log = logging.getLogger("emojify.camera_rule")

PROG = "emojify camera_rule"
"""How its messages begin."""
PARTS = ("fit", "dev")
NOT_TUNED = ("fear", "disgust")
"""Expressions whose bias stays 0: realfaces has 9 and 43 of them, with noisy labels."""


def person(path: Path) -> str:
    """The person a photo shows, from its file name: ``George_W_Bush_0012.jpg`` -> ``George_W_Bush``."""
    return re.sub(r"[_\s-]*\d+$", "", path.stem) or path.stem


def part_of(path: Path) -> str:
    """``"fit"`` or ``"dev"``, by a stable hash (CRC-32) of the person's name: the same on every machine."""
    return PARTS[zlib.crc32(person(path).encode("utf-8")) % 2]


def split_photos(root: Path) -> dict[str, list[tuple[Path, int]]]:
    """The labelled photos of ``root`` by part."""
    parts: dict[str, list[tuple[Path, int]]] = {name: [] for name in PARTS}
    for path, label in labelled_images(root):
        parts[part_of(path)].append((path, label))
    return parts


def link_parts(parts: dict[str, list[tuple[Path, int]]], out: Path) -> None:
    """``out/fit/<class>/`` and ``out/dev/<class>/``, symbolic links to the photos, for ``emojify evaluate``."""
    for name, items in parts.items():
        for path, label in items:
            target = out / name / CLASSES[label] / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_symlink():
                target.symlink_to(path.resolve())


def shown_probabilities(model: Path, items: list[tuple[Path, int]],
                        progress: Callable[[Iterable], Iterable] = lambda it: it) -> tuple[np.ndarray, np.ndarray]:
    """Labels (``NO_ANSWER`` where no face was found) and the rule's probabilities without a camera bias;
    ``progress`` wraps the photos (a progress bar)."""
    from emojify.pipeline import Pipeline

    rule = Classifier(model).decision
    pipeline = Pipeline(Classifier(model, decision=replace(rule, camera_bias=None)), region_fraction=1.0)
    labels, shown = [], []
    for path, label in progress(items):
        try:
            result = pipeline.analyze(read_image_scaled(path)[0], use_region=False)
        except ImageError as exc:
            log.warning("%s", exc)
            continue
        found = result.probabilities is not None
        labels.append(label if found else NO_ANSWER)
        shown.append(result.probabilities if found else np.full(len(CLASSES), 1.0 / len(CLASSES), np.float32))
    return np.array(labels, int), np.array(shown, np.float32).reshape(-1, len(CLASSES))


def tuned_classes(labels: np.ndarray) -> tuple[int, ...]:
    """The classes whose bias is fitted: :data:`MIN_SUPPORT` or more photos with a face, not :data:`NOT_TUNED`."""
    counts = np.bincount(labels[labels >= 0], minlength=len(CLASSES))
    return tuple(i for i, name in enumerate(CLASSES) if counts[i] >= MIN_SUPPORT and name not in NOT_TUNED)


def write_model(model: Path, bias: tuple[float, ...], note: dict, out: Path) -> Path:
    """Copy the model and its metadata, with the camera bias in its rule, into ``out``, checked whole
    before either is moved in; whatever else ``out`` holds stays. The two are moved in one after the
    other (a swap of the whole folder would take the rest of it along): a stop between them leaves a
    pair whose checksum the kiosk refuses in one line, never a wrong model used. An ``out`` made here
    and left empty (refused, or stopped before anything moved in) is taken away again."""
    metadata = json.loads(metadata_path(model).read_text())
    metadata[METADATA_KEY] = dict(metadata.get(METADATA_KEY) or {}) | {
        "camera_bias": [round(b, 4) for b in bias], "camera_bias_fitted_on": note}
    fresh, staging = not out.exists(), None
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".camera-", dir=real_folder(out)))
        shutil.copyfile(model, staging / model.name)
        metadata_path(staging / model.name).write_text(json.dumps(metadata, indent=2) + "\n")
        Classifier(staging / model.name)  # refuses anything malformed before it lands
        for item in staging.iterdir():
            os.replace(item, out / item.name)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if fresh:
            remove_empty([out])
    return out / model.name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m emojify.training.camera_rule", description=plain_text(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", type=Path, help="labelled real photos, PHOTOS/<class>/*.jpg")
    p.add_argument("--out", type=Path, required=True, help="new model folder to write (the model and its JSON)")
    p.add_argument("--model", type=Path, help="model to start from (default: the shipped one)")
    p.add_argument("--parts", type=Path, help="also link the fit and development parts here (PARTS/fit, PARTS/dev)")
    args = p.parse_args(argv)
    return until_interrupted(PROG, lambda: run_command(args),
                             lambda: f"nothing was written to {args.out}; run it again")


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    made = MadeFolders([])
    try:
        model = args.model or default_model_path()
        if args.out.resolve() == model.parent.resolve():
            raise FolderError(f"--out {args.out}: that is the model's own folder; write a new one")
        made = check_output_folder(args.out, f"--out {args.out}")
        parts = split_photos(args.photos)
        if args.parts:
            link_parts(parts, args.parts)
        labels, shown = shown_probabilities(model, parts["fit"], progress_bar)
        classes = tuned_classes(labels)
        if not classes:
            raise FolderError(f"{args.photos}: no expression besides {' and '.join(NOT_TUNED)} has "
                              f"{MIN_SUPPORT} photos with a face in the fit part; nothing to fit")
        bias = fit_camera_bias(labels, shown, classes)
        counts = {CLASSES[c]: int((labels == c).sum()) for c in classes}
        note = {"photos": args.photos.name, "part": "fit (CRC-32 of the person's name, even)",
                "tuned_classes": counts, "objective": "balanced accuracy over the tuned classes, accuracy over their photos kept"}
        written = write_model(model, bias, note, args.out)
    except (EmojifyError, OSError) as exc:
        made.take_back()  # a refused run leaves no folder behind
        print_error(PROG, write_problem(exc, args.out) if isinstance(exc, OSError) else exc)
        return 2
    except BaseException:  # Ctrl-C or SIGTERM: "nothing was written", and no folder made either
        made.take_back()
        raise
    print(json.dumps({"model": str(written), "camera_bias": dict(zip(CLASSES, bias, strict=True)),
                      "fit_photos": len(parts["fit"]), "dev_photos": len(parts["dev"]), "tuned": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
