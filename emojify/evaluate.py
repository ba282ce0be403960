"""Score the TFLite model on a folder of labelled faces, with the interpreter alone (no TensorFlow).

The folder holds one sub-folder per class, named by the class (``happy/``, ``sad/``, ...); classes
may be missing. :func:`evaluate_folder` takes each image to be a face crop, as in FER2013 (any
size, colour or gray); :func:`evaluate_photos` takes whole photos as ``emojify predict`` does (the
face found, cropped, classified), and a photo without a face found counts as wrong.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emojify.classifier import Classifier
from emojify.errors import EmojifyError, reason_of
from emojify.fileio import atomic_path
from emojify.imageio import ImageError, folder_images, read_image
from emojify.labels import CLASSES, TEST_SPLITS, fer_split
from emojify.metrics import MIN30_KEY, MIN_SUPPORT, NO_ANSWER, summarize
from emojify.preprocess import prepare_face, to_gray

if TYPE_CHECKING:
    from emojify.pipeline import Pipeline

log = logging.getLogger(__name__)

BATCH = 256
DIM_NOISE_SIGMA = 3.0
"""Sensor noise (grey levels, standard deviation) of ``emojify evaluate --dim``."""
DIM_SEED = 0
"""Seed of that noise: `--dim` darkens the same faces the same way on every run."""


class FolderError(EmojifyError):
    """The evaluation folder is not laid out as ``DIR/<class>/*.jpg``."""


@dataclass
class Evaluation:
    """Metrics (see :func:`emojify.metrics.summarize`) plus the files that could not be read."""

    summary: dict
    errors: list[str] = field(default_factory=list)


def class_folders(root: Path) -> dict[str, Path]:
    """Map class name -> sub-folder of ``root`` (any case), in :data:`CLASSES` order.

    Raises :class:`FolderError` for a missing folder, a sub-folder that is not a class name, or no
    class folders at all. Hidden folders (a name starting with "."; Jupyter's ``.ipynb_checkpoints/``)
    are passed over: tools leave them, not makers.
    """
    root = Path(root)
    try:
        if not root.is_dir():
            raise FolderError(f"{root}: not a folder (expected DIR/<class>/*.jpg)")
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:  # no permission to enter it (or a folder on the way), a name too long
        raise FolderError(f"{root}: cannot read the folder ({reason_of(exc)})") from None
    unknown = [p.name for p in folders if p.name.lower() not in CLASSES]
    if unknown:
        raise FolderError(f"{root}: sub-folder(s) {', '.join(unknown)} are not class names "
                          f"(expected some of: {', '.join(CLASSES)})")
    found: dict[str, Path] = {}
    for folder in folders:
        twin = found.setdefault(folder.name.lower(), folder)
        if twin != folder:  # happy/ and Happy/ (a case-sensitive disk): neither may be left out unsaid
            raise FolderError(f"{root}: two folders for one class, {twin.name} and {folder.name}; "
                              "put their pictures in one")
    if not found:
        raise FolderError(f"{root}: no class sub-folders (expected some of: {', '.join(CLASSES)})")
    return {name: found[name] for name in CLASSES if name in found}


def labelled_images(root: Path, split: str | None = None) -> list[tuple[Path, int]]:
    """``(image path, class index)`` for every image in ``root/<class>/``, sorted; with ``split`` (one of
    :data:`TEST_SPLITS`) only those whose name starts with it, as in the Kaggle download's ``test/``.

    Raises :class:`FolderError` as :func:`class_folders` does, or where no class folder holds an
    image (of ``split``). An empty class folder is logged and skipped; without ``split``, a folder
    holding both test splits is scored whole, with a warning. Hidden files are passed over (the
    ``._face.jpg`` copies macOS writes onto a USB stick).
    """
    items, empty = [], []  # by the folders' names: the dimmed faces' noise is drawn in this order
    which = f"{split}* " if split else ""  # "no PublicTest* images"
    for name, folder in sorted(class_folders(root).items(), key=lambda item: item[1]):
        files = folder_images(folder, regular_only=False)  # a dangling link is named as unreadable
        if split:
            files = [p for p in files if fer_split(p.name) == split]
        if not files:
            empty.append(folder.name)
        items += [(p, CLASSES.index(name)) for p in files]
    if not items:
        raise FolderError(f"{root}: no {which}images found in its class folders")
    if empty:
        log.warning("%s: no %simages in class folder(s) %s", root, which, ", ".join(empty))
    if not split and {fer_split(p.name) for p, _ in items} >= set(TEST_SPLITS):
        log.warning("%s holds FER2013's PublicTest and PrivateTest faces, scored together here; "
                    "--split PublicTest scores the split the model's published figures use", root)
    return items


def dim(image: np.ndarray, brightness: float, noise_sigma: float, rng: np.random.Generator,
        gamma: float = 1.0) -> np.ndarray:
    """A uint8 image as a dimmer room shows it: gamma, then scaled by ``brightness``, plus Gaussian sensor noise.

    Values are rounded and clipped to 0..255, as a camera would deliver them.
    """
    level = 255.0 * (np.asarray(image, np.float32) / 255.0) ** gamma * brightness
    noisy = level + rng.normal(0.0, noise_sigma, level.shape) if noise_sigma else level
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def evaluate_folder(classifier: Classifier, root: Path,
                    progress: Callable[[Iterable], Iterable] = lambda it: it,
                    brightness: float | None = None, split: str | None = None) -> Evaluation:
    """Classify every labelled image under ``root`` and summarise; unreadable files are listed, not fatal.

    The probabilities are those the kiosk shows (:meth:`Classifier.classify`, the classifier's
    decision rule), so accuracy, balanced accuracy and calibration are the kiosk's.
    With ``brightness`` each image is first dimmed to it with :data:`DIM_NOISE_SIGMA` of sensor
    noise (:func:`dim`, seeded: the same faces every run), as in a dim room. With ``split`` only that
    test split's images are scored (:func:`labelled_images`).
    """
    rng = np.random.default_rng(DIM_SEED)
    items = labelled_images(root, split)
    errors: list[str] = []
    y_true, probabilities, faces = [], [], []

    def flush():
        if faces:
            probabilities.append(classifier.classify(np.stack(faces)))
            faces.clear()

    for path, label in progress(items):
        try:
            image = to_gray(read_image(path))
            faces.append(prepare_face(image if brightness is None else dim(image, brightness, DIM_NOISE_SIGMA, rng)))
        except ImageError as exc:
            errors.append(str(exc))
            continue
        y_true.append(label)
        if len(faces) == BATCH:
            flush()
    flush()
    shown = np.concatenate(probabilities) if probabilities else np.zeros((0, len(CLASSES)), np.float32)
    return Evaluation(summarize(np.array(y_true, int), shown.argmax(axis=1), shown), errors)


def evaluate_photos(pipeline: Pipeline, root: Path,
                    progress: Callable[[Iterable], Iterable] = lambda it: it,
                    brightness: float | None = None, split: str | None = None) -> Evaluation:
    """Score whole photos as ``emojify predict`` sees them: the largest face found, cropped, classified.

    Each labelled image under ``root`` goes through :meth:`Pipeline.analyze` over the whole picture,
    as :func:`emojify.cli.cmd_predict` does (so its decision rule is the pipeline's classifier's). A
    photo where no face is found counts as wrong; the summary adds ``faces_found`` and ``no_face``
    (per class, the photos where none was found). Calibration is over the faces found. With
    ``brightness`` each photo is dimmed first, and with ``split`` only its images are scored, as
    :func:`evaluate_folder` does.
    """
    from emojify.imageio import read_image_scaled

    rng = np.random.default_rng(DIM_SEED)
    items = labelled_images(root, split)
    errors: list[str] = []
    y_true, y_pred, shown = [], [], []
    for path, label in progress(items):
        try:
            image = read_image_scaled(path)[0]
        except ImageError as exc:
            errors.append(str(exc))
            continue
        if brightness is not None:
            image = dim(image, brightness, DIM_NOISE_SIGMA, rng)
        result = pipeline.analyze(image, use_region=False)
        y_true.append(label)
        found = result.probabilities is not None
        y_pred.append(int(np.argmax(result.probabilities)) if found else NO_ANSWER)
        shown.append(result.probabilities if found else np.zeros(len(CLASSES), np.float32))
    y_true_array, y_pred_array = np.array(y_true, int), np.array(y_pred, int)
    probabilities = np.array(shown, np.float32).reshape(-1, len(CLASSES))
    missed = y_true_array[y_pred_array == NO_ANSWER]
    summary = summarize(y_true_array, y_pred_array, probabilities) | {
        "faces_found": int((y_pred_array != NO_ANSWER).sum()),
        "no_face": {c: int((missed == i).sum()) for i, c in enumerate(CLASSES)}}
    return Evaluation(summary, errors)


def percent(share: float | None, decimals: int) -> str:
    """A share as a percentage, or "n/a" where there is none (no class with enough images to average)."""
    return "n/a" if share is None else f"{share:.{decimals}%}"


def format_table(summary: dict) -> str:
    """A readable per-class table with accuracy and macro F1 underneath."""
    photos = "no_face" in summary
    width = 36 if photos else 27
    lines = [f"{'class':<10}{'images':>8}{'recall':>9}{'no face':>9}"[:width], "-" * width]
    for name in CLASSES:
        recall = summary["per_class_recall"][name]
        missed = f"{summary['no_face'][name]:>9}" if photos else ""
        lines.append(f"{name:<10}{summary['support'][name]:>8}{'-' if recall is None else f'{recall:.1%}':>9}{missed}")
    interval = summary.get("accuracy_interval")
    within = f" (95% interval {interval[0]:.1%}-{interval[1]:.1%})" if interval else ""
    lines += ["-" * width, (f"accuracy {summary['accuracy']:.2%}{within} on {summary['n']} images, "
              f"balanced accuracy {summary['balanced_accuracy']:.2%} "
              f"({percent(summary[MIN30_KEY], 2)} over classes of {MIN_SUPPORT}+ images), "
              f"macro F1 {summary['macro_f1']:.3f}, ECE {summary['ece']:.3f}")]
    if photos:
        lines.append(f"faces found in {summary['faces_found']} of {summary['n']} photos "
                     "(a photo without one counts as wrong)")
    return "\n".join(lines)


def reliability_path(confusion_png: Path) -> Path:
    """Where ``--plot`` puts the reliability diagram: beside the confusion matrix, ``NAME-reliability.png``."""
    return confusion_png.with_name(f"{confusion_png.stem}-reliability.png")


TITLE_CHARS = 64
"""Characters a plot title's line holds at font size 10 in the 5.6-inch reliability figure: a longer
line (a deep folder's path) is broken, not cut off at the picture's edge."""


def wrap_title(title: str) -> str:
    """``title`` with each of its lines broken to :data:`TITLE_CHARS` (paths mid-word, having no spaces)."""
    return "\n".join(textwrap.fill(line, TITLE_CHARS) for line in title.split("\n"))


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_figure(fig, path: Path) -> None:
    """Write a figure as a PNG at ``path`` (as it is: a temporary file of :func:`~emojify.fileio.atomic_path`) and close it."""
    try:
        fig.savefig(path, dpi=100)
    finally:
        pyplot().close(fig)


def save_figure(fig, path: Path) -> None:
    """Save a figure as a PNG; a crash leaves the old picture or none, never half of one."""
    with atomic_path(path) as tmp:
        write_figure(fig, tmp)


def plot_confusion(summary: dict, path: Path, title: str) -> None:
    """Save the row-normalised confusion matrix as a PNG (needs matplotlib); whole photos get a "no face" column."""
    save_figure(confusion_figure(summary, title), path)


def confusion_figure(summary: dict, title: str):
    """The row-normalised confusion matrix, a matplotlib figure."""
    plt = pyplot()
    matrix = np.array(summary["confusion"], float)
    columns = list(CLASSES)
    if "no_face" in summary:  # whole photos: a last column for the photos where no face was found
        matrix = np.column_stack([matrix, [summary["no_face"][c] for c in CLASSES]])
        columns.append("no face")
    rows = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    norm = matrix / rows
    fig, ax = plt.subplots(figsize=(6.4 + 0.6 * (len(columns) - len(CLASSES)), 5.6))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(CLASSES)):
        for j in range(len(columns)):
            # a class without images has no row to share out: "-", not a 0.00 that reads as never recognised
            ax.text(j, i, f"{norm[i, j]:.2f}" if matrix[i].sum() else "-", ha="center", va="center", fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    balanced = f", balanced {summary['balanced_accuracy']:.1%}" if "balanced_accuracy" in summary else ""
    common = f"\nbalanced over classes of {MIN_SUPPORT}+ images {percent(summary[MIN30_KEY], 1)}" if MIN30_KEY in summary else ""
    found = f", faces found {summary['faces_found']}" if "faces_found" in summary else ""
    ax.set_title(wrap_title(f"{title}\naccuracy {summary['accuracy']:.1%}{balanced}, macro F1 "
                            f"{summary['macro_f1']:.3f}{common}, n={summary['n']}{found}"), fontsize=10)
    fig.tight_layout()
    return fig


def plot_reliability(summary: dict, path: Path, title: str) -> None:
    """Save the reliability diagram (:func:`reliability_figure`) as a PNG."""
    save_figure(reliability_figure(summary, title), path)


def reliability_figure(summary: dict, title: str):
    """The reliability diagram (accuracy against the shown top probability, per bin), a matplotlib figure.

    Bars are the accuracy of each equal-width bin of the top probability, the diagonal is perfect
    calibration, and the grey bars underneath show how many faces fell in each bin.
    """
    plt = pyplot()
    bins = summary["reliability"]
    width = bins[0]["high"] - bins[0]["low"]
    centres = [(b["low"] + b["high"]) / 2 for b in bins]
    fig, (ax, count_ax) = plt.subplots(2, 1, figsize=(5.6, 6.4), sharex=True,
                                       gridspec_kw={"height_ratios": (3, 1)})
    ax.bar(centres, [b["accuracy"] or 0.0 for b in bins], width=width * 0.9, color="tab:blue",
           edgecolor="black", label="accuracy in the bin")
    ax.plot([b["confidence"] for b in bins if b["n"]], [b["accuracy"] for b in bins if b["n"]], "o",
            color="tab:orange", label="(mean shown probability, accuracy)")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", fontsize=8)
    binned = sum(b["n"] for b in bins)  # whole photos: the faces found, all the diagram shows
    of = "" if binned == summary["n"] else f" faces found of {summary['n']} photos"
    ax.set_title(wrap_title(f"{title}\nECE {summary['ece']:.3f} ({len(bins)} bins), n={binned}{of}"), fontsize=10)
    count_ax.bar(centres, [b["n"] for b in bins], width=width * 0.9, color="grey")
    count_ax.set_xlabel("top probability shown")
    count_ax.set_ylabel("faces")
    fig.tight_layout()
    return fig
