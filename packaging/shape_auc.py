"""How well the face shape's measures separate expressions: ROC AUC on FER2013 PublicTest and real photos.

    python packaging/shape_auc.py [--fer ../shared/data/fer2013/test] [--real ../shared/data/realfaces]
                                  [--per-class 400] [--seed 0] [--half 0|1] [--learned [--train DIR]]
                                  [--landmarker face_landmarker.task] [--scaled 0.5]

For each folder (``<class>/*.jpg``) it takes up to ``--per-class`` pictures of angry, happy, neutral,
sad and surprise (a seeded sample), finds the face (photos: BlazeFace's thorough search, the largest
face; FER2013's 48-pixel crops: scaled to 192 pixels with a 48-pixel replicated border, the whole
crop when BlazeFace finds nothing), runs the Face Mesh and :func:`emojify.shape.shape_of`, and
prints the ROC AUC of: mouth_open surprise over neutral, smile happy over neutral, brows surprise
over neutral and neutral over angry, each with its 95% bootstrap interval (how far it could move on
another sample of as many pictures), the medians per class, the share of each class whose smile
turns the emoji's mouth down (under -0.3) or grins (over 0.7) and eyes_open's spread per class.
Faces without a mesh are counted.
``--half`` keeps the pictures whose file name's CRC-32 is even (0) or odd (1): the measures were
chosen on half 0, and half 1 is the figure on pictures they were not chosen on.

``--learned`` also fits, on FER2013's training pictures (``--train``, ``--train-per-class`` a
class), a linear measure over the mesh points each measure reads (Fisher's discriminant of the
expression and neutral) and prints its ROC AUCs on the same test pictures, with every other
expression over neutral: what such a measure gains, and what else it picks up.

``--landmarker`` also runs MediaPipe's newer Face Landmarker (a ``face_landmarker.task`` bundle: a
478-point mesh from a 256x256 crop, and a model of 52 blendshapes over its points) on the same
faces, taking turns with the shipped mesh, and prints the measures on its mesh, its blendshapes'
ROC AUCs, and the median milliseconds of one call of each: what the bigger mesh would gain, and cost.

``--scaled FACTOR`` also resizes each chosen photo by FACTOR (as ``tests/test_generated.py`` does
the sample face: area averaging down, bicubic up) and prints how far each measure moves between the
two sizes: the median, the 90th percentile and the share of faces that move less than 0.05. FER2013's
crops are left out: they are scaled up already.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np

from emojify.blazeface import sigmoid
from emojify.classifier import ModelError, make_interpreter
from emojify.faces import BlazeFaceDetector
from emojify.imageio import read_image
from emojify.labels import fer_split
from emojify.landmarks import MIN_FACE_SCORE, POINT_COUNT, face_crop, load_mesh, to_picture
from emojify.progress import progress_bar as progress
from emojify.shape import Shape, face_frame, shape_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import DataError, exit_with, one_line_errors, positive_int  # the script beside this one

CLASSES = ("angry", "happy", "neutral", "sad", "surprise")
"""Sad in no pair: it shows where the smile's lower half stands (its medians, its share under FROWN)."""
FROWN, GRIN = -0.3, 0.7
"""A smile under FROWN turns the generated emoji's mouth down plainly, one over GRIN shows teeth on
every base but sad's and disgust's (angry's bias -0.3; a grin from 0.4): each class's share that do."""
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
LEARNED = (("mouth_open", LIPS + JAW, "surprise"), ("smile", LIPS, "happy"), ("brows", BROW_AREA, "surprise"),
           ("brows", BROW_AREA, "angry"))
"""(measure, the mesh points its learned stand-in reads, the expression it is fitted to tell from
neutral). The brows get two: raised (surprise) and lowered (angry), the two ends one measure must hold."""
SCALED_MEASURES = ("mouth_open", "smile", "brows", "eyes_open")
"""The measures ``--scaled`` follows (``eyes_open``: the eye that moves more)."""
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


LANDMARKER_MODELS = ("face_landmarks_detector.tflite", "face_blendshapes.tflite")
"""The Face Landmarker bundle's mesh and blendshapes models (the bundle is a zip file)."""
LANDMARKER_SIZE, LANDMARKER_POINTS, BLENDSHAPE_COUNT = 256, 478, 52
BLENDSHAPE_POINTS = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67,
    70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136, 144, 145, 146,
    148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 168, 172, 173, 176, 178, 181,
    185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293,
    295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334, 336, 338, 356, 361,
    362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382, 384, 385, 386, 387, 388, 389, 390, 397, 398,
    400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477)
