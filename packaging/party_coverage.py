#!/usr/bin/env python3
"""Which faces party mode finds over one round of its search, by the face's size against the region's.

    python packaging/party_coverage.py path/to/fer2013 [--sides 1228 768 384] [--faces 24]
                                      [--shares 0.06 0.08 ...] [--json]

For each region size (its longer side in pixels, 3:2, scikit-image's public-domain rocket photo as
the background) and each face size (a share of that side), FER2013 PublicTest faces (happy, neutral,
surprise, sad in turn; 48x48 upscaled, as in ``packaging/group_faces.py``) are pasted one at a time at
seeded random places, and ``BlazeFaceDetector.detect_party`` is run step by step with no known face,
as the kiosk's first round over a new group. A face counts as found when a box's centre lies on it
within the round. It reports the round's length (``steps``) and the share of faces found at each size:
where a size is found in few places, a visitor of that size waits for the tracker, not the search,
which may never come. 1228 is a 2048-pixel picture's region at ``--region 0.6``, 768 a 1280x720
camera's, 384 a 640x480 camera's.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from emojify.faces import BlazeFaceDetector
from emojify.progress import progress_bar as progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from group_faces import on_face, rocket  # the scripts beside this one
from script_common import (
    DataError,
    exit_with,
    fer_pictures,
    need,
    non_negative_int,
    number,
    one_line_errors,
    positive_int,
    read_gray,
)

CLASSES = ("happy", "neutral", "surprise", "sad")
FRACTIONS = (0.06, 0.08, 0.10, 0.12, 0.14, 0.16, 0.18, 0.20, 0.24, 0.28)
MIN_SIDE, MAX_SIDE = 200, 8192
"""The smallest and largest region sides measured (pixels)."""


def fer_faces(fer: Path, count: int) -> list[np.ndarray]:
    """``count`` gray PublicTest faces, the classes in turn, each class's files in name order; a
    :class:`~script_common.DataError` where the classes have fewer in turn, or an
    :class:`~emojify.imageio.ImageError` where one is no picture (each one line)."""
    per_class = list(fer_pictures(fer, CLASSES).values())
    most = min(len(paths) * len(CLASSES) + index for index, paths in enumerate(per_class))
    if count > most:
        raise DataError(f"--faces {count}: {fer} has only {most:,} faces to paste ({', '.join(CLASSES)} in turn)")
    return [read_gray(per_class[i % len(CLASSES)][i // len(CLASSES)]) for i in range(count)]


def found_in_a_round(detector: BlazeFaceDetector, picture: np.ndarray, where: tuple[int, int, int, int]) -> bool:
    """Whether party mode's search, from its first step to its last, boxes the face at ``where``."""
    for step in range(len(detector.party_steps(picture.shape))):
        if any(on_face(found.box, where) for found in detector.detect_party(picture, None, [], step)):
            return True
    return False


def coverage(detector: BlazeFaceDetector, faces: list[np.ndarray], side: int, seed: int,
             fractions: tuple[float, ...] = FRACTIONS) -> dict:
    """One region size's report: its round's length and the share of ``faces`` found at each size
    (``fractions``: the faces' sides over the region's)."""
    rows = side * 2 // 3
    background = rocket((side, rows))
    places = np.random.default_rng(seed)
    hits = dict.fromkeys(fractions, 0)  # each size once, however often it is given
    for fraction, face in progress(itertools.product(hits, faces), f"{side}x{rows} region", len(hits) * len(faces)):
        size = round(fraction * side)
        picture = background.copy()
        x, y = int(places.integers(0, side - size)), int(places.integers(0, rows - size))
        picture[y:y + size, x:x + size] = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)[:, :, None]
        hits[fraction] += found_in_a_round(detector, picture, (x, y, size, size))
    shares = {f"{fraction:g}": round(found / len(faces), 3) for fraction, found in hits.items()}
    return {"side": side, "steps": len(detector.party_steps((rows, side))), "found": shares}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fer", type=Path, help="FER2013 image folders (test/<class>/PublicTest_*.jpg)")
    p.add_argument("--sides", type=number(int, MIN_SIDE, MAX_SIDE), nargs="+", default=[1228, 768, 384],
                   help=f"the regions' longer sides in pixels, each {MIN_SIDE} .. {MAX_SIDE} (default: %(default)s)")
    p.add_argument("--faces", type=positive_int, default=24, help="faces pasted at each size (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=1, help="seed of the places, 0 or more (default: %(default)s)")
    p.add_argument("--shares", type=number(float, 0.01, 0.5), nargs="+", default=list(FRACTIONS),
                   help="the faces' sides as shares of the region's longer side, 0.01-0.5 (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object per region size")
    args = p.parse_args(argv)
    with one_line_errors(p):
        need("skimage.data")
        faces = fer_faces(args.fer, args.faces)
    detector = BlazeFaceDetector()
    for side in args.sides:
        report = coverage(detector, faces, side, args.seed, tuple(args.shares))
        print(json.dumps(report) if args.json else
              f"{side}x{side * 2 // 3} region, a round of {report['steps']} steps; faces found at each share of "
              "the side: " + ", ".join(f"{fraction} {share:.0%}" for fraction, share in report["found"].items()),
              flush=True)
    return 0


if __name__ == "__main__":
    exit_with(main)
