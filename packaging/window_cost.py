#!/usr/bin/env python3
"""What the kiosk's window costs: frames shown a second and processor time per shown frame, by screen size.

    python packaging/window_cost.py [--sizes 800x480 1280x720 1920x1080] [--seconds 20] [--json]

For each screen size, starts a virtual screen (Xvfb) of that size and the kiosk on it (``emojify
--kiosk``, fullscreen) with a 30 fps 640x480 video as the camera: the sample face drifting, as in
``emojify bench``. After a warm-up it counts, over ``--seconds``, the frames the window drew (from
the state file the window writes for tests) and the processor time of the kiosk's whole process
(camera decoding, faces, expressions and window; from /proc), and reports shown frames a second and
CPU ms per shown frame. The processor time suffers less than the frame rate from other processes on
a busy machine. Needs Linux and Xvfb (``apt install xvfb``).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from emojify.bench import cpu_name, synthetic_stream

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with, number, screen_size  # the script beside this one

VIDEO_FPS = 30
WARM_UP = 8.0
DEFAULT_SIZES = ("800x480", "1280x720", "1920x1080")


def start_screen(*sizes: str) -> tuple[subprocess.Popen, str]:
    """Xvfb with one screen per ``WxH`` size (``:N.0``, ``:N.1``, ...), on a display number it picks
    itself and tells through a pipe (``-displayfd``), so that it never takes another X server's
    number; raises RuntimeError where it does not start. The tests' virtual screens use it too."""
    layout = [arg for i, size in enumerate(sizes) for arg in ("-screen", str(i), f"{size}x24")]
    read_end, write_end = os.pipe()
    try:
        screen = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), *layout, "-nolisten", "tcp"],
                                  pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        number = pipe.readline().strip() if select.select([pipe], [], [], 10)[0] else b""
    if not number.isdigit():
        screen.kill()
        screen.wait(5)
        raise RuntimeError(f"Xvfb did not start (screens {' '.join(sizes)}; it named no display)")
    return screen, f":{int(number)}"


def write_video(path: Path, seconds: int = 10) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), VIDEO_FPS, (640, 480))
    for _, frame in zip(range(VIDEO_FPS * seconds), synthetic_stream(), strict=False):
        writer.write(frame)
    writer.release()


def process_cpu_seconds(pid: int) -> float:
    """User plus system processor time of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def frames_shown(state: Path) -> int:
    for _ in range(50):
        try:
            return json.loads(state.read_text())["frames_shown"]
        except (OSError, ValueError):
            time.sleep(0.02)  # being written
    raise RuntimeError("the kiosk's window drew nothing (run it by hand to see why: emojify --kiosk)")


def state_version(state: Path) -> tuple[int, int] | None:
    """Which writing of the state file is there now (each is a new file, moved in whole); None before the first."""
    try:
        info = state.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


def next_reading(state: Path, pid: int) -> tuple[int, float, float]:
    """The frames shown, the kiosk's processor seconds and the clock, all three as the kiosk next rewrites
    its state file: it does so once a second (``emojify.app.STATE_INTERVAL``), so a count read at any other
    moment is up to a second older than the clock and the processor time read beside it."""
    was, deadline = state_version(state), time.monotonic() + 10
    while time.monotonic() < deadline:
        if state_version(state) not in (was, None):
            return frames_shown(state), process_cpu_seconds(pid), time.monotonic()
        time.sleep(0.002)
    raise RuntimeError("the kiosk stopped writing its state (run it by hand to see why: emojify --kiosk)")


def measure(size: str, video: Path, folder: Path, seconds: float) -> dict:
    screen, display = start_screen(size)
    state = folder / f"state-{size}.json"
    env = {**os.environ, "DISPLAY": display, "EMOJIFY_STATE_FILE": str(state)}
    try:
        kiosk = subprocess.Popen([sys.executable, "-m", "emojify", "--kiosk", "--source", str(video)], env=env)
        try:
            time.sleep(WARM_UP)
            shown0, cpu0, wall0 = next_reading(state, kiosk.pid)
            time.sleep(max(0.0, seconds - 1))  # then the first writing after it: about --seconds, in whole seconds
            shown1, cpu1, wall1 = next_reading(state, kiosk.pid)
        finally:
            kiosk.terminate()
            kiosk.wait(10)
    finally:
        screen.terminate()
        screen.wait(10)
    frames = shown1 - shown0
    return {"screen": size, "shown_fps": round(frames / (wall1 - wall0), 1),
            "cpu_ms_per_shown_frame": round((cpu1 - cpu0) * 1e3 / frames, 2) if frames else None,
            "cpu_share_of_a_core": round((cpu1 - cpu0) / (wall1 - wall0), 3), "source_fps": VIDEO_FPS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=screen_size, default=list(DEFAULT_SIZES), metavar="WxH",
                   help=f"the screen sizes measured, one after the other, each at least 320x240 "
                        f"(default: {' '.join(DEFAULT_SIZES)})")
    p.add_argument("--seconds", type=number(float, 0, above=True), default=20.0,
                   help=f"measured time per size, after a warm-up of {WARM_UP:g} seconds (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object a size instead of a sentence")
    args = p.parse_args(argv)
    if shutil.which("Xvfb") is None:
        p.exit(2, "window_cost.py: needs Xvfb (apt-get install xvfb)\n")
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "camera.avi"
        write_video(video)
        for size in args.sizes:
            try:
                report = measure(size, video, Path(folder), args.seconds)
            except RuntimeError as exc:
                p.exit(1, f"window_cost.py: {size}: {exc}\n")
            report["machine"] = f"{os.cpu_count()} cores, {cpu_name()}"
            print(json.dumps(report) if args.json else
                  f"{size}: {report['shown_fps']} frames shown a second (source {VIDEO_FPS}), "
                  f"{report['cpu_ms_per_shown_frame']} ms CPU per shown frame (whole process), "
                  f"{report['cpu_share_of_a_core']:.0%} of a core", flush=True)
    return 0


if __name__ == "__main__":
    exit_with(main)