"""The 146 mesh points, in this order, that the blendshapes model reads as (x, y) in picture pixels
(MediaPipe's face_blendshapes_graph)."""
BLEND_PAIRS = (("jawOpen", (25,), "surprise", "happy"),
               ("mouthSmileLeft+Right", (44, 45), "happy", "angry"),
               ("browInnerUp+OuterUpLeft+Right", (3, 4, 5), "surprise", "angry"),
               ("browDownLeft+Right", (1, 2), "angry", "surprise"))
"""The stand-ins of mouth_open, smile, brows raised and brows lowered: (name, the blendshapes summed
(their indices among the 52), the expression they should read above neutral, one they should not)."""


class Landmarker:
    """MediaPipe's Face Landmarker from its ``.task`` bundle: :meth:`run` gives a face's 478 mesh
    points in picture pixels and its 52 blendshapes (0..1). The crop is the shipped mesh's
    (:func:`emojify.landmarks.face_crop`) at 256 pixels. It keeps its results by class
    (:func:`measure_folder` fills them) and the milliseconds of its calls and the shipped mesh's."""

    def __init__(self, task: Path):
        try:
            with zipfile.ZipFile(task) as bundle:
                contents = [bundle.read(name) for name in LANDMARKER_MODELS]
            (self._mesh, _, _), (self._blend, _, _) = (make_interpreter(content, 1, task) for content in contents)
        except (OSError, zipfile.BadZipFile, KeyError, ModelError) as exc:
            raise ValueError(f"{task}: not a Face Landmarker bundle ({exc})".splitlines()[0]) from None
        # The mesh's outputs: the points, the face score's logit and another single value, in this order.
        outputs = [(int(np.prod(d["shape"])), d["index"]) for d in self._mesh.get_output_details()]
        sizes = [size for size, _ in outputs]
        blend_input = self._blend.get_input_details()[0]
        if {LANDMARKER_POINTS * 3, 1} - set(sizes) or tuple(blend_input["shape"]) != (1, len(BLENDSHAPE_POINTS), 2):
            raise ValueError(f"{task}: not a Face Landmarker bundle (its mesh's outputs of {sizes} values)")
        self._points = next(index for size, index in outputs if size == LANDMARKER_POINTS * 3)
        self._score = next(index for size, index in outputs if size == 1)
        self._input, self._blend_input = self._mesh.get_input_details()[0]["index"], blend_input["index"]
        self._blend_output = self._blend.get_output_details()[0]["index"]
        self.results: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.mesh_ms: list[float] = []
        self.blend_ms: list[float] = []
        self.shipped_ms: list[float] = []

    def run(self, picture: np.ndarray, box, roll: float) -> tuple[np.ndarray, np.ndarray] | None:
        """``(points (478, 3), blendshapes (52,))`` of the face at ``box``, None where the mesh's face score is low."""
        started = time.perf_counter()
        rgb, matrix = face_crop(picture, box, roll, LANDMARKER_SIZE)
        self._mesh.set_tensor(self._input, rgb[None].astype(np.float32) / 255)
        self._mesh.invoke()
        points = to_picture(self._mesh.get_tensor(self._points).reshape(LANDMARKER_POINTS, 3), matrix)
        score = float(sigmoid(self._mesh.get_tensor(self._score).reshape(-1))[0])
        middle = time.perf_counter()
        self._blend.set_tensor(self._blend_input, points[list(BLENDSHAPE_POINTS), :2][None])
        self._blend.invoke()
        blendshapes = self._blend.get_tensor(self._blend_output).reshape(BLENDSHAPE_COUNT).copy()
        self.mesh_ms.append(1000 * (middle - started))
        self.blend_ms.append(1000 * (time.perf_counter() - middle))
        return None if score < MIN_FACE_SCORE else (points, blendshapes)


def face_box(picture: np.ndarray, detector: BlazeFaceDetector, small: bool) -> tuple[np.ndarray, tuple, float] | None:
    """``(picture, box, roll)``: the largest face of a photo, or of a FER2013 crop (``small``: scaled
    up, with a border, the whole crop where BlazeFace finds nothing); None where a photo has none."""
    if small:
        picture = cv2.resize(picture, None, fx=FER_SCALE, fy=FER_SCALE, interpolation=cv2.INTER_CUBIC)
        picture = cv2.copyMakeBorder(picture, *[FER_BORDER] * 4, cv2.BORDER_REPLICATE)
    found = detector.detect(picture)
    if found:
        return picture, found[0].box, found[0].roll
    side = picture.shape[0] - 2 * FER_BORDER
    return (picture, (FER_BORDER, FER_BORDER, side, side), 0.0) if small else None


