"""The kiosk window: the mirrored live picture, the emoji, seven probability bars and snapshots.

Tk only draws and schedules. A :class:`Worker` thread takes the newest camera frame, runs the
pipeline and leaves ``(frame, result)`` in a one-slot mailbox; the Tk thread polls it every
:data:`POLL_MS` ms and draws. Snapshots are classified and saved on the worker too, so neither
the camera, the model nor the disk can freeze the window. Everything on screen is drawn with
Pillow at the widget's current size and shown through ``ImageTk.PhotoImage``, so text and emoji
stay crisp from an 800x480 touchscreen to a 1920x1080 monitor.

Only :func:`run_app` knows about settings; drawing is in :mod:`emojify.render` (pure functions,
arrays and values in, a Pillow image out) and :class:`App` holds the state tests look at.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import threading
import time
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageTk

from emojify.classifier import Classifier
from emojify.composite import compose, save_composite
from emojify.config import ConfigError, Settings
from emojify.emojis import EmojiSet, load_emoji_set
from emojify.faces import Detector
from emojify.pipeline import Pipeline, Result
from emojify.render import (
    BACKGROUND,
    ERROR,
    OK,
    clamp,
    message_tips,
    panel_view,
    render_feed,
    render_message,
    render_panel,
)
from emojify.smoothing import Smoother
from emojify.sources import CaptureThread, Reader, SourceStatus, open_reader, parse_source

log = logging.getLogger(__name__)

POLL_MS = 15
"""How often the Tk thread looks for new results (ms)."""
MESSAGE_DELAY = 1.0
"""Seconds without a new picture (and a source that is not LIVE) before the full-window message."""
STARTING_PATIENCE = 5.0
"""A source still STARTING after this many seconds is shown as missing, not as starting."""
SMOOTHER_RESET_GAP = 1.0
"""A gap this long between processed frames (camera lost, reconnected) starts the smoothing afresh."""
ERROR_SECONDS = 8.0
"""How long a "could not save" message stays on screen."""
STATE_INTERVAL = 1.0
"""Seconds between writes of ``--state-file``."""
DEFAULT_GEOMETRY = "1100x620"
MIN_SIZE = (480, 300)
HINT = "Put your face inside the frame"


# --- the worker thread ---------------------------------------------------------------------

@dataclass
class Snapshot:
    """A still being classified (``result`` None until the worker is done) and where it was saved."""

    frame: np.ndarray
    result: Result | None = None
    path: Path | None = None
    error: str | None = None


class Worker:
    """Runs the pipeline off the Tk thread: newest frames for the live view, and snapshots.

    Results wait in one-slot mailboxes (a newer one replaces an unread one); the Tk thread
    takes them with :meth:`take_live` and :meth:`take_snapshot`.
    """

    def __init__(self, pipeline: Pipeline, capture: CaptureThread, emojis: EmojiSet,
                 save_dir: Path | None) -> None:
        self.pipeline = pipeline
        self.capture = capture
        self.emojis = emojis
        self.save_dir = save_dir
        self._lock = threading.Lock()
        self._live: tuple[np.ndarray, Result] | None = None
        self._request: np.ndarray | None = None
        self._done: Snapshot | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emojify worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait for it (it checks at least every 50 ms)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def take_live(self) -> tuple[np.ndarray, Result] | None:
        """The newest (frame, result) not taken yet, or None."""
        with self._lock:
            item, self._live = self._live, None
        return item

    def request_snapshot(self, frame: np.ndarray) -> None:
        """Classify (and, with a save folder, save) this still; collect it with :meth:`take_snapshot`."""
        with self._lock:
            self._request = frame

    def take_snapshot(self) -> Snapshot | None:
        """A finished snapshot not taken yet, or None."""
        with self._lock:
            item, self._done = self._done, None
        return item

    def _run(self) -> None:
        last_seq, last_time = 0, -math.inf
        while not self._stopping.is_set():
            try:
                with self._lock:
                    request, self._request = self._request, None
                if request is not None:
                    snapshot = self._snapshot(request)
                    with self._lock:
                        self._done = snapshot
                    continue
                frame = self.capture.wait_for_frame(0.05, after=last_seq)
                if frame is None:
                    continue
                last_seq = frame.seq
                if frame.time - last_time > SMOOTHER_RESET_GAP:
                    self.pipeline.smoother.reset()
                last_time = frame.time
                result = self.pipeline.live(frame.image, now=frame.time)
                with self._lock:
                    self._live = (frame.image, result)
            except Exception:  # one bad frame must not stop the kiosk
                log.exception("worker: frame processing failed; going on")
                self._stopping.wait(0.2)

    def _snapshot(self, frame: np.ndarray) -> Snapshot:
        result = self.pipeline.analyze(frame, mirror_average=True)
        snapshot = Snapshot(frame, result)
        if self.save_dir is not None:
            try:
                snapshot.path = save_composite(compose(frame, result, self.emojis), self.save_dir, "snapshot")
                log.info("snapshot saved as %s", snapshot.path)
            except OSError as exc:
                snapshot.error = f"Could not save the snapshot: {exc.strerror or exc}"
                log.warning("snapshot not saved in %s: %s", self.save_dir, exc)
        return snapshot


# --- the window ----------------------------------------------------------------------------

class _CanvasImage:
    """One canvas image item backed by a PhotoImage that is reused while its size stays the same."""

    def __init__(self, canvas: tk.Canvas, anchor: str = "nw") -> None:
        self.canvas = canvas
        self.item = canvas.create_image(0, 0, anchor=anchor)
        self.photo: ImageTk.PhotoImage | None = None

    def show(self, image: Image.Image, x: float, y: float) -> None:
        if self.photo is not None and (self.photo.width(), self.photo.height()) == image.size:
            self.photo.paste(image)
        else:
            self.photo = ImageTk.PhotoImage(image)
            self.canvas.itemconfigure(self.item, image=self.photo)
        self.canvas.coords(self.item, x, y)
        self.canvas.itemconfigure(self.item, state="normal")

    def hide(self) -> None:
        self.canvas.itemconfigure(self.item, state="hidden")


class App:
    """The kiosk window's state and behaviour; see the module docstring for the threading rules.

    Tests read ``last_result``, ``frames_shown`` (feed pictures drawn), ``snapshot_path`` (last
    saved file), ``snapshots_taken``, ``status_text`` (the source's sentence), ``showing_message``
    (the full-window "no picture" message is up), ``mode`` (``"live"`` or ``"snapshot"``) and
    ``save_error``; :meth:`state` gives them as a JSON-ready dict.
    """

    def __init__(self, root: tk.Tk, settings: Settings, worker: Worker, capture: CaptureThread,
                 emojis: EmojiSet, clock: Callable[[], float] = time.monotonic) -> None:
        self.root, self.settings, self.worker, self.capture, self.emojis = root, settings, worker, capture, emojis
        self.clock = clock
        self.last_result: Result | None = None
        self.frames_shown = 0
        self.snapshot_path: Path | None = None
        self.snapshots_taken = 0
        self.status_text = capture.message
        self.showing_message = False
        self.mode = "live"
        self.save_error: str | None = None
        self.closed = False

        now = clock()
        self._started = now
        self._last_frame_at = -math.inf
        self._frame: np.ndarray | None = None
        self._snapshot: Snapshot | None = None
        self._snapshot_until = 0.0
        self._error_until = 0.0
        self._next_state_write = now
        self._feed_dirty = False
        self._size = (0, 0)
        self._feed_box = (0, 0, 0, 0)  # where the picture is, in canvas pixels
        self._button_box = (0, 0, 0, 0)
        self._panel_key: object = None
        self._message_key: object = None

        root.title("emojify")
        root.configure(background=_hex(BACKGROUND))
        root.report_callback_exception = self._report_exception
        self.canvas = tk.Canvas(root, background=_hex(BACKGROUND), highlightthickness=0, borderwidth=0)
        self.canvas.pack(fill="both", expand=True)
        self._feed = _CanvasImage(self.canvas, anchor="center")
        self._panel = _CanvasImage(self.canvas)
        self._message = _CanvasImage(self.canvas)
        self._message.hide()
        self._bind_keys()
        if settings.kiosk:
            self._enter_kiosk()
        else:
            root.geometry(DEFAULT_GEOMETRY)
            root.minsize(*MIN_SIZE)
        self._tick()

    # --- window, keys and exit

    def _enter_kiosk(self) -> None:
        """Fullscreen, no cursor; Escape and the window manager's close request do nothing."""
        root = self.root
        root.geometry(f"{root.winfo_screenwidth()}x{root.winfo_screenheight()}+0+0")
        root.attributes("-fullscreen", True)
        root.configure(cursor="none")
        self.canvas.configure(cursor="none")
        root.protocol("WM_DELETE_WINDOW", lambda: log.info("kiosk: ignoring the window close request"))
        root.after(200, root.focus_force)

    def _bind_keys(self) -> None:
        root = self.root
        for key in ("<space>", "<Return>", "<KP_Enter>"):
            root.bind(key, lambda _event: self.take_snapshot())
        self.canvas.bind("<ButtonPress-1>", self._on_press)
        for sequence in exit_sequences(self.settings.exit_keys):
            root.bind(sequence, lambda _event: self.close())
        if not self.settings.kiosk:
            root.bind("<Escape>", lambda _event: self.close())
            root.protocol("WM_DELETE_WINDOW", self.close)

    def close(self) -> None:
        """Leave the main loop; :func:`run_app` then stops the threads."""
        if not self.closed:
            log.info("closing the window")
            self.closed = True
            self.root.quit()

    def _report_exception(self, kind: type[BaseException], value: BaseException, tb: object) -> None:
        """Tk's hook for errors in callbacks: log them and keep the kiosk running."""
        log.error("error in a window callback; the kiosk goes on", exc_info=(kind, value, tb))

    def _on_press(self, event: tk.Event) -> None:
        """A click or touch on the picture or on the button takes a snapshot."""
        for x0, y0, x1, y1 in (self._feed_box, self._button_box):
            if x0 <= event.x <= x1 and y0 <= event.y <= y1:
                self.take_snapshot()
                return

    # --- snapshot

    def take_snapshot(self) -> None:
        """Freeze the picture on screen and have the worker classify (and maybe save) it."""
        if self.mode != "live" or self.showing_message or self._frame is None:
            return
        self.mode = "snapshot"
        self.snapshots_taken += 1
        self._snapshot = Snapshot(self._frame)
        self._snapshot_until = self.clock() + self.settings.snapshot_seconds
        self.worker.request_snapshot(self._frame)
        self._feed_dirty = True

    def _snapshot_done(self, snapshot: Snapshot) -> None:
        if snapshot.path is not None:
            self.snapshot_path = snapshot.path
        if snapshot.error:
            self.save_error = snapshot.error
            self._error_until = self.clock() + ERROR_SECONDS
        self._feed_dirty = True
        if self._snapshot is not None and snapshot.frame is self._snapshot.frame:
            self._snapshot = snapshot  # still on screen: show its emoji (a late one is only recorded)

    def _back_to_live(self) -> None:
        self.mode, self._snapshot = "live", None
        self._feed_dirty = True

    # --- the poll loop

    def _tick(self) -> None:
        """Every POLL_MS: collect results, switch screens, redraw what changed."""
        if self.closed:
            return
        self.root.after(POLL_MS, self._tick)  # first, so an error below cannot stop the loop
        try:
            self._update()
        except Exception:  # a drawing bug must not freeze the kiosk
            log.exception("error while updating the window; the kiosk goes on")

    def _update(self) -> None:
        now = self.clock()
        size = (self.canvas.winfo_width(), self.canvas.winfo_height())
        if size[0] < 2 or size[1] < 2:
            return  # not on screen yet
        if size != self._size:
            self._size, self._feed_dirty = size, True
        live = self.worker.take_live()
        if live is not None:
            self._last_frame_at = now
            if self.mode == "live":
                self._frame, self.last_result = live
                self._feed_dirty = True
        snapshot = self.worker.take_snapshot()
        if snapshot is not None:
            self._snapshot_done(snapshot)
        if self.mode == "snapshot" and now >= self._snapshot_until:
            self._back_to_live()
        if self.save_error and now >= self._error_until:
            self.save_error, self._feed_dirty = None, True
        self._update_message(now)
        if not self.showing_message:
            self._draw(now)
        if self.settings.state_file and now >= self._next_state_write:
            self._next_state_write = now + STATE_INTERVAL
            self._write_state()

    def _update_message(self, now: float) -> None:
        """Show the full-window message while no pictures arrive; hide it when they are back."""
        status = self.capture.status
        self.status_text = self.capture.message
        if status is SourceStatus.LIVE or now - self._last_frame_at < MESSAGE_DELAY:
            wanted = None
        elif status is SourceStatus.STARTING and now - self._started < STARTING_PATIENCE:
            wanted = (self.status_text, "", [], "")
        else:
            title, tips = message_tips(self.capture.spec)
            wanted = (title, self.status_text, tips, "emojify keeps trying and carries on by itself.")
        if wanted is None:
            if self.showing_message:
                self.showing_message, self._feed_dirty, self._panel_key = False, True, None
                self._message.hide()
            return
        key = (wanted, self._size)
        if key != self._message_key:
            self._message_key = key
            self._message.show(render_message(self._size, *wanted), 0, 0)
        if not self.showing_message:
            self.showing_message = True
            self._feed.hide()
            self._panel.hide()
            self.canvas.tag_raise(self._message.item)

    def _draw(self, now: float) -> None:
        """Redraw the picture (when it changed) and the panel (when what it shows changed)."""
        w, h = self._size
        pad = int(clamp(min(w, h) * 0.02, 6, 24))
        panel_w = int(clamp(w * 0.32, 220, 640))
        feed_area = (max(1, w - panel_w - 3 * pad), max(1, h - 2 * pad))
        if self._feed_dirty:
            self._feed_dirty = False
            self._draw_feed(feed_area, pad)
        if self.mode == "snapshot":
            left = max(0, math.ceil(self._snapshot_until - now))
            done = self._snapshot is not None and self._snapshot.result is not None
            view = panel_view(self._snapshot.result if done and self._snapshot else None,
                              "No face found" if done else "...", f"Back to live in {left}", active=False)
        else:
            view = panel_view(self.last_result, "No face yet", "Snapshot")
        panel_box = (w - panel_w - pad, pad, w - pad, h - pad)
        key = (view, panel_box)
        if key != self._panel_key:
            self._panel_key = key
            image, (bx0, by0, bx1, by1) = render_panel(view, (panel_w, h - 2 * pad), self.emojis)
            self._panel.show(image, panel_box[0], panel_box[1])
            self._button_box = (panel_box[0] + bx0, pad + by0, panel_box[0] + bx1, pad + by1)

    def _draw_feed(self, area: tuple[int, int], pad: int) -> None:
        banner = None
        if self.save_error:
            banner = (self.save_error, ERROR)
        elif self.mode == "snapshot" and self._snapshot is not None and self._snapshot.path is not None:
            banner = ("Snapshot saved", OK)
        if self.mode == "snapshot" and self._snapshot is not None:
            snap = self._snapshot
            image = render_feed(snap.frame, area, snap.result, self.emojis, live=False, banner=banner)
        elif self._frame is not None:
            result = self.last_result
            hint = HINT if result is None or result.label is None else None
            image = render_feed(self._frame, area, result, self.emojis, hint=hint, banner=banner)
        else:
            self._feed.hide()
            return
        cx, cy = pad + area[0] / 2, pad + area[1] / 2
        self._feed.show(image, cx, cy)
        self._feed_box = (int(cx - image.width / 2), int(cy - image.height / 2),
                          int(cx + image.width / 2), int(cy + image.height / 2))
        self.frames_shown += 1

    # --- state for tests

    def state(self) -> dict:
        """The window's state, JSON-ready."""
        result = self.last_result
        return {
            "frames_shown": self.frames_shown,
            "last_label": None if result is None else result.label,
            "face": None if result is None or result.box is None else [int(v) for v in result.box],
            "showing_message": self.showing_message,
            "status": self.capture.status.value,
            "status_text": self.status_text,
            "mode": self.mode,
            "snapshots_taken": self.snapshots_taken,
            "snapshot_path": None if self.snapshot_path is None else str(self.snapshot_path),
            "save_error": self.save_error,
            "window": list(self._size),
        }

    def _write_state(self) -> None:
        """Write :meth:`state` to ``settings.state_file`` atomically (temporary file + rename)."""
        path = self.settings.state_file
        if path is None:
            return
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(json.dumps(self.state()), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write the state file %s: %s", path, exc)


def _hex(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def exit_sequences(keys: str) -> list[str]:
    """Tk event sequences for an exit combination; a letter key is bound in both cases.

    With Shift held X reports the upper-case keysym (``Q``), with Caps Lock too, so
    ``Control-Shift-q`` is bound as ``<Control-Shift-q>`` and ``<Control-Shift-Q>``.
    """
    *modifiers, key = keys.split("-")  # config.py has checked it ("Control--" became "Control-minus")
    variants = {key, key.lower(), key.upper()} if len(key) == 1 and key.isalpha() else {key}
    return [f"<{'-'.join([*modifiers, k])}>" for k in sorted(variants)]


class DisplayError(ConfigError):
    """No screen to open the window on (no X display or Wayland); a one-line message for the CLI."""


def run_app(settings: Settings, opener: Callable[[], Reader] | None = None) -> int:
    """Load everything, open the kiosk window and run it until the exit keys; returns 0.

    The model, emoji and face detector are loaded before the window opens, so a bad file ends
    with the CLI's one-line error (exit code 2) instead of a broken window. ``opener`` replaces
    the source's reader (tests drive the window with a scripted camera that fails on cue).
    """
    classifier = Classifier(settings.model)
    emojis = load_emoji_set(settings.emoji_dir)
    detector = Detector.named(settings.detector).value()
    pipeline = Pipeline(classifier, detector, region_fraction=settings.region,
                        smoother=Smoother(alpha=settings.smoothing), all_faces=settings.faces == "all")
    spec = parse_source(settings.source)
    capture = CaptureThread(
        spec, opener=opener or (lambda: open_reader(spec, settings.camera_width, settings.camera_height)))
    try:
        root = tk.Tk(className="emojify")
    except tk.TclError as exc:
        raise DisplayError(f"cannot open the window ({exc}); run it on the desktop or set DISPLAY, "
                           "or check the install with --self-test") from None
    worker = Worker(pipeline, capture, emojis, settings.save_dir)
    capture.start()
    worker.start()
    try:
        app = App(root, settings, worker, capture, emojis)
        previous = signal.signal(signal.SIGTERM, lambda *_: root.after_idle(app.close))
        try:
            root.mainloop()
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        worker.stop()
        capture.stop()
        with contextlib.suppress(tk.TclError):
            root.destroy()
    log.info("bye")
    return 0
