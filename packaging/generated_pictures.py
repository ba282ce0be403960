"""Render the pictures of docs/generated-emoji.md from the shipped sample face.

    python packaging/generated_pictures.py [--out docs]

Writes docs/generated-emoji-faces.png (the sample face, the same with its mouth painted over with
its cheek's colour, and turned 20 degrees clockwise, each beside its generated emoji) and
docs/generated-emoji-bases.png (every expression's base with four shapes), and prints the shapes.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from emojify.errors import reason_of
from emojify.faces import BlazeFaceDetector
from emojify.fileio import atomic_path
from emojify.generated import draw
from emojify.imageio import read_image
from emojify.labels import CLASSES
from emojify.landmarks import load_mesh
from emojify.resources import SAMPLE_FACE
from emojify.shape import Shape, shape_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with  # the script beside this one

DOCS = Path(__file__).resolve().parents[1] / "docs"
TILE, BASE_TILE = 160, 96
CHEEK = 118  # a Face Mesh point on the right cheek
FACES_PICTURE, BASES_PICTURE = "generated-emoji-faces.png", "generated-emoji-bases.png"
DEMO_SHAPES = (Shape(), Shape(mouth_open=1.0, brows=1.0, eyes_open=(1, 1)), Shape(smile=1.0, mouth_open=0.5),
               Shape(eyes_open=(0.0, 0.8), smile=0.6, roll=15))


def mouth_covered(picture: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``picture`` with the mouth of the face whose mesh is ``points`` painted over with the colour
    of its right cheek and softened (a made face with no smile; the tests use it too)."""
    lips = points[[61, 291, 0, 17], :2]
    (x0, y0), (x1, y1) = lips.min(0).astype(int) - 4, lips.max(0).astype(int) + 4
    cx, cy = points[CHEEK, :2].astype(int)
    covered = picture.copy()
    covered[y0:y1, x0:x1] = picture[cy - 3:cy + 3, cx - 3:cx + 3].reshape(-1, 3).mean(0)
    return cv2.GaussianBlur(covered, (0, 0), 1.0)


def save_pngs(pictures: dict[Path, Image.Image], parser: argparse.ArgumentParser) -> None:
    """Write each picture beside its place, then move them in, in order: on any error or stop while they
    are written, the old pictures all stay (each move is one rename in the same folder); one line if it fails."""
    path = None
    try:
        with ExitStack() as written:
            places = {}
            for path in reversed(pictures):  # entered last to first: the stack moves them in first to last
                places[path] = written.enter_context(atomic_path(path))
            for path, picture in pictures.items():
                picture.convert("RGB").save(places[path], format="PNG", optimize=True)
    except OSError as exc:
        failed = getattr(exc, "filename2", None) or path  # a move names its place second; a write, its picture
        parser.error(f"--out: cannot write {failed} ({reason_of(exc)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DOCS, metavar="FOLDER",
                        help=f"an existing folder to write {FACES_PICTURE} and {BASES_PICTURE} into, replacing "
                             "those there (default: the checkout's docs/)")
    out = parser.parse_args(argv).out
    if not out.is_dir():
        parser.error(f"--out: {out} is not a folder")
    for name in (FACES_PICTURE, BASES_PICTURE):  # both, before either is drawn: not one replaced and then an error
        if (out / name).is_dir():
            parser.error(f"--out: {out / name} is a folder; move it away")
    detector, mesh = BlazeFaceDetector.for_stills(), load_mesh()
    sample = read_image(SAMPLE_FACE)
    face = detector.detect(sample)[0]
    covered = mouth_covered(sample, mesh.run(sample, face.box, face.roll).points)
    x, y, w, h = face.box
    turned = cv2.warpAffine(sample, cv2.getRotationMatrix2D((x + w / 2, y + h / 2), -20, 1.0), sample.shape[1::-1],
                            borderMode=cv2.BORDER_REPLICATE)
    row = Image.new("RGBA", (TILE * 6, TILE), (255, 255, 255, 255))
    for i, (picture, label, title) in enumerate(((sample, "happy", "the sample face"),
                                                 (covered, "neutral", "its mouth painted over"),
                                                 (turned, "happy", "turned 20 degrees"))):
        found = detector.detect(picture)[0]
        shape = shape_of(mesh.run(picture, found.box, found.roll).points)
        print(f"{title + ':':24} mouth_open {shape.mouth_open:.3f}, smile {shape.smile:+.3f}, brows {shape.brows:+.3f}, "
              f"eyes_open {shape.eyes_open[0]:.3f}/{shape.eyes_open[1]:.3f}; "
              f"roll {shape.roll:+.1f}, yaw {shape.yaw:+.1f}, pitch {shape.pitch:+.1f} degrees")
        fx, fy, fw, _ = found.box
        side, (mx, my) = int(fw * 1.5), (fx + fw // 2, fy + fw // 2)
        crop = cv2.resize(picture[my - side // 2:my + side // 2, mx - side // 2:mx + side // 2], (TILE, TILE))
        row.paste(Image.fromarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)), (2 * i * TILE, 0))
        row.alpha_composite(draw(label, shape, TILE), (2 * i * TILE + TILE, 0))
    grid = Image.new("RGBA", (BASE_TILE * len(CLASSES), BASE_TILE * len(DEMO_SHAPES)), (255, 255, 255, 255))
    for j, shape in enumerate(DEMO_SHAPES):
        for i, label in enumerate(CLASSES):
            grid.alpha_composite(draw(label, shape, BASE_TILE), (BASE_TILE * i, BASE_TILE * j))
    save_pngs({out / FACES_PICTURE: row, out / BASES_PICTURE: grid}, parser)
    return 0


if __name__ == "__main__":
    exit_with(main)
