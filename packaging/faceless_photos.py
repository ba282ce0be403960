#!/usr/bin/env python3
"""Photos without a face through the photo search: how many boxes it invents, with and without its second look.

    python packaging/faceless_photos.py [--side 2048] [--no-second-look] [--json]

Eighteen of scikit-image's photos with no human face in them (textures, coins, a star field, text,
a cat, a horse...), scaled to ``--side`` pixels wide, go through ``BlazeFaceDetector.for_stills()``,
what ``emojify predict`` runs; every box it gives is a false one. ``--no-second-look`` keeps every
tile candidate as it is (what the search did before the second look), for comparison. The
astronaut photo, scaled the same way, is reported too: its boxes, and how many of them are on her
face (an intersection over union of at least 0.5 with her face's box).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from emojify import faces
from emojify.tracking import box_iou

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with, need, number, one_line_errors  # the script beside this one

PHOTOS = ("rocket", "coffee", "chelsea", "hubble_deep_field", "immunohistochemistry", "text", "brick", "grass",
          "gravel", "colorwheel", "logo", "moon", "page", "retina", "horse", "cat", "coins", "clock")
ASTRONAUT_FACE = (178, 80, 95, 95)
"""(x, y, w, h) of the astronaut's face in the 512-pixel photo, as the search boxes it at full size."""
ON_FACE_IOU = 0.5
MAX_SIDE = 8192  # twice what emojify reads a photo at (imageio.MAX_SIDE); past it, memory, not a photo
MIN_SIDE = 32  # narrower, her face is under 6 pixels wide: nothing left to find (and at 1, photos 0 pixels high)


def as_bgr(picture: np.ndarray, side: int) -> np.ndarray:
    """A scikit-image picture (gray, RGB, RGBA, bool or float) as uint8 BGR, ``side`` pixels wide."""
    picture = np.asarray(picture)
    if picture.dtype != np.uint8:
        picture = (picture * 255 if picture.max() <= 1 else picture).astype(np.uint8)
    picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR) if picture.ndim == 2 else picture[:, :, 2::-1]
    return cv2.resize(np.ascontiguousarray(picture), (side, round(side * picture.shape[0] / picture.shape[1])))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--side", type=number(int, MIN_SIDE, MAX_SIDE), default=2048,
                   help=f"width in pixels the photos are scaled to, {MIN_SIDE} .. {MAX_SIDE} (default: %(default)s)")
    p.add_argument("--no-second-look", action="store_true", help="keep every tile candidate, as before the second look")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = p.parse_args(argv)
    with one_line_errors(p):
        need("skimage.data")
    from skimage import data
    if args.no_second_look:
        faces.TILE_SURE_SCORE = 0.0  # every candidate counts as sure: none is looked at again

    detector = faces.BlazeFaceDetector.for_stills()
    boxes = {name: len(detector.detect(as_bgr(getattr(data, name)(), args.side))) for name in PHOTOS}
    photo = data.astronaut()
    scale = photo.shape[1] / args.side  # her boxes in the photo's own (512-pixel) coordinates
    astronaut = [[v * scale for v in face.box] for face in detector.detect(as_bgr(photo, args.side))]
    report = {"side": args.side, "second_look": not args.no_second_look, "boxes": boxes,
              "false_boxes": sum(boxes.values()), "astronaut_boxes": len(astronaut),
              "astronaut_on_face": sum(box_iou(box, ASTRONAUT_FACE) >= ON_FACE_IOU for box in astronaut)}
    if args.json:
        print(json.dumps(report))
    else:
        for name, count in boxes.items():
            print(f"{name:<22}{count} box{'es' if count != 1 else ''}")
        print(f"false boxes in all: {report['false_boxes']}; astronaut: {report['astronaut_boxes']} box(es), "
              f"{report['astronaut_on_face']} on her face")
    return 0


if __name__ == "__main__":
    exit_with(main)
