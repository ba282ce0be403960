"""How well the face shape's measures separate expressions: ROC AUC on FER2013 PublicTest and real photos.

    python packaging/shape_auc.py [--fer ../shared/data/fer2013/test] [--real ../shared/data/realfaces]
                                  [--per-class 400] [--seed 0] [--half 0|1] [--learned [--train DIR]]

For each folder (``<class>/*.jpg``) it takes up to ``--per-class`` pictures of angry, happy, neutral
and surprise (a seeded sample), finds the face (photos: BlazeFace's thorough search, the largest
face; FER2013's 48-pixel crops: scaled to 192 pixels with a 48-pixel replicated border, the whole
crop when BlazeFace finds nothing), runs the Face Mesh and :func:`emojify.shape.shape_of`, and
prints the ROC AUC of: mouth_open surprise over neutral, smile happy over neutral, brows surprise
over neutral and neutral over angry, each with its 95% bootstrap interval (how far it could move on
another sample of as many pictures), and the medians per class. Faces without a mesh are counted.
``--half`` keeps the pictures whose file name's CRC-32 is even (0) or odd (1): the measures were
chosen on half 0, and half 1 is the figure on pictures they were not chosen on.

``--learned`` also fits, on FER2013's training pictures (``--train``, ``--train-per-class`` a
class), a linear measure over the mesh points each measure reads (Fisher's discriminant of the
expression and neutral) and prints its ROC AUCs on the same test pictures, with every other
expression over neutral: what such a measure gains, and what else it picks up.
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
from emojify.landmarks import POINT_COUNT, load_mesh
from emojify.shape import face_frame, shape_of

CLASSES = ("angry", "happy", "neutral", "surprise")
PAIRS = (("mouth_open", "surprise", "neutral", 0.92), ("smile", "happy", "neutral", 0.95),
         ("brows", "surprise", "neutral", 0.75), ("brows", "neutral", "angry", 0.7))
"""(measure, class expected higher, class expected lower, the issue's target)."""
FER_SCALE, FER_BORDER = 4, 48

LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
        78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
"""The Face Mesh's outer and inner lip contours."""
JAW = (152, 148, 176, 149, 150, 377, 400, 378, 379, 2, 164)
"""The chin, the jaw beside it and the nose's bottom."""
BROW_AREA = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55, 300, 293, 334, 296, 336, 276, 283, 282, 295, 285,
             33, 133, 263, 362, 9, 8, 168, 151, 10)
"""Both brows' upper and lower edges, the eyes' corners and the midline from the nose's root to the forehead."""
LEARNED = (("mouth_open", LIPS + JAW, "surprise"), ("smile", LIPS, "happy"), ("brows", BROW_AREA, "surprise"))
"""(measure, the mesh points its learned stand-in reads, the expression it is fitted to tell from neutral)."""
BOOTSTRAP_ROUNDS = 1000
SHRINKAGE = 0.001
"""The within-class covariance's shrinkage towards the identity (times its mean variance)."""


def roc_auc(higher: np.ndarray, lower: np.ndarray) -> float:
    """ROC AUC that a value of ``higher`` exceeds one of ``lower`` (ties count half): the
    Mann-Whitney U statistic over average ranks (hand-written: scikit-learn is not a dependency)."""
    higher, lower = np.asarray(higher, np.float64), np.asarray(lower, np.float64)
    if not len(higher) or not len(lower):
        return float("nan")
    values = np.concatenate([higher, lower])
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # the average rank of each run of ties
    n = len(higher)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * len(lower)))


def auc_interval(higher: np.ndarray, lower: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0) -> tuple[float, float]:
    """The 95% bootstrap interval of :func:`roc_auc`: both samples drawn again with replacement
    ``rounds`` times (how far the figure could move on another draw of as many pictures)."""
    rng = np.random.default_rng(seed)
    higher, lower = np.asarray(higher, np.float64), np.asarray(lower, np.float64)
    aucs = [roc_auc(rng.choice(higher, len(higher)), rng.choice(lower, len(lower))) for _ in range(rounds)]
    low, high = np.percentile(aucs, [2.5, 97.5])
    return float(low), float(high)


def fisher_direction(higher: np.ndarray, lower: np.ndarray, shrinkage: float = SHRINKAGE) -> np.ndarray:
    """The weights ``(features,)`` of Fisher's linear discriminant of two samples ``(n, features)``,
    the pooled within-class covariance shrunk towards its mean variance times the identity
    (hand-written: two lines of numpy, scikit-learn is not a dependency)."""
    pooled = np.cov(np.vstack([higher - higher.mean(0), lower - lower.mean(0)]).T)
    ridge = shrinkage * np.trace(pooled) / len(pooled) * np.eye(len(pooled))
    return np.linalg.solve(pooled + ridge, higher.mean(0) - lower.mean(0))


def face_points(picture: np.ndarray, detector: BlazeFaceDetector, small: bool) -> np.ndarray | None:
    """The mesh points of the largest face of a photo, or of a FER2013 crop (``small``); None without a mesh."""
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
    return None if mesh is None else mesh.points


def in_half(path: Path, half: int | None) -> bool:
    """Whether ``path`` is in ``half`` (0 or 1, by its name's CRC-32; None: every picture)."""
    return half is None or zlib.crc32(path.name.encode()) % 2 == half


