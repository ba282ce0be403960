"""Time the generated emoji and the face mesh's share of the live frame.

    python packaging/generated_bench.py [--frames 300]

Prints, on this machine: the generated emoji's drawing time at 512 px without the cache (median and
p95 over shapes that all differ), its median through the cache over a live sequence (the sample
face of ``emojify bench``'s synthetic stream, its smoothed shapes), and the whole live frame's
median with and without the face mesh (``Pipeline(shapes=False)``), both run on each frame, taking
turns to go first, so that other work on the machine weighs on both alike; and one face's mesh call
(``FaceMesh.run``) against the model's own call alone, taking turns, median and fastest: on a
machine shared with other jobs a 2-ms call is often cut by their turns, so the fastest tells the work.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from emojify.bench import cpu_name, synthetic_stream
from emojify.generated import STICKER_PX, GeneratedEmoji, draw
from emojify.labels import CLASSES
from emojify.pipeline import Pipeline
from emojify.shape import Shape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with, positive_int  # the script beside this one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=positive_int, default=300, metavar="N",
                        help="how many of each are timed: generated emoji drawn without the cache, live frames "
                             "through both pipelines (after 20 unmeasured ones) and face-mesh calls (default: %(default)s)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    uncached = []
    for i in range(args.frames):
        shape = Shape(*rng.uniform(0, 1, 1), *rng.uniform(-1, 1, 2), tuple(rng.uniform(0, 1, 2)), *rng.uniform(-20, 20, 3))
        start = time.perf_counter()
        draw(CLASSES[i % len(CLASSES)], shape, STICKER_PX)
        uncached.append((time.perf_counter() - start) * 1e3)
    print(f"machine: {cpu_name()}")
    print(f"generated emoji {STICKER_PX} px, no cache: median {np.median(uncached):.2f} ms, "
          f"p95 {np.percentile(uncached, 95):.2f} ms ({args.frames} shapes, all differing)")
    with_mesh, without = Pipeline(), Pipeline(shapes=False)
    frames = synthetic_stream()
    emoji, frame_ms, landmarks_ms, cached = GeneratedEmoji(), {True: [], False: []}, [], []
    stages_ms: dict[bool, list[float]] = {True: [], False: []}
    for index in range(args.frames + 20):  # the two pipelines take turns on each frame: the same load on both
        frame = next(frames)
        results = {}
        # the two take turns going first too: the first to read a new frame pays for bringing it into the cache
        for pipeline in (with_mesh, without) if index % 2 else (without, with_mesh):
            start = time.perf_counter()
            results[pipeline.shapes] = pipeline.live(frame)
            if index >= 20:
                frame_ms[pipeline.shapes].append((time.perf_counter() - start) * 1e3)
                stages_ms[pipeline.shapes].append(pipeline.times.detect_ms + pipeline.times.classify_ms)
        result = results[True]
        if index >= 20 and result.faces:
            landmarks_ms.append(with_mesh.times.landmarks_ms)
            start = time.perf_counter()
            emoji.picture(result.label, result.faces[0].shape, STICKER_PX)
            cached.append((time.perf_counter() - start) * 1e3)
    ratio = np.median(frame_ms[True]) / np.median(frame_ms[False])
    print(f"live frame: median {np.median(frame_ms[True]):.2f} ms with the face mesh, {np.median(frame_ms[False]):.2f} ms "
          f"without ({ratio:.2f}x); landmarks median {np.median(landmarks_ms):.2f} ms a face; detection and "
          f"classification {np.median(stages_ms[True]):.2f} ms with, {np.median(stages_ms[False]):.2f} ms without")
    frame = next(frames)
    face = with_mesh.detect(frame)[1][0]
    mesh_ms: dict[str, list[float]] = {"FaceMesh.run": [], "the model's call alone": []}
    invoke = with_mesh.mesh._interpreter.invoke  # the model's call alone, without the crop around it
    for _ in range(args.frames):
        for name, call in (("FaceMesh.run", lambda: with_mesh.mesh.run(frame, face.box, face.roll)),
                           ("the model's call alone", invoke)):
            start = time.perf_counter()
            call()
            mesh_ms[name].append((time.perf_counter() - start) * 1e3)
    print("; ".join(f"{name}: median {np.median(ms):.2f} ms, fastest {np.min(ms):.2f} ms" for name, ms in mesh_ms.items()))
    print(f"the live sequence's generated emoji through the cache: median {np.median(cached):.3f} ms, "
          f"p95 {np.percentile(cached, 95):.2f} ms")
    return 0


if __name__ == "__main__":
    exit_with(main)
