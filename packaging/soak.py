#!/usr/bin/env python3
"""Soak test: push many frames through the live pipeline and watch memory and latency.

    python packaging/soak.py [--frames 20000] [--block 1000] [--json] [--plot soak.png]

Uses the same synthetic 640x480 stream as emojify bench (a real face drifting in the capture
region), each frame through Pipeline.live, the kiosk's own per-frame call. Prints RSS after the
warm-up and after every block of frames, with the block's median time per frame. It exits 1 if RSS
grew by 5 MB or more from the end of the first block to the end of the last (the first block's own
allocations, caches filling up, are not counted as growth), or the last block is more than 25% slower
than the first; so it needs at least two blocks. Frames beyond the last whole block are not pushed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import numpy as np

from emojify.bench import rss_mb, synthetic_stream, time_frames
from emojify.errors import print_error, reason_of
from emojify.fileio import OutputError, atomic_path, make_file_folder
from emojify.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with  # the script beside this one

MAX_GROWTH_MB = 5.0
MAX_DRIFT = 0.25


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=20_000, help="frames in all (default: %(default)s)")
    p.add_argument("--block", type=int, default=1_000, help="frames per reported block (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", help="save RSS and latency per block as a PNG (needs matplotlib)")
    args = p.parse_args(argv)
    if args.block < 1 or args.frames < 2 * args.block:
        p.error("--block must be at least 1 and --frames at least two blocks (the first and the last are compared)")
    if args.plot:  # checked before the soak, not after it
        try:
            importlib.import_module("matplotlib")
        except ImportError:
            p.error("--plot needs matplotlib (pip install matplotlib)")
        try:
            make_file_folder(args.plot, f"--plot {args.plot}")
        except OutputError as exc:
            p.error(str(exc))

    pipeline = Pipeline()
    frames = synthetic_stream()
    time_frames(pipeline, frames, 500)  # warm-up: first allocations and caches are not growth
    start = rss_mb()
    blocks = []
    for n in range(args.frames // args.block):
        timings = time_frames(pipeline, frames, args.block)
        blocks.append({"frames": (n + 1) * args.block, "frame_ms_median": float(np.median(timings.frame)),
                       "rss_mb": round(rss_mb(), 2)})
        if not args.json:
            print(f"{blocks[-1]['frames']:>7} frames  median {blocks[-1]['frame_ms_median']:6.2f} ms  "
                  f"RSS {blocks[-1]['rss_mb']:.1f} MB", flush=True)
    growth = blocks[-1]["rss_mb"] - blocks[0]["rss_mb"]
    drift = blocks[-1]["frame_ms_median"] / blocks[0]["frame_ms_median"] - 1
    report = {"frames": blocks[-1]["frames"], "rss_mb_start": round(start, 2), "rss_mb_end": blocks[-1]["rss_mb"],
              "rss_mb_after_first_block": blocks[0]["rss_mb"], "rss_growth_mb": round(growth, 2), "latency_drift": round(drift, 3), "blocks": blocks}
    print(json.dumps(report) if args.json else  # the figures first: a plot that cannot be saved loses none of them
          f"RSS {start:.1f} MB after the warm-up, {blocks[0]['rss_mb']:.1f} after the first block, "
          f"{blocks[-1]['rss_mb']:.1f} at the end (growth after the first block {growth:+.2f} MB), "
          f"latency first/last block {blocks[0]['frame_ms_median']:.2f}/{blocks[-1]['frame_ms_median']:.2f} ms "
          f"({drift:+.1%})", flush=True)
    held = growth < MAX_GROWTH_MB and drift < MAX_DRIFT
    if args.plot:
        try:
            plot(blocks, start, args.plot)
        except OSError as exc:  # the disk filled during the soak: exit 2, unless 1 says memory or time grew
            print_error(p.prog, f"--plot {args.plot}: cannot save the plot ({reason_of(exc)})")
            return 2 if held else 1
    return 0 if held else 1


def plot(blocks: list[dict], start: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [b["frames"] for b in blocks]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot([0, *x], [start, *(b["rss_mb"] for b in blocks)], marker=".")
    ax1.set(title="resident memory", xlabel="frames", ylabel="MB")
    ax2.plot(x, [b["frame_ms_median"] for b in blocks], marker=".")
    ax2.set(title="median time per frame", xlabel="frames", ylabel="ms", ylim=(0, None))
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(Path(path)) as tmp:  # the old plot or the new one, never half of one
        fig.savefig(tmp, dpi=100)


if __name__ == "__main__":
    exit_with(main)