def measure_folder(root: Path, per_class: int, seed: int, small: bool, half: int | None = None) -> dict[str, np.ndarray]:
    """Each class's meshes ``(faces, POINT_COUNT, 3)`` in picture pixels."""
    detector = BlazeFaceDetector.for_stills()
    meshes: dict[str, np.ndarray] = {}
    for name in CLASSES:
        files = [path for path in sorted((root / name).glob("*.jpg")) if in_half(path, half)]
        random.Random(seed).shuffle(files)
        files = files[:per_class]
        found = [face_points(read_image(path), detector, small) for path in files]
        meshes[name] = np.array([points for points in found if points is not None]).reshape(-1, POINT_COUNT, 3)
        print(f"  {name:<9} {len(files)} pictures, {len(files) - len(meshes[name])} without a mesh", flush=True)
    return meshes


def verdict(higher: np.ndarray, lower: np.ndarray, target: float) -> str:
    """The ROC AUC of ``higher`` over ``lower``, its 95% interval and whether it meets ``target``."""
    auc = roc_auc(higher, lower)
    if np.isnan(auc):
        return "no faces"
    low, high = auc_interval(higher, lower)
    return f"{auc:.3f} (95% interval {low:.3f}-{high:.3f}; target {target}, {'met' if auc >= target else 'NOT met'})"


def auc_words(higher: np.ndarray, lower: np.ndarray) -> str:
    """`` 0.912`` for the ROC AUC of ``higher`` over ``lower``, ``: no faces`` where a side has none."""
    auc = roc_auc(higher, lower)
    return ": no faces" if np.isnan(auc) else f" {auc:.3f}"


def median(values: list[float] | np.ndarray) -> float:
    """The median, NaN for no values (a class without faces)."""
    return float(np.median(values)) if len(values) else float("nan")


def report(title: str, meshes: dict[str, np.ndarray]) -> None:
    print(title)
    shapes = {name: [shape_of(points) for points in found] for name, found in meshes.items()}
    for measure, high, low, target in PAIRS:
        a = np.array([getattr(s, measure) for s in shapes[high]])
        b = np.array([getattr(s, measure) for s in shapes[low]])
        print(f"  {measure:<10} {high} > {low}: ROC AUC {verdict(a, b, target)}; "
              f"medians {median(a):+.2f} vs {median(b):+.2f}")
    for measure in ("mouth_open", "smile", "brows"):
        medians = ", ".join(f"{c} {median([getattr(s, measure) for s in shapes[c]]):+.2f}" for c in CLASSES)
        print(f"  {measure:<10} medians: {medians}")


def in_face_frames(meshes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each class's meshes in the faces' own frames (:func:`emojify.shape.face_frame`), once."""
    return {name: np.array([face_frame(mesh)[0] for mesh in found]).reshape(-1, POINT_COUNT, 3)
            for name, found in meshes.items()}


def features(frames: np.ndarray, points: tuple[int, ...]) -> np.ndarray:
    """``(faces, 2 * len(points))``: the points' x and y from meshes in the faces' frames."""
    return frames[:, list(points), :2].reshape(len(frames), 2 * len(points))


def report_learned(train: dict[str, np.ndarray], tests: list[tuple[str, dict[str, np.ndarray]]]) -> None:
    print("Learned linear measures (fitted on the training pictures):")
    train = in_face_frames(train)
    tests = [(title, in_face_frames(meshes)) for title, meshes in tests]
    for measure, points, expression in LEARNED:
        if min(len(train[expression]), len(train["neutral"])) < 2:
            print(f"  {measure:<10} skipped: fewer than two training faces of {expression} or neutral")
            continue
        weights = fisher_direction(features(train[expression], points), features(train["neutral"], points))
        for title, meshes in tests:
            scores = {name: features(found, points) @ weights for name, found in meshes.items()}
            over_neutral = {name: auc_words(scores[name], scores["neutral"]) for name in CLASSES if name != "neutral"}
            others = ", ".join(f"{name}{words}" for name, words in over_neutral.items() if name != expression)
            print(f"  {measure:<10} ({len(points)} points) {title}: {expression} > neutral"
                  f"{over_neutral[expression]}; over neutral also {others}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--fer", type=Path, default=data / "fer2013" / "test",
                        help="FER2013 PublicTest folders (default: ../shared/data/fer2013/test)")
    parser.add_argument("--real", type=Path, default=data / "realfaces",
                        help="real photos by class (default: ../shared/data/realfaces)")
    parser.add_argument("--per-class", type=int, default=400, help="pictures per class and folder (default 400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--half", type=int, choices=(0, 1),
                        help="only the pictures whose name's CRC-32 is even (0) or odd (1); default: all")
    parser.add_argument("--learned", action="store_true",
                        help="also fit and score learned linear measures (see above)")
    parser.add_argument("--train", type=Path, default=data / "fer2013" / "train",
                        help="FER2013 training folders for --learned (default: ../shared/data/fer2013/train)")
    parser.add_argument("--train-per-class", type=int, default=1500,
                        help="training pictures a class for --learned (default 1500)")
    args = parser.parse_args(argv)
    if min(args.per_class, args.train_per_class) < 1:
        parser.error("--per-class and --train-per-class must be at least 1")
    if args.learned and not args.train.is_dir():
        parser.error(f"--learned: {args.train} not found")
    tests = []
    for title, root, small in (("FER2013 PublicTest", args.fer, True), ("real photos", args.real, False)):
        if not root.is_dir():
            print(f"{title}: {root} not found, skipped", file=sys.stderr)
            continue
        print(f"{title} ({root.name}):")
        tests.append((title, measure_folder(root, args.per_class, args.seed, small, args.half)))
        report(f"{title}:", tests[-1][1])
    if args.learned and tests:
        print(f"FER2013 training pictures ({args.train.name}):")
        report_learned(measure_folder(args.train, args.train_per_class, args.seed, True), tests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
