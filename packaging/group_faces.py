#!/usr/bin/env python3
"""A labelled group picture: six faces pasted into a 2048x1365 photo, searched as ``predict --all-faces`` does.

    python packaging/group_faces.py path/to/fer2013 [--save group.png] [--detector blazeface|haar] [--json]

No real group photo ships with the project, so this builds one: six PublicTest faces (one each of
angry, fear, happy, sad, surprise, neutral; upscaled from 48x48 to 40-300 pixels) pasted over
scikit-image's public-domain rocket photo, scaled to 2048x1365. It reports how many of the six
faces the whole-picture search finds (a box whose centre lies on the face), how many boxes are not
on a face, and, for comparison, what the baseline Haar settings (1.1 / 5 / 30x30, as emojify bench's baseline) give there.
``--save`` writes the picture, so ``emojify predict --all-faces --json group.png`` can be run on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from emojify.detectors import Detector
from emojify.errors import reason_of
from emojify.faces import DETECTORS, load_cascade
from emojify.fileio import atomic_path, make_file_folder
from emojify.pipeline import Pipeline
from emojify.preprocess import to_gray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with, fer_pictures, need, one_line_errors, read_gray  # the script beside this one

SIZE = (1365, 2048)  # rows, cols
FACES = (("angry", 300, (150, 250)), ("fear", 200, (650, 400)), ("happy", 140, (1050, 200)),
         ("sad", 90, (1400, 600)), ("surprise", 60, (1750, 300)), ("neutral", 40, (900, 1000)))
"""(class, side in pixels, top-left (x, y)) of each pasted face."""


def rocket(size: tuple[int, int]) -> np.ndarray:
    """scikit-image's rocket photo, BGR, scaled to ``size`` (width, height); a
    :class:`~script_common.DataError` naming the pip package where scikit-image is missing."""
    need("skimage.data")
    from skimage import data

    return cv2.resize(np.ascontiguousarray(data.rocket()[:, :, ::-1]), size, interpolation=cv2.INTER_CUBIC)


def group_picture(fer: Path) -> tuple[np.ndarray, list[tuple[str, tuple[int, int, int, int]]]]:
    """The picture and, per pasted face, its class and box. Each face is its class's first PublicTest
    picture by name; a folder without them, a file there that is no picture or a missing scikit-image
    is one line (an :class:`~emojify.errors.EmojifyError`), before the picture is made."""
    pictures = fer_pictures(fer, [label for label, _, _ in FACES])
    faces = [read_gray(pictures[label][0]) for label, _, _ in FACES]
    picture = rocket(SIZE[::-1])
    placed = []
    for (label, side, (x, y)), face in zip(FACES, faces, strict=True):
        face = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        picture[y:y + side, x:x + side] = face[:, :, None]
        placed.append((label, (x, y, side, side)))
    return picture, placed


def on_face(box, where) -> bool:
    """The box's centre lies on the pasted face."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return where[0] <= cx <= where[0] + where[2] and where[1] <= cy <= where[1] + where[3]


def score(boxes, placed) -> tuple[int, int]:
    """(faces found, boxes on no face)."""
    found = sum(any(on_face(b, where) for b in boxes) for _, where in placed)
    stray = sum(not any(on_face(b, where) for _, where in placed) for b in boxes)
    return found, stray


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fer", type=Path, help="FER2013 image folders (test/<class>/PublicTest_*.jpg)")
    p.add_argument("--detector", type=Detector, choices=list(Detector), default=Detector.BLAZEFACE,
                   help="the face detector searching the picture (default: %(default)s)")
    p.add_argument("--save", type=Path, help="write the group picture here (PNG)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    with one_line_errors(p):  # the data first, so that nothing is made for a run that cannot be
        picture, placed = group_picture(args.fer)
        if args.save:
            make_file_folder(args.save, f"--save {args.save}")
    if args.save:
        try:
            with atomic_path(args.save) as tmp:  # the picture whole or not at all
                if not cv2.imwrite(str(tmp), picture):  # OpenCV says nothing itself
                    raise OSError("the picture could not be written (is the disk full?)")
        except OSError as exc:
            p.exit(2, f"{p.prog}: error: --save {args.save}: {reason_of(exc)}\n")
    result = Pipeline(detector=DETECTORS[args.detector]()).analyze(picture, use_region=False,
                                                                               all_faces=True)
    boxes = [face.box for face in result.faces]
    baseline = np.asarray(load_cascade().detectMultiScale(to_gray(picture), scaleFactor=1.1, minNeighbors=5,
                                                       minSize=(30, 30))).reshape(-1, 4).tolist()
    (found, stray), (baseline_found, baseline_stray) = score(boxes, placed), score(baseline, placed)
    report = {"detector": args.detector, "faces": len(placed), "boxes": len(boxes),
              "found": found, "not_faces": stray,
              "baseline_haar_boxes": len(baseline), "baseline_haar_found": baseline_found, "baseline_haar_not_faces": baseline_stray,
              "labels": [[label, next((f.label for f in result.faces if on_face(f.box, where)), None)]
                         for label, where in placed]}
    print(json.dumps(report) if args.json else
          f"{args.detector}: {report['found']} of {len(placed)} faces found, {report['not_faces']} boxes on no face; "
          f"baseline Haar: {report['baseline_haar_found']} found, {report['baseline_haar_not_faces']} boxes on no face\n"
          f"labels (pasted -> given): {report['labels']}")
    return 0


if __name__ == "__main__":
    exit_with(main)
