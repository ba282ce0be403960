"""Helpers shared by the test modules (fixtures live in conftest.py, which uses these too).

* ``REPO``, the shipped model's paths, ``FER_ROOT`` (the FER2013 image folders: ``$EMOJIFY_FER2013``,
  else ``../shared/data/fer2013`` beside the checkout) and ``ASTRONAUT_FACE``.
* Tiny FER-style data sets written into a folder: :func:`make_fer_folder` (the Kaggle image-folder
  layout) and :func:`write_fer_csv` (the original ``fer2013.csv``). Images are generated, never
  copied from the real data set.
* :func:`load_script` imports a script of ``packaging/`` as a module.
* :func:`run_cli` runs ``python -m emojify ...`` in a subprocess and returns (code, stdout, stderr).
* The fake camera (:class:`FakeCamera`), the astronaut as a webcam frame, and :class:`Kiosk`, which
  runs ``emojify run`` on a virtual screen and drives it.

Test modules import them with ``from helpers import ...`` (pytest puts ``tests/`` on the path);
no test module imports another.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import ctypes.util
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from emojify.app import STATE_FILE_ENV
from emojify.labels import CLASSES
from emojify.sources import Frame, SourceSpec

REPO = Path(__file__).resolve().parents[1]
FER_ROOT = Path(os.environ.get("EMOJIFY_FER2013", REPO.parent / "shared" / "data" / "fer2013"))
"""FER2013 image folders: ``$EMOJIFY_FER2013``, else ``../shared/data/fer2013`` beside the checkout."""
REAL_ROOT = Path(os.environ.get("EMOJIFY_REALFACES", REPO.parent / "shared" / "data" / "realfaces"))
"""Real photos of faces, ``<class>/*.jpg``: ``$EMOJIFY_REALFACES``, else ``../shared/data/realfaces``."""
MODEL = REPO / "model" / "emotion_int8.tflite"
MODEL_JSON = MODEL.with_suffix(".json")

ASTRONAUT_FACE = (170, 50, 110, 120)
"""(x, y, w, h): roughly where the astronaut's face is in the 512x512 photo."""


def load_script(name: str):
    """``packaging/<name>.py`` imported as the module ``name`` (registered, so its dataclasses work)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "packaging" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- the measuring scripts of packaging/, run as a user runs them -------------------------------

WITHOUT = "import runpy, sys\nfor name in {modules!r}: sys.modules[name] = None\nsys.argv = sys.argv[1:]\n" \
          "runpy.run_path(sys.argv[0], run_name='__main__')"
"""Runs a script as if the named libraries were not installed (an import of them fails)."""


def run_script(name: str, *args: str, timeout: float = 300, without: tuple[str, ...] = (),
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``packaging/<name>.py ARGS``; with ``without``, as if those libraries were not installed."""
    start = ["-c", WITHOUT.format(modules=without)] if without else []
    return subprocess.run([sys.executable, *start, str(REPO / "packaging" / f"{name}.py"), *args], capture_output=True,
                          text=True, timeout=timeout, check=False, cwd=REPO, env=env)


def assert_one_error_line(done: subprocess.CompletedProcess, script: str, start: str = "") -> str:
    """The script stopped with exit code 2 and its one error line (``SCRIPT.py: error: START...``) on
    stderr, nothing on stdout and no traceback; returns the line."""
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1 and errors[0] == lines[-1], done.stderr
    assert lines[-1].startswith(f"{script}.py: error: {start}"), done.stderr
    return lines[-1]


def largest_face(detector, image: np.ndarray, region=None):
    """The largest face's box that ``detector`` finds in ``image`` (inside ``region``), or None."""
    found = detector.detect(image, region)
    return found[0].box if found else None


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


# --- the texts the renderers draw ----------------------------------------------------------

@dataclass(frozen=True)
class DrawnText:
    """One text a renderer drew: where (x0, y0, x1, y1), its font size, its colour, and the colours
    it stands on (two for a translucent pill over a picture: over black and over white)."""

    text: str
    box: tuple[float, float, float, float]
    size: int
    colour: tuple[int, int, int]
    backgrounds: tuple[tuple[int, int, int], ...]


def blend(colour: tuple[int, int, int], alpha: int, under: tuple[int, int, int]) -> tuple[int, int, int]:
    """``colour`` at opacity ``alpha`` (0..255) over ``under``."""
    a = alpha / 255
    return tuple(round(a * c + (1 - a) * u) for c, u in zip(colour, under, strict=True))


@contextlib.contextmanager
def drawn_texts() -> Iterator[list[DrawnText]]:
    """Record every text :mod:`emojify.render` draws inside the block (its ``put_text`` and
    ``paint_pill``). A plain text's background is what the picture holds under it just before it is
    drawn (the commonest colour of its box); a pill's, its colour over black and over white."""
    from emojify import render

    seen: list[DrawnText] = []
    put_text, paint_pill = render.put_text, render.paint_pill

    def recording_put_text(draw, xy, text, face, colour, anchor="la"):
        box = draw.textbbox(xy, text, font=face, anchor=anchor)
        under = np.asarray(draw._image.convert("RGB").crop(tuple(round(v) for v in box))).reshape(-1, 3)
        colours, counts = np.unique(under, axis=0, return_counts=True)
        background = tuple(int(v) for v in colours[counts.argmax()])
        put_text(draw, xy, text, face, colour, anchor)
        seen.append(DrawnText(text, box, int(face.size), tuple(colour), (background,)))

    def recording_paint_pill(image, place, face, fill, background, disc=False):
        text, box = place[0], paint_pill(image, place, face, fill, background, disc)
        colour, alpha = background[:3], background[3]
        seen.append(DrawnText(text, box, int(face.size), tuple(fill),
                              (blend(colour, alpha, (0, 0, 0)), blend(colour, alpha, (255, 255, 255)))))
        return box

    render.put_text, render.paint_pill = recording_put_text, recording_paint_pill
    try:
        yield seen
    finally:
        render.put_text, render.paint_pill = put_text, paint_pill


def panel_shape(render: Callable, view, size: tuple[int, int], emojis, text_scale: float,
                names: set[str] | None = None, heights: bool = True) -> np.ndarray:
    """What moves when a panel changes shape: its button's box, then each text drawn under its title
    (those in ``names`` where given): the left edge, middle height (0 without ``heights``) and size,
    in drawing order. ``render`` is :func:`emojify.render.render_panel` or ``render_challenge``."""
    with drawn_texts() as seen:
        _, button = render(view, size, emojis, text_scale=text_scale)
    first = 1 if seen[0].text == "?" else 0  # the head first: its title (maybe on several lines) is no row
    title = next(n for n in range(first + 1, len(seen)) if " ".join(t.text for t in seen[first:n]) == view.title)
    rows = [(t.box[0], (t.box[1] + t.box[3]) / 2 if heights else 0, t.size) for t in seen[title:]
            if names is None or t.text in names]
    return np.array([*button, *np.ravel(rows)])


# --- a virtual screen ----------------------------------------------------------------------

SCREEN = (1280, 800)
"""Size of the Xvfb screen the window tests run on."""
WINDOW = (1100, 620)  # the app's default window size on the 1280x800 test screen (layout.initial_size)


def start_xvfb(*screens: tuple[int, int]) -> tuple[subprocess.Popen, str]:
    """An Xvfb server with one screen per size (``:N.0``, ``:N.1``, ...); skips where it cannot start.

    The server picks a free display number itself (``packaging/window_cost.py``'s ``start_screen``),
    so tests never collide with another X server on the machine.
    """
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install xvfb xdotool)")
    try:
        return load_script("window_cost").start_screen(*(f"{w}x{h}" for w, h in screens))
    except RuntimeError as exc:
        pytest.skip(str(exc))


# --- sources and the kiosk window ---------------------------------------------------------

CAMERA = SourceSpec("camera", 0)


def wait_until(condition: Callable[[], object], timeout: float = 3.0) -> bool:
    """Poll ``condition`` every 10 ms until it holds or ``timeout`` s pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


def made_and_saved(worker, request):
    """The kiosk worker's snapshot of ``request``, made and saved on the calling thread (as its own
    thread and its saver's do, one after the other)."""
    snapshot, composite = worker._finished(request)
    return snapshot if composite is None else worker._saved(snapshot, composite)


class FakeCamera:
    """A camera the test drives: plug/unplug it, or set what its reads do next.

    Modes: "frames" (a new numbered frame every 10 ms), "none" (read returns None), "raise"
    (read raises), "empty" (a 0-size array), "resize" (frames alternate between two sizes),
    "stall" (read blocks until the mode changes, then gives a frame), "hold" (read blocks
    while the mode stays "hold"). Each frame carries its number in its first two pixels.
    """

    def __init__(self, plugged: bool = True) -> None:
        self.plugged = plugged
        self.mode = "frames"
        self.count = 0
        self.opened = 0
        self.released = 0
        self.lock = threading.Lock()

    def open(self) -> FakeReader:
        if not self.plugged:
            raise OSError("fake camera: no such device")
        with self.lock:
            self.opened += 1
        return FakeReader(self)

    def next_frame(self, shape: tuple[int, int] = (24, 32)) -> np.ndarray:
        with self.lock:
            self.count += 1
            count = self.count
        image = np.zeros((*shape, 3), np.uint8)
        image[0, 0, 0], image[0, 0, 1] = count % 256, count // 256
        return image


def frame_number(frame: Frame) -> int:
    """The fake camera's number for the frame it made."""
    return int(frame.image[0, 0, 0]) + 256 * int(frame.image[0, 0, 1])


class FakeReader:
    """One open handle on a :class:`FakeCamera`."""

    def __init__(self, camera: FakeCamera) -> None:
        self.camera = camera

    def read(self) -> np.ndarray | None:
        camera = self.camera
        time.sleep(0.01)
        while camera.mode in ("stall", "hold") and camera.plugged:
            time.sleep(0.01)
        if not camera.plugged or camera.mode == "none":
            return None
        if camera.mode == "raise":
            raise RuntimeError("fake driver fault")
        if camera.mode == "empty":
            return np.empty((0, 0, 3), np.uint8)
        if camera.mode == "resize":
            return camera.next_frame((24, 32) if camera.count % 2 else (48, 64))
        return camera.next_frame()

    def release(self) -> None:
        with self.camera.lock:
            self.camera.released += 1


def astronaut_frame() -> np.ndarray:
    """A 640x480 BGR "webcam" frame: scikit-image's smiling astronaut, face in the capture region."""
    data = pytest.importorskip("skimage.data")
    photo = cv2.resize(data.astronaut(), None, fx=1.8, fy=1.8, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(photo[3:483, 83:723, ::-1])


WAIT_SECONDS = 20.0
"""How long a window test waits for what it expects to see (state or screen) before it fails."""


class Kiosk:
    """``emojify run`` as a subprocess on ``display``, with helpers to drive and inspect it."""

    def __init__(self, display: str, workdir: Path, *args: str) -> None:
        self.display = display
        self.state_file = workdir / "state.json"
        self.state_file.unlink(missing_ok=True)  # an earlier kiosk's, in the same folder, is not this one's
        self.env = {**os.environ, "DISPLAY": display, STATE_FILE_ENV: str(self.state_file)}
        self.log = (workdir / "app.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emojify", "run", *args],
            cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.window = self.wait(self._window_id, 30, "the window to appear")

    def _window_id(self) -> str | None:
        found = self.xdotool("search", "--name", "^emojify$")
        return found.split()[0] if found else None

    def xdotool(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=False).stdout.strip()

    def wait(self, probe: Callable[[], object], timeout: float, what: str) -> object:
        """Poll ``probe`` until it returns something truthy; fail naming ``what`` (with the log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = probe()
            if value is not None and value is not False and (isinstance(value, np.ndarray) or value):
                return value
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}; exit code {self.process.poll()}; "
                    f"state {self.state()}; log:\n{self.log_text()}")

    def state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def wait_state(self, check: Callable[[dict], bool], what: str, timeout: float = WAIT_SECONDS) -> dict:
        """Wait until the app's state file satisfies ``check``; return that state."""
        def probe() -> dict | None:
            state = self.state()
            return state if state and check(state) else None

        return self.wait(probe, timeout, what)

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-3000:]

    def key(self, *keys: str) -> None:
        """Type keys into the window (pointer over it and input focus on it, as without a window manager)."""
        self.xdotool("mousemove", "200", "200")
        self.xdotool("windowfocus", "--sync", self.window)
        self.xdotool("key", *keys)

    def touch(self, x: int, y: int) -> None:
        """A click at (x, y) on the app's X screen (``:N.S``: the pointer moves to screen S first)."""
        screen = self.display.rpartition(".")[2] if "." in self.display else "0"
        self.xdotool("mousemove", "--screen", screen, str(x), str(y), "click", "1")

    def close_request(self) -> None:
        """What a window manager's close button does: a WM_DELETE_WINDOW client message."""
        send_wm_delete(self.display, int(self.window))

    def screenshot(self) -> np.ndarray:
        from PIL import ImageGrab

        return np.asarray(ImageGrab.grab(xdisplay=self.display).convert("RGB"), dtype=np.int16)

    def wait_screen(self, check: Callable[[np.ndarray], bool], what: str, timeout: float = WAIT_SECONDS
                    ) -> np.ndarray:
        """Take screenshots until one passes ``check``. Drawing lags the state file a little, and more
        on a busy machine, so this waits as long as :meth:`wait_state`: a wait ends as soon as its
        condition holds, and only a window that never shows it fails."""
        def probe() -> np.ndarray | None:
            screen = self.screenshot()
            return screen if check(screen) else None

        return self.wait(probe, timeout, what)

    def exit_code(self, timeout: float = 15) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the app did not exit; log:\n{self.log_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


def send_wm_delete(display: str, window: int) -> None:
    """Send the ICCCM WM_DELETE_WINDOW request with Xlib through ctypes (no window manager runs)."""
    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]

    class XEvent(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    xlib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    xlib.XOpenDisplay.restype, xlib.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                ctypes.POINTER(XEvent)]
    xlib.XFlush.argtypes = xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = xlib.XOpenDisplay(display.encode())
    assert connection, f"cannot open X display {display}"
    event = XEvent()
    event.xclient.type, event.xclient.window, event.xclient.format = 33, window, 32  # 33: ClientMessage
    event.xclient.message_type = xlib.XInternAtom(connection, b"WM_PROTOCOLS", 0)
    event.xclient.data[0] = xlib.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
    xlib.XSendEvent(connection, window, 0, 0, ctypes.byref(event))
    xlib.XFlush(connection)
    xlib.XCloseDisplay(connection)


def emoji_yellow(pixels: np.ndarray) -> int:
    """How many pixels have an emoji face's yellow (bright red and green, little blue)."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(np.count_nonzero((r > 220) & (g > 160) & (b < 90)))
