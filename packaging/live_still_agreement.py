#!/usr/bin/env python3
"""Does the live view read a steady face as ``emojify predict`` reads the same frame?

    python packaging/live_still_agreement.py PHOTOS [--limit N] [--half 1|2] [--seconds 2] [--noise 2] [--json]

Each picture of ``PHOTOS`` (any images, in sub-folders or not; realfaces' development part, say)
is scaled to fill the capture region's height and pasted in the middle of a grey 640x480 frame.
The frames are played as a video through the live path (:meth:`Pipeline.live`, a fake clock at
15 fps, a little sensor noise on every frame): ``--seconds`` of the picture, then a second of an
empty frame so the kiosk forgets the face before the next one. The settled live label (at the
picture's last frame) is compared with the label ``predict``'s path gives the same frame, without
the noise (:meth:`Pipeline.analyze` over the whole picture). A picture where either finds no face
is counted apart, not as agreement.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from emojify.imageio import IMAGE_SUFFIXES, ImageError, read_image
from emojify.pipeline import Pipeline
from emojify.progress import progress_bar as progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with, number, one_line_errors, positive_int  # the script beside this one

FRAME = (480, 640)
"""Height and width of the video frames (a webcam's VGA)."""
FPS = 15.0
BACKGROUND = 110
"""Grey level of the frame around the picture."""
SEED = 0


@dataclass
class Agreement:
    """Counts of the pictures played, and the share where the live label equals the still's."""

    pictures: int = 0
    both_found: int = 0
    agree: int = 0
    still_no_face: int = 0
    live_no_face: int = 0
    share: float = 0.0
    differ: dict | None = None
    """``"still label -> live label"``: how often each disagreement happened."""

    def check(self) -> None:
        """The counts add up (every picture is in exactly one bin) and the share is agree / both found."""
        problems = [
            (self.still_no_face + self.live_no_face < self.pictures - self.both_found,
             "a picture without a face in one path is uncounted"),
            (self.agree + sum((self.differ or {}).values()) != self.both_found, "agree + differ != both found"),
            (abs(self.share - (self.agree / self.both_found if self.both_found else 0.0)) > 1e-12,
             "share != agree / both found"),
        ]
        for wrong, what in problems:
            if wrong:
                raise ArithmeticError(f"live/still counts do not add up: {what} ({asdict(self)})")


def in_frame(picture: np.ndarray, region_height: int) -> np.ndarray:
    """The picture (gray or BGR) scaled to ``region_height`` pixels high, centred in a grey BGR frame."""
    picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR) if picture.ndim == 2 else picture
    side = min(region_height, FRAME[0])
    width = min(round(picture.shape[1] * side / picture.shape[0]), FRAME[1])
    scaled = cv2.resize(picture, (width, side), interpolation=cv2.INTER_AREA)
    frame = np.full((*FRAME, 3), BACKGROUND, np.uint8)
    y, x = (FRAME[0] - side) // 2, (FRAME[1] - width) // 2
    frame[y:y + side, x:x + width] = scaled
    return frame


def noisy(frame: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """The frame with Gaussian sensor noise, as a camera delivers it."""
    if not sigma:
        return frame
    return np.clip(np.round(frame + rng.normal(0.0, sigma, frame.shape)), 0, 255).astype(np.uint8)


def measure(pipeline: Pipeline, pictures: list[Path], seconds: float = 2.0, noise: float = 2.0) -> Agreement:
    """Play ``pictures`` through ``pipeline``'s live path and its still path; the counts (checked)."""
    rng = np.random.default_rng(SEED)
    region_height = pipeline.region(np.zeros((*FRAME, 3), np.uint8))[3]
    blank = np.full((*FRAME, 3), BACKGROUND, np.uint8)
    report, differ, clock = Agreement(), Counter(), 0.0
    for path in progress(pictures, "pictures"):
        frame = in_frame(read_image(path), region_height)
        still = pipeline.analyze(frame, use_region=False).label
        live = None
        for _ in range(round(seconds * FPS)):
            live = pipeline.live(noisy(frame, noise, rng), now=clock).label
            clock += 1.0 / FPS
        for _ in range(round(FPS)):  # an empty second: the kiosk forgets the face
            pipeline.live(blank, now=clock)
            clock += 1.0 / FPS
        report.pictures += 1
        report.still_no_face += still is None
        report.live_no_face += live is None
        if still is None or live is None:
            continue
        report.both_found += 1
        if live == still:
            report.agree += 1
        else:
            differ[f"{still} -> {live}"] += 1
    report.differ = dict(differ.most_common())
    report.share = report.agree / report.both_found if report.both_found else 0.0
    report.check()
    return report


def picture_files(root: Path, limit: int | None, half: int | None = None) -> list[Path]:
    """Image files under ``root`` (recursively, sorted), every k-th one so that ``limit`` spans all classes;
    with ``half`` 1 or 2 the first, third... or the second, fourth... of those (one half to tune on,
    the other to confirm on). Hidden files and folders are passed over, as ``emojify evaluate`` does (macOS's
    ``._photo.jpg`` on a memory stick, Jupyter's ``.ipynb_checkpoints/``)."""
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if limit and len(files) > limit:
        files = [files[i] for i in np.linspace(0, len(files) - 1, limit).round().astype(int)]
    return files[half - 1::2] if half else files


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", type=Path, help="folder of pictures (searched recursively)")
    p.add_argument("--limit", type=positive_int, help="play at most this many, spread over the sorted list")
    p.add_argument("--half", type=int, choices=(1, 2),
                   help="play only the odd-numbered (1) or even-numbered (2) of the pictures chosen")
    p.add_argument("--seconds", type=number(float, 0, above=True), default=2.0,
                   help=f"how long each picture is shown, at least one frame (1/{FPS:g} s) (default: %(default)s)")
    p.add_argument("--noise", type=number(float, 0), default=2.0,
                   help="sensor noise, grey levels, 0 or more (default: %(default)s)")
    p.add_argument("--model", type=Path, help="model file (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.seconds * FPS <= 0.5:  # no live frame of the picture (it would round to 0): nothing to compare
        p.error(f"argument --seconds: {args.seconds:g} s is shorter than one frame (1/{FPS:g} s)")
    from emojify.classifier import Classifier

    with one_line_errors(p):
        pictures = picture_files(args.photos, args.limit, args.half) if args.photos.is_dir() else []
        if not pictures:
            raise ImageError(f"{args.photos}: no pictures found")
        report = measure(Pipeline(Classifier(args.model)), pictures, args.seconds, args.noise)
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(f"{report.agree} of {report.both_found} pictures ({report.share:.1%}) read alike live and still; "
              f"no face: still {report.still_no_face}, live {report.live_no_face} of {report.pictures}")
        for pair, count in (report.differ or {}).items():
            print(f"  {pair}: {count}")
    return 0


if __name__ == "__main__":
    exit_with(main)
