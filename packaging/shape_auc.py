"""How well the face shape's measures separate expressions: ROC AUC on FER2013 PublicTest and real photos.

    python packaging/shape_auc.py [--fer ../shared/data/fer2013/test] [--real ../shared/data/realfaces]
                                  [--per-class 400] [--seed 0] [--half 0|1]

For each folder (``<class>/*.jpg``) it takes up to ``--per-class`` pictures of angry, happy, neutral
and surprise (a seeded sample), finds the face (photos: BlazeFace's thorough search, the largest
face; FER2013's 48-pixel crops: scaled to 192 pixels with a 48-pixel replicated border, the whole
crop when BlazeFace finds nothing), runs the Face Mesh and :func:`emojify.shape.shape_of`, and
prints the ROC AUC of: mouth_open surprise over neutral, smile happy over neutral, brows surprise
over neutral and neutral over angry, with the medians per class. Faces without a mesh are counted.
``--half`` keeps the pictures whose file name's CRC-32 is even (0) or odd (1): the measures were
chosen on half 0, and half 1 is the figure on pictures they were not chosen on.
"""

from __future__ import annotations

import argparse
import random
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np

from emojify.faces import BlazeFaceDetector
from emojify.imageio import read_image
from emojify.landmarks import load_mesh
from emojify.shape import Shape, shape_of

CLASSES = ("angry", "happy", "neutral", "surprise")
PAIRS = (("mouth_open", "surprise", "neutral", 0.92), ("smile", "happy", "neutral", 0.95),
         ("brows", "surprise", "neutral", 0.75), ("brows", "neutral", "angry", 0.7))
"""(measure, class expected higher, class expected lower, the issue's target)."""
FER_SCALE, FER_BORDER = 4, 48


def roc_auc(higher: np.ndarray, lower: np.ndarray) -> float:
    """ROC AUC that a value of ``higher`` exceeds one of ``lower`` (ties count half): the
    Mann-Whitney U statistic over average ranks (hand-written: scikit-learn is not a dependency)."""
    values = np.concatenate([higher, lower])
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # the average rank of each run of ties
    n = len(higher)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * len(lower)))


def face_shape(picture: np.ndarray, detector: BlazeFaceDetector, small: bool) -> Shape | None:
    """The shape of the largest face of a photo, or of a FER2013 crop (``small``); None without a mesh."""
    if small:
        picture = cv2.resize(picture, None, fx=FER_SCALE, fy=FER_SCALE, interpolation=cv2.INTER_CUBIC)
        picture = cv2.copyMakeBorder(picture, *[FER_BORDER] * 4, cv2.BORDER_REPLICATE)
    found = detector.detect(picture)
    if found:
        box, roll = found[0].box, found[0].roll
    elif small:
        side = picture.shape[0] - 2 * FER_BORDER
        box, roll = (FER_BORDER, FER_BORDER, side, side), 0.0
    else:
        return None
    mesh = load_mesh().run(picture, box, roll)
    return None if mesh is None else shape_of(mesh.points)


def in_half(path: Path, half: int | None) -> bool:
    """Whether ``path`` is in ``half`` (0 or 1, by its name's CRC-32; None: every picture)."""
    return half is None or zlib.crc32(path.name.encode()) % 2 == half


def measure_folder(root: Path, per_class: int, seed: int, small: bool, half: int | None = None) -> dict[str, list[Shape]]:
    detector = BlazeFaceDetector.for_stills()
    shapes: dict[str, list[Shape]] = {}
    for name in CLASSES:
        files = [path for path in sorted((root / name).glob("*.jpg")) if in_half(path, half)]
        random.Random(seed).shuffle(files)
        files = files[:per_class]
        found = [face_shape(read_image(path), detector, small) for path in files]
        shapes[name] = [s for s in found if s is not None]
        print(f"  {name:<9} {len(files)} pictures, {len(files) - len(shapes[name])} without a mesh", flush=True)
    return shapes


def report(title: str, shapes: dict[str, list[Shape]]) -> None:
    print(title)
    for measure, high, low, target in PAIRS:
        a = np.array([getattr(s, measure) for s in shapes[high]])
        b = np.array([getattr(s, measure) for s in shapes[low]])
        auc = roc_auc(a, b)
        print(f"  {measure:<10} {high} > {low}: ROC AUC {auc:.3f} (target {target}, "
              f"{'met' if auc >= target else 'NOT met'}); medians {np.median(a):+.2f} vs {np.median(b):+.2f}")
    for measure in ("mouth_open", "smile", "brows"):
        medians = ", ".join(f"{c} {np.median([getattr(s, measure) for s in shapes[c]]):+.2f}" for c in CLASSES)
        print(f"  {measure:<10} medians: {medians}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    repo = Path(__file__).resolve().parents[1]
    parser.add_argument("--fer", type=Path, default=repo.parent / "shared" / "data" / "fer2013" / "test",
                        help="FER2013 PublicTest folders (default: ../shared/data/fer2013/test)")
    parser.add_argument("--real", type=Path, default=repo.parent / "shared" / "data" / "realfaces",
                        help="real photos by class (default: ../shared/data/realfaces)")
    parser.add_argument("--per-class", type=int, default=400, help="pictures per class and folder (default 400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--half", type=int, choices=(0, 1),
                        help="only the pictures whose name's CRC-32 is even (0) or odd (1); default: all")
    args = parser.parse_args(argv)
    for title, root, small in (("FER2013 PublicTest", args.fer, True), ("real photos", args.real, False)):
        if not root.is_dir():
            print(f"{title}: {root} not found, skipped", file=sys.stderr)
            continue
        print(f"{title} ({root.name}):")
        report(f"{title}:", measure_folder(root, args.per_class, args.seed, small, args.half))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
