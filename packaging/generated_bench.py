"""Time the generated emoji and the face mesh's share of the live frame.

    python packaging/generated_bench.py [--frames 300]

Prints, on this machine: the generated emoji's drawing time at 512 px without the cache (median and
p95 over shapes that all differ), its median through the cache over a live sequence (the sample
face of ``emojify bench``'s synthetic stream, its smoothed shapes), and the whole live frame's
median with and without the face mesh (``Pipeline(shapes=False)``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from emojify.bench import cpu_name, synthetic_stream, time_frames
from emojify.generated import STICKER_PX, GeneratedEmoji, draw
from emojify.labels import CLASSES
from emojify.pipeline import Pipeline
from emojify.shape import Shape


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="live frames timed (default 300)")
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
    for shapes in (True, False):
        pipeline = Pipeline(shapes=shapes)
        frames = synthetic_stream()
        time_frames(pipeline, frames, 20)
        timings = time_frames(pipeline, frames, args.frames)
        line = f"live frame {'with' if shapes else 'without'} the face mesh: median {np.median(timings.frame):.2f} ms"
        if shapes:
            emoji, cached = GeneratedEmoji(), []
            for _ in range(args.frames):
                result = pipeline.live(next(frames))
                start = time.perf_counter()
                if result.faces:
                    emoji.picture(result.label, result.faces[0].shape, STICKER_PX)
                cached.append((time.perf_counter() - start) * 1e3)
            line += (f", landmarks median {np.median(timings.landmarks):.2f} ms; the live sequence's emoji through "
                     f"the cache: median {np.median(cached):.2f} ms, p95 {np.percentile(cached, 95):.2f} ms")
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
