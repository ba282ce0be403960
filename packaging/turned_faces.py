#!/usr/bin/env python3
"""Turned and dark faces through the whole ``predict`` path: found, and classified with and without alignment.

    python packaging/turned_faces.py path/to/fer2013 [--per-class 30] [--angles -30 -15 0 15 30]
                                     [--detector blazeface|haar] [--brightness 1.0] [--json]

Each PublicTest face (48x48) is upscaled to 160 pixels, pasted into a 640x480 noisy background and
the frame turned by each angle around the face (then optionally darkened to ``--brightness`` with
sensor noise). Every frame goes through ``Pipeline.analyze(use_region=False)``, what ``emojify
predict`` runs; the largest face found over the pasted one counts as found, and its label is
scored against the folder's class, with the crop turned upright (alignment, the default) and not.
The accuracies are over all the faces of a row, found or not: a face not found counts as wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from emojify.detectors import Detector
from emojify.faces import DETECTORS
from emojify.labels import CLASSES
from emojify.pipeline import Pipeline, label_of
from emojify.progress import progress_bar as progress
from emojify.tracking import box_iou

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import (  # beside this one
    exit_with,
    fer_pictures,
    number,
    one_line_errors,
    positive_int,
    read_gray,
)

FRAME = (480, 640)
SIDE = 160
NOT_FOUND = "a face not found counts as wrong"
"""What the accuracies, over all the faces of a row, make of a face not found (the report says it)."""


def turned_frame(face: np.ndarray, angle: float, brightness: float, rng: np.random.Generator
                 ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The face pasted in the middle of a noisy frame, turned by ``angle`` degrees; returns the frame
    and the upright box of the pasted face."""
    rows, cols = FRAME
    frame = cv2.GaussianBlur(rng.integers(40, 200, (rows, cols, 3), dtype=np.uint8), (0, 0), 5)
    x, y = (cols - SIDE) // 2, (rows - SIDE) // 2
    patch = cv2.resize(face, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
    frame[y:y + SIDE, x:x + SIDE] = patch if patch.ndim == 3 else cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
    matrix = cv2.getRotationMatrix2D((cols / 2, rows / 2), angle, 1.0)
    frame = cv2.warpAffine(frame, matrix, (cols, rows), borderMode=cv2.BORDER_REFLECT)
    if brightness != 1.0:
        noisy = frame.astype(np.float32) * brightness + rng.normal(0, 3, frame.shape)
        frame = np.clip(noisy, 0, 255).astype(np.uint8)
    return frame, (x, y, SIDE, SIDE)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fer", type=Path, help="FER2013 image folders (test/<class>/PublicTest_*.jpg)")
    p.add_argument("--per-class", type=positive_int, default=30, help="faces per class, at most (default: %(default)s)")
    p.add_argument("--angles", type=number(float, -360, 360), nargs="+", default=[-30, -15, 0, 15, 30],
                   help="the angles in degrees the frame is turned by, -360 to 360, one row each (default: %(default)s)")
    p.add_argument("--detector", type=Detector, choices=list(Detector), default=Detector.BLAZEFACE,
                   help="the face detector of the predict path (default: %(default)s)")
    p.add_argument("--brightness", type=number(float, 0, 1, above=True), default=1.0,
                   help="scale the frame's light, above 0 and at most 1; below 1 adds sensor noise (default: 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    with one_line_errors(p):
        pictures = fer_pictures(args.fer, CLASSES)
        faces = [(read_gray(path), label) for label in CLASSES for path in pictures[label][:args.per_class]]

    pipeline = Pipeline(detector=DETECTORS[args.detector]())
    rng = np.random.default_rng(0)
    rows = []
    for angle in args.angles:
        found, right = 0, {True: 0, False: 0}
        for face, label in progress(faces, f"{angle:+.0f} deg"):
            frame, where = turned_frame(face, angle, args.brightness, rng)
            _, detections = pipeline.detect(frame, use_region=False)
            if not detections or box_iou(detections[0].box, where) < 0.2:
                continue
            found += 1
            for align in (True, False):
                pipeline.align = align
                right[align] += label_of(pipeline.classify_found(frame, detections[:1])[0]) == label
        rows.append({"angle": angle, "faces": len(faces), "found": found,
                     "right_aligned": right[True], "right_not_aligned": right[False],
                     "accuracy_aligned": round(right[True] / len(faces), 4),
                     "accuracy_not_aligned": round(right[False] / len(faces), 4)})
        if not args.json:
            r = rows[-1]
            print(f"{angle:+6.0f} deg  found {found}/{len(faces)}  right of all {len(faces)} ({NOT_FOUND}): "
                  f"aligned {r['right_aligned']} ({r['accuracy_aligned']:.1%}), not aligned "
                  f"{r['right_not_aligned']} ({r['accuracy_not_aligned']:.1%})", flush=True)
    if args.json:
        print(json.dumps({"detector": args.detector, "brightness": args.brightness,
                          "accuracy_of": f"all faces ({NOT_FOUND})", "rows": rows}))
    return 0


if __name__ == "__main__":
    exit_with(main)