def timed_mesh(face: tuple[np.ndarray, tuple, float], times: list[float] | None = None) -> np.ndarray | None:
    """The shipped mesh's points of ``face`` (:func:`face_box`), None without a mesh; with ``times``,
    the call's milliseconds are appended to it."""
    started = time.perf_counter()
    mesh = load_mesh().run(*face)
    if times is not None:
        times.append(1000 * (time.perf_counter() - started))
    return None if mesh is None else mesh.points


def in_half(path: Path, half: int | None) -> bool:
    """Whether ``path`` is in ``half`` (0 or 1, by its name's CRC-32; None: every picture)."""
    return half is None or zlib.crc32(path.name.encode()) % 2 == half


def chosen(root: Path, name: str, per_class: int, seed: int, half: int | None) -> list[Path]:
    """Up to ``per_class`` pictures of class ``name`` under ``root``, a seeded sample of ``half``; never
    FER2013's held-out PrivateTest faces (the Kaggle download's ``test/`` holds them beside PublicTest's),
    nor hidden files (macOS's ``._photo.jpg`` on a memory stick), as ``emojify evaluate`` passes them over."""
    files = [path for path in sorted((root / name).glob("*.jpg"))
             if in_half(path, half) and fer_split(path.name) != "PrivateTest" and not path.name.startswith(".")]
    random.Random(seed).shuffle(files)
    return files[:per_class]


def measure_folder(root: Path, per_class: int, seed: int, small: bool, half: int | None = None,
                   landmarker: Landmarker | None = None) -> dict[str, np.ndarray]:
    """Each class's meshes ``(faces, POINT_COUNT, 3)`` in picture pixels. With a ``landmarker``, it
    runs too, taking turns with the shipped mesh face by face, and keeps its results and times."""
    detector = BlazeFaceDetector.for_stills()
    meshes: dict[str, np.ndarray] = {}
    for name in CLASSES:
        files = chosen(root, name, per_class, seed, half)
        found, bigger = [], []
        for path in progress(files, f"{root.name}/{name}"):
            face = face_box(read_image(path), detector, small)
            if face is None:
                continue
            found.append(timed_mesh(face, landmarker.shipped_ms if landmarker else None))
            bigger.append(landmarker.run(*face) if landmarker else None)
        meshes[name] = np.array([points for points in found if points is not None]).reshape(-1, POINT_COUNT, 3)
        words = f"{len(files)} pictures, {len(files) - len(meshes[name])} without a mesh"
        if landmarker:
            landmarker.results[name] = [result for result in bigger if result is not None]
            words += f" ({len(files) - len(landmarker.results[name])} without the Face Landmarker's)"
        print(f"  {name:<9} {words}", flush=True)
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


def signed(value: float) -> str:
    """``+0.12`` for a median, ``no faces`` for NaN (:func:`median` of none)."""
    return "no faces" if np.isnan(value) else f"{value:+.2f}"


def report(title: str, meshes: dict[str, np.ndarray] | dict[str, list[np.ndarray]]) -> None:
    """The measures' ROC AUCs and medians on each class's meshes (their first 468 points: the
    Face Landmarker's 478 begin with the shipped mesh's)."""
    print(title)
    shapes = {name: [shape_of(points[:POINT_COUNT]) for points in found] for name, found in meshes.items()}
    for measure, high, low, target in PAIRS:
        a = np.array([getattr(s, measure) for s in shapes[high]])
        b = np.array([getattr(s, measure) for s in shapes[low]])
        print(f"  {measure:<10} {high} > {low}: ROC AUC {verdict(a, b, target)}; "
              f"medians {signed(median(a))} vs {signed(median(b))}")
    for measure in ("mouth_open", "smile", "brows"):
        medians = ", ".join(f"{c} {signed(median([getattr(s, measure) for s in shapes[c]]))}" for c in CLASSES)
        print(f"  {measure:<10} medians: {medians}")
    ends = ", ".join(f"{c} {share([s.smile < FROWN for s in shapes[c]])} / {share([s.smile > GRIN for s in shapes[c]])}"
                     for c in CLASSES)
    print(f"  smile      under {FROWN} / over {GRIN} (the emoji frowns / grins on every base but sad's and "
          f"disgust's): {ends}")
    eyes = ", ".join(f"{c} {eye_spread([float(np.mean(s.eyes_open)) for s in shapes[c]])}" for c in CLASSES)
    print(f"  eyes_open  10th / 50th / 90th percentiles (both eyes' mean): {eyes}")


