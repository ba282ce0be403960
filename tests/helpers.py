"""Helpers shared by the test modules (fixtures live in conftest.py, which uses these too).

* ``REPO``, the shipped model's paths, ``FER_ROOT`` (the FER2013 image folders: ``$EMOJIFY_FER2013``,
  else ``../shared/data/fer2013`` beside the checkout) and ``ASTRONAUT_FACE``.
* Tiny FER-style data sets written into a folder: :func:`make_fer_folder` (the Kaggle image-folder
  layout) and :func:`write_fer_csv` (the original ``fer2013.csv``). Images are generated, never
  copied from the real data set.
* :func:`run_cli` runs ``python -m emojify ...`` in a subprocess and returns (code, stdout, stderr).

Test modules import them with ``from helpers import ...`` (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from emojify.labels import CLASSES

REPO = Path(__file__).resolve().parents[1]
FER_ROOT = Path(os.environ.get("EMOJIFY_FER2013", REPO.parent / "shared" / "data" / "fer2013"))
"""FER2013 image folders: ``$EMOJIFY_FER2013``, else ``../shared/data/fer2013`` beside the checkout."""
MODEL = REPO / "model" / "emotion_int8.tflite"
MODEL_JSON = MODEL.with_suffix(".json")

ASTRONAUT_FACE = (170, 50, 110, 120)
"""(x, y, w, h): roughly where the astronaut's face is in the 512x512 photo."""


def fer_files(root: Path, top: str, cls: str, prefix: str = "", count: int | None = None) -> list[Path]:
    """Sorted image files of ``root/top/cls`` whose names start with ``prefix`` (first ``count``)."""
    files = sorted(p for p in (root / top / cls).iterdir() if p.name.startswith(prefix) and p.suffix == ".jpg")
    return files[:count] if count is not None else files


def overlap_fraction(box, reference) -> float:
    """Share of ``reference``'s area (x, y, w, h) covered by ``box``."""
    x0, y0 = max(box[0], reference[0]), max(box[1], reference[1])
    x1 = min(box[0] + box[2], reference[0] + reference[2])
    y1 = min(box[1] + box[3], reference[1] + reference[3])
    return max(0, x1 - x0) * max(0, y1 - y0) / (reference[2] * reference[3])


def iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


# --- the model -----------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def copy_model(folder: Path, name: str = "emotion_int8") -> Path:
    """Copy the shipped model and its metadata into ``folder``; returns the .tflite path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.tflite"
    shutil.copyfile(MODEL, target)
    shutil.copyfile(MODEL_JSON, target.with_suffix(".json"))
    return target


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Invert one byte of ``path`` (by default one in the middle)."""
    data = bytearray(path.read_bytes())
    offset = len(data) // 2 if offset is None else offset
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def six_class_model(folder: Path) -> Path:
    """A copy of the shipped model whose metadata lists 6 classes (checksum right: only the count is wrong)."""
    model = copy_model(folder)
    meta_path = model.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["classes"] = meta["classes"][:6]
    meta["sha256"] = sha256_file(model)
    meta_path.write_text(json.dumps(meta))
    return model


# --- tiny FER-style data sets ----------------------------------------------------------------

@dataclass(frozen=True)
class FerImage:
    """One generated 48x48 face: where it was written, its split and class, and its pixels as decoded."""

    path: Path
    split: str  # "train", "val" (PublicTest) or "test" (PrivateTest)
    label: int
    pixels: np.ndarray


def synthetic_face(rng: np.random.Generator, label: int) -> np.ndarray:
    """A 48x48 gray image with some structure (blurred noise plus a class-dependent gradient)."""
    noise = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    image = cv2.GaussianBlur(noise, (0, 0), 2).astype(np.float32)
    ramp = np.linspace(0, 30 * (label + 1), 48, dtype=np.float32)[None, :]
    return np.clip((image - image.mean()) * 3 + 128 + ramp - ramp.mean(), 0, 255).astype(np.uint8)


def make_fer_folder(root: Path, train: int = 3, public: int = 2, private: int = 1,
                    classes: tuple[str, ...] = CLASSES, seed: int = 0) -> list[FerImage]:
    """Write the Kaggle layout under ``root``: ``train/<class>/Training_N.jpg`` and
    ``test/<class>/PublicTest_N.jpg`` + ``PrivateTest_N.jpg``, ``train``/``public``/``private`` per class.

    Returns every image with its pixels as decoded back from the JPEG (what a loader should see).
    """
    rng = np.random.default_rng(seed)
    images, n = [], 0
    plan = (("train", "train", "Training", train), ("test", "val", "PublicTest", public),
            ("test", "test", "PrivateTest", private))
    for top, split, prefix, count in plan:
        for name in classes:
            folder = root / top / name
            folder.mkdir(parents=True, exist_ok=True)
            for _ in range(count):
                n += 1
                path = folder / f"{prefix}_{n}.jpg"
                assert cv2.imwrite(str(path), synthetic_face(rng, CLASSES.index(name)))
                pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                images.append(FerImage(path, split, CLASSES.index(name), pixels))
    return images


def write_fer_csv(path: Path, images: list[FerImage], header: tuple[str, str, str] = ("emotion", "pixels", "Usage")
                  ) -> Path:
    """Write ``images`` as the original ``fer2013.csv`` (emotion, space-separated pixels, Usage)."""
    usage = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for image in images:
            writer.writerow([image.label, " ".join(map(str, image.pixels.ravel())), usage[image.split]])
    return path


# --- the command line ----------------------------------------------------------------------

CLI_TIMEOUT = 600


def run_cli(*args, cwd: Path | None = None, timeout: float = CLI_TIMEOUT, env: dict | None = None
            ) -> tuple[int, str, str]:
    """Run ``python -m emojify ARGS`` and return (exit code, stdout, stderr) as text."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "emojify", *map(str, args)], capture_output=True,
                          cwd=cwd or REPO, timeout=timeout, env=full_env, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def stderr_lines(stderr: str) -> list[str]:
    """Non-empty lines of a command's stderr."""
    return [line for line in stderr.splitlines() if line.strip()]


def load_json_output(stdout: str):
    """The command's stdout parsed as exactly one JSON document."""
    return json.loads(stdout)


# --- a virtual screen ----------------------------------------------------------------------

SCREEN = (1280, 800)
"""Size of the Xvfb screen the window tests run on."""


def start_xvfb(*screens: tuple[int, int]) -> tuple[subprocess.Popen, str]:
    """An Xvfb server with one screen per size (``:N.0``, ``:N.1``, ...); skips where it cannot start."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install xvfb xdotool)")
    number = next(n for n in range(73, 200)
                  if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists())
    layout = [arg for i, (w, h) in enumerate(screens) for arg in ("-screen", str(i), f"{w}x{h}x24")]
    server = subprocess.Popen(["Xvfb", f":{number}", *layout, "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 10
    while not socket.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.skip(f"Xvfb :{number} did not start")
        time.sleep(0.05)
    return server, f":{number}"
