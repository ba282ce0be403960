#!/usr/bin/env python3
"""How long a visitor waits for the finished still: a 2048x1536 group picture as the camera, mask style.

    python packaging/still_latency.py path/to/fer2013 [--snapshots 5] [--faces largest|all] [--json]

Builds the group picture of ``packaging/group_faces.py`` (six faces), scales it to 2048x1536 and
plays it as the camera (an image source at 30 frames a second) through the kiosk's worker, the live
frames going through the pipeline as in the kiosk. Each snapshot then goes as on the kiosk: the
countdown starts (``Worker.prepare_still`` with the newest frame), 3 s later the still is taken
(``Worker.request_snapshot``); the script reports the seconds from then until the worker hands over
the finished, masked still (what the window shows at its next poll, every 15 ms), and how many faces
it masks against what the photo search finds in the picture.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

from emojify.app import Worker
from emojify.emojis import load_emoji_set
from emojify.pipeline import Pipeline
from emojify.screens import COUNTDOWN_SECONDS, Snapshot
from emojify.sources import CaptureThread, open_reader, parse_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from group_faces import group_picture  # the scripts beside this one
from script_common import exit_with, one_line_errors, positive_int

SIZE = (2048, 1536)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fer", type=Path, help="FER2013 image folders (test/<class>/PublicTest_*.jpg)")
    p.add_argument("--snapshots", type=positive_int, default=5,
                   help="snapshots taken one after the other, each timed (default: %(default)s)")
    p.add_argument("--faces", choices=("largest", "all"), default="largest", help="the live path's --faces (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    with one_line_errors(p):
        picture = cv2.resize(group_picture(args.fer)[0], SIZE, interpolation=cv2.INTER_AREA)
    pipeline = Pipeline(region_fraction=1.0, all_faces=args.faces == "all")
    expected = len(Pipeline(region_fraction=1.0).analyze_still(picture).faces)
    waits, masked = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "group.png"
        cv2.imwrite(str(path), picture)
        spec = parse_source(str(path))
        with CaptureThread(spec, opener=lambda: open_reader(spec, fps=30)) as capture:
            worker = Worker(pipeline, capture, load_emoji_set(), None, "mask")
            worker.start()
            try:
                for number in range(1, args.snapshots + 1):
                    time.sleep(1.0)  # live frames meanwhile
                    worker.prepare_still(capture.latest().image)
                    time.sleep(COUNTDOWN_SECONDS)
                    still = capture.latest().image
                    asked = time.perf_counter()
                    worker.request_snapshot(Snapshot(number, still))
                    while (snapshot := worker.take_snapshot()) is None:
                        time.sleep(0.001)
                    if snapshot.failed or snapshot.result is None:
                        print(f"still_latency.py: snapshot {number} failed (see the log above)", file=sys.stderr)
                        return 1
                    waits.append(time.perf_counter() - asked)
                    masked.append(len(snapshot.result.faces))
            finally:
                worker.stop()
    report = {"size": f"{SIZE[0]}x{SIZE[1]}", "live_faces": args.faces, "photo_search_faces": expected,
              "masked_faces": masked, "wait_s": [round(w, 3) for w in waits],
              "wait_s_median": round(statistics.median(waits), 3), "wait_s_max": round(max(waits), 3)}
    print(json.dumps(report) if args.json else
          f"{report['size']}: finished still {report['wait_s_median']:.3f} s (median; max {report['wait_s_max']:.3f} s) "
          f"after the countdown's end; faces masked {masked}, the photo search finds {expected}")
    return 0


if __name__ == "__main__":
    exit_with(main)