def share(flags: list[bool]) -> str:
    """``7%``: the share of ``flags`` that are true, ``no faces`` for none."""
    return f"{np.mean(flags):.0%}" if flags else "no faces"


def eye_spread(values: list[float]) -> str:
    """``0.31 / 0.52 / 0.74``: the 10th, 50th and 90th percentiles, ``no faces`` for none."""
    return " / ".join(f"{v:.2f}" for v in np.percentile(values, (10, 50, 90))) if values else "no faces"


def report_landmarker(title: str, landmarker: Landmarker) -> None:
    """The measures on the Face Landmarker's mesh, and its blendshapes' ROC AUCs over neutral."""
    results = landmarker.results
    report(f"{title}, the Face Landmarker's mesh:", {name: [points for points, _ in found] for name, found in results.items()})
    print(f"{title}, the Face Landmarker's blendshapes (ROC AUC over neutral):")
    for name, indices, expression, other in BLEND_PAIRS:
        scores = {label: np.array([blendshapes[list(indices)].sum() for _, blendshapes in found]).reshape(-1)
                  for label, found in results.items()}
        print(f"  {name:<29} {expression}{auc_words(scores[expression], scores['neutral'])}, "
              f"{other}{auc_words(scores[other], scores['neutral'])}")


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


def resized(picture: np.ndarray, factor: float) -> np.ndarray:
    """``picture`` scaled by ``factor``: area averaging down (as a camera's smaller face), bicubic up."""
    return cv2.resize(picture, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def measures(shape: Shape) -> np.ndarray:
    """The :data:`SCALED_MEASURES` of ``shape``, both eyes last."""
    return np.array([shape.mouth_open, shape.smile, shape.brows, *shape.eyes_open])


def scale_moves(root: Path, per_class: int, seed: int, half: int | None, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """``(moves, widths)``: for each chosen photo with a mesh as it is and :func:`resized` by
    ``factor``, how far each of :data:`SCALED_MEASURES` moves ``(faces, 4)``, and the face box's
    width at both sizes ``(faces, 2)``."""
    detector = BlazeFaceDetector.for_stills()
    moves, widths = [], []
    paths = [path for name in CLASSES for path in chosen(root, name, per_class, seed, half)]
    for path in progress(paths, f"{root.name} resized {factor:g}x"):
        picture = read_image(path)
        faces = [face_box(shown, detector, False) for shown in (picture, resized(picture, factor))]
        if None in faces:
            continue
        meshes = [load_mesh().run(*face) for face in faces]
        if None in meshes:
            continue
        first, again = (measures(shape_of(mesh.points)) for mesh in meshes)
        move = np.abs(again - first)
        moves.append([*move[:3], move[3:].max()])
        widths.append([face[1][2] for face in faces])
    return np.array(moves).reshape(-1, len(SCALED_MEASURES)), np.array(widths).reshape(-1, 2)


def report_scaled(root: Path, per_class: int, seed: int, half: int | None, factor: float) -> None:
    """How far each measure moves on the photos under ``root`` resized by ``factor`` (:func:`scale_moves`)."""
    moves, widths = scale_moves(root, per_class, seed, half, factor)
    if not len(moves):
        print(f"Photos resized {factor:g}x: no face with a mesh at both sizes")
        return
    print(f"Photos resized {factor:g}x ({len(moves)} faces with a mesh at both sizes; the face box's median width "
          f"{median(widths[:, 0]):.0f} px as they are, {median(widths[:, 1]):.0f} px resized):")
    for column, measure in enumerate(SCALED_MEASURES):
        move = moves[:, column]
        print(f"  {measure:<10} moves median {median(move):.3f}, 90th percentile {np.percentile(move, 90):.3f}; "
              f"less than 0.05 on {100 * np.mean(move < 0.05):.0f}% of the faces")


def unusable(root: Path, per_class: int, seed: int, half: int | None) -> str | None:
    """Why the pictures under ``root`` cannot be measured (no such folder, none of the classes' pictures
    there), or None."""
    if not root.is_dir():
        return f"{root} not found"
    if not any(chosen(root, name, per_class, seed, half) for name in CLASSES):
        where = "" if half is None else f" in --half {half}"
        return (f"{root}: no pictures of {', '.join(CLASSES[:-1])} or {CLASSES[-1]} there (<class>/*.jpg, "
                f"FER2013's held-out PrivateTest_* left out){where}")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--fer", type=Path, default=data / "fer2013" / "test",
                        help="FER2013 PublicTest folders (default: ../shared/data/fer2013/test)")
    parser.add_argument("--real", type=Path, default=data / "realfaces",
                        help="real photos by class (default: ../shared/data/realfaces)")
    parser.add_argument("--per-class", type=positive_int, default=400,
                        help="pictures per class and folder, at most (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample of each class's pictures (default 0)")
    parser.add_argument("--half", type=int, choices=(0, 1),
                        help="only the pictures whose name's CRC-32 is even (0) or odd (1); default: all")
    parser.add_argument("--learned", action="store_true",
                        help="also fit a linear measure (Fisher's discriminant) over the mesh points each measure "
                             "reads on --train's pictures, and print its ROC AUCs of every expression over neutral")
    parser.add_argument("--train", type=Path, default=data / "fer2013" / "train",
                        help="FER2013 training folders for --learned (default: ../shared/data/fer2013/train)")
    parser.add_argument("--train-per-class", type=positive_int, default=1500,
                        help="training pictures a class for --learned (default 1500)")
    parser.add_argument("--landmarker", type=Path, metavar="TASK",
                        help="also run MediaPipe's Face Landmarker from this bundle (face_landmarker.task) on the same "
                             "faces, and print the measures on its mesh, its blendshapes' ROC AUCs and each call's time")
    parser.add_argument("--scaled", type=float, metavar="FACTOR",
                        help="also resize each photo (not FER2013's crops) by FACTOR (0.1-4) and print how far each "
                             "measure moves between the two sizes")
    args = parser.parse_args(argv)
    if args.scaled is not None and not 0.1 <= args.scaled <= 4:
        parser.error(f"--scaled must be between 0.1 and 4 (got {args.scaled:g})")
    if args.learned and not args.train.is_dir():
        parser.error(f"--learned: {args.train} not found")
    if args.landmarker and not args.landmarker.is_file():
        parser.error(f"--landmarker: {args.landmarker} not found")
    try:
        landmarker = Landmarker(args.landmarker) if args.landmarker else None
    except ValueError as exc:
        parser.error(f"--landmarker: {exc}")
    sets, skipped = [], []
    for title, root, small, option in (("FER2013 PublicTest", args.fer, True, "--fer"),
                                       ("real photos", args.real, False, "--real")):
        why = unusable(root, args.per_class, args.seed, args.half)
        if why:
            skipped.append((title, option, why))
        else:
            sets.append((title, root, small))
    with one_line_errors(parser):  # also a file among the pictures that is no picture
        if not sets:
            raise DataError("nothing to measure: " + "; ".join(f"{option} {why}" for _, option, why in skipped))
        for title, _, why in skipped:
            print(f"{title}: {why}, skipped", file=sys.stderr)
        measure_sets(args, sets, landmarker)
    return 0


def measure_sets(args: argparse.Namespace, sets: list[tuple[str, Path, bool]], landmarker: Landmarker | None) -> None:
    """Measure and report each of ``sets`` (title, folder, whether FER2013's small crops), and what
    ``args`` asks for beside (``--landmarker``, ``--scaled``, ``--learned``)."""
    tests = []
    for title, root, small in sets:
        print(f"{title} ({root.name}):")
        tests.append((title, measure_folder(root, args.per_class, args.seed, small, args.half, landmarker)))
        report(f"{title}:", tests[-1][1])
        if landmarker:
            report_landmarker(title, landmarker)
        if args.scaled is not None and not small:
            report_scaled(root, args.per_class, args.seed, args.half, args.scaled)
    if landmarker and landmarker.shipped_ms:
        print(f"One call, median of {len(landmarker.shipped_ms)} faces taking turns (one thread, crop included): "
              f"the shipped mesh {median(landmarker.shipped_ms):.2f} ms, the Face Landmarker's mesh "
              f"{median(landmarker.mesh_ms):.2f} ms, its blendshapes {median(landmarker.blend_ms):.2f} ms")
    if args.learned and tests:
        print(f"FER2013 training pictures ({args.train.name}):")
        report_learned(measure_folder(args.train, args.train_per_class, args.seed, True), tests)


if __name__ == "__main__":
    exit_with(main)
