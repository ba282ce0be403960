#!/usr/bin/env python3
"""Party mode at party distance, measured: the group picture played as a video through ``emojify bench``.

    python packaging/party_bench.py path/to/fer2013 [--frames 300] [--json]

Builds the group picture of ``packaging/group_faces.py`` (six faces, 40-300 pixels in 2048x1365),
scales it to 640x480 and 1280x720, writes each as a 10-second 30 fps MJPEG video, and for each size
reports:

- ``predict``: the faces ``emojify predict --all-faces`` finds in the picture;
- ``party`` and ``single``: ``emojify bench --source VIDEO --region 1 --json`` with ``--faces all`` and
  with ``--faces largest``, one after the other (``faces_median``, ``detect_ms_median`` and
  ``detect_cpu_ms_median``), and their ratios (on a busy machine the processor time's is the steadier);
- ``frames_without_stray``: the share of frames in which the live path (``Pipeline.live``, party mode,
  region 1, the video's frames at 30 a second of clock time) draws no box whose centre is on no face;
- ``first_boxed``: for each face (its class and side in pixels), the first of those frames (from 0) with
  a box on it, or None: how long a visitor waits for an emoji.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

from emojify.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from group_faces import group_picture, on_face  # the scripts beside this one
from script_common import DataError, exit_with, one_line_errors, positive_int

SIZES = ((640, 480), (1280, 720))
VIDEO_FPS = 30
VIDEO_SECONDS = 10


def emojify(*args: str) -> str:
    """Run ``python -m emojify ARGS`` (this checkout's package) and return its stdout; where it fails,
    a :class:`~script_common.DataError` of its own last line on stderr (its reason), after the command's name."""
    done = subprocess.run([sys.executable, "-m", "emojify", *args], capture_output=True, text=True, check=False)
    if done.returncode:
        said = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}, nothing on stderr"])[-1]
        raise DataError(f"emojify {args[0]}: {said.removeprefix('emojify: ').removeprefix('error: ')}")
    return done.stdout


def live_run(picture, placed, frames: int) -> tuple[float, list[int | None]]:
    """Over ``frames`` live frames: the share whose boxes all lie on a placed face, and for each placed
    face the first frame with a box on it (None if none)."""
    pipeline = Pipeline(region_fraction=1.0, all_faces=True)
    clean, first = 0, [None] * len(placed)
    for index in range(frames):
        result = pipeline.live(picture, now=index / VIDEO_FPS)
        clean += all(any(on_face(face.box, where) for _, where in placed) for face in result.faces)
        for number, (_, where) in enumerate(placed):
            if first[number] is None and any(on_face(face.box, where) for face in result.faces):
                first[number] = index
    return clean / frames, first


def measure(picture, placed, size: tuple[int, int], folder: Path, frames: int) -> dict:
    width, height = size
    scale_x, scale_y = width / picture.shape[1], height / picture.shape[0]
    small = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    placed = [(label, (x * scale_x, y * scale_y, w * scale_x, h * scale_y)) for label, (x, y, w, h) in placed]
    still = folder / f"group-{width}x{height}.png"
    cv2.imwrite(str(still), small)
    video = folder / f"group-{width}x{height}.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), VIDEO_FPS, size)
    for _ in range(VIDEO_FPS * VIDEO_SECONDS):
        writer.write(small)
    writer.release()
    predicted = len(json.loads(emojify("predict", "--all-faces", "--json", str(still)))[0]["faces"])
    bench = {faces: json.loads(emojify("bench", "--source", str(video), "--region", "1", "--faces", faces,
                                       "--frames", str(frames), "--json"))
             for faces in ("largest", "all")}
    party, single = bench["all"], bench["largest"]
    share, first = live_run(small, placed, frames)
    return {"size": f"{width}x{height}", "predict_faces": predicted,
            "party_faces_median": party["faces_median"], "single_faces_median": single["faces_median"],
            "party_detect_ms_median": round(party["detect_ms_median"], 3),
            "single_detect_ms_median": round(single["detect_ms_median"], 3),
            "party_vs_single": round(party["detect_ms_median"] / single["detect_ms_median"], 2),
            "party_detect_cpu_ms_median": round(party["detect_cpu_ms_median"], 3),
            "single_detect_cpu_ms_median": round(single["detect_cpu_ms_median"], 3),
            "party_vs_single_cpu": round(party["detect_cpu_ms_median"] / single["detect_cpu_ms_median"], 2),
            "frames_without_stray": round(share, 4),
            "first_boxed": {f"{label} {round(where[2])} px": frame for (label, where), frame in zip(placed, first, strict=True)},
            "machine": party["machine"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fer", type=Path, help="FER2013 image folders (test/<class>/PublicTest_*.jpg)")
    p.add_argument("--frames", type=positive_int, default=300, help="frames each bench times (default: %(default)s); party mode finds far faces over a search"
                   " round (about 130 frames at 1280x720), so much fewer count faces it has not found yet")
    p.add_argument("--json", action="store_true", help="print one JSON object per size")
    args = p.parse_args(argv)
    with one_line_errors(p):
        picture, placed = group_picture(args.fer)
        with tempfile.TemporaryDirectory() as folder:
            reports = [measure(picture, placed, size, Path(folder), args.frames) for size in SIZES]
    for report in reports:
        print(json.dumps(report) if args.json else
              f"{report['size']}: predict finds {report['predict_faces']}; party faces_median "
              f"{report['party_faces_median']:g}, no stray box in {report['frames_without_stray']:.1%} of frames; "
              f"detect median {report['party_detect_ms_median']:.2f} ms party, {report['single_detect_ms_median']:.2f} "
              f"ms single ({report['party_vs_single']:.2f}x); its processor time {report['party_detect_cpu_ms_median']:.2f}"
              f" ms party, {report['single_detect_cpu_ms_median']:.2f} ms single ({report['party_vs_single_cpu']:.2f}x)\n"
              f"  first boxed at frame: " + ", ".join(f"{face} {frame}" for face, frame in report["first_boxed"].items()))
    return 0


if __name__ == "__main__":
    exit_with(main)
