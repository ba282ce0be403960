"""The kiosk window: the mirrored live picture, the emoji, seven probability bars and snapshots.

Tk only draws and schedules. A :class:`Worker` thread takes the newest camera frame, runs the
pipeline and leaves ``(frame, result)`` in a one-slot mailbox; the Tk thread polls it every
:data:`POLL_MS` ms and draws. Snapshots are classified and saved on the worker too, so neither
the camera, the model nor the disk can freeze the window. Everything on screen is drawn with
Pillow at the widget's current size and shown through ``ImageTk.PhotoImage``, so text and emoji
stay crisp from an 800x480 touchscreen to a 1920x1080 monitor.

Which screen is up (starting, no picture, live, countdown, result) and what it shows is decided
by :class:`emojify.screens.Screens`, without Tk; drawing is in :mod:`emojify.render` (pure
functions, arrays and values in, a Pillow image out). :class:`App` keeps the window, kiosk mode,
keys and touch, and blits what the screens ask for. Only :func:`run_app` knows about settings.
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
from pathlib import Path

import numpy as np
from PIL import Image, ImageTk

from emojify import texts
from emojify.classifier import Classifier
from emojify.composite import compose, save_composite
from emojify.config import ConfigError, Settings
from emojify.emojis import EmojiSet, load_emoji_set
from emojify.faces import Detector
from emojify.fileio import atomic_path
from emojify.pipeline import Pipeline, Result
from emojify.render import BACKGROUND, ERROR, OK, clamp, render_feed, render_message, render_panel
from emojify.screens import COUNTDOWN, MESSAGE_SCREENS, FeedView, Screens, Snapshot, Timings, View
from emojify.smoothing import Smoother
from emojify.sources import CaptureThread, Reader, open_reader, parse_source, pi_camera_found

log = logging.getLogger(__name__)

POLL_MS = 15
"""How often the Tk thread looks for new results (ms)."""
SMOOTHER_RESET_GAP = 1.0
"""A gap this long between processed frames (camera lost, reconnected) starts the smoothing afresh."""
STATE_INTERVAL = 1.0
"""Seconds between writes of the state file (a testing aid)."""
STATE_FILE_ENV = "EMOJIFY_STATE_FILE"
"""Environment variable naming a file the window writes its :meth:`App.state` to, for tests."""
DEFAULT_GEOMETRY = "1100x620"
MIN_SIZE = (480, 300)


# --- the worker thread ---------------------------------------------------------------------

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
                snapshot.error = texts.could_not_save(exc.strerror or exc)
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
    """The kiosk window: it feeds events to :class:`~emojify.screens.Screens` and draws its view.

    Every :data:`POLL_MS` the window hands the worker's results, the source's status and any
    snapshot request to ``self.screens``, lets it tick, and redraws the parts of its
    :class:`~emojify.screens.View` that changed. ``frames_shown`` counts the pictures drawn;
    :meth:`state` gives what tests look at as a JSON-ready dict.
    """

    def __init__(self, root: tk.Tk, settings: Settings, worker: Worker, capture: CaptureThread,
                 emojis: EmojiSet) -> None:
        self.root, self.settings, self.worker, self.capture, self.emojis = root, settings, worker, capture, emojis
        self.screens = Screens(worker.request_snapshot, texts.message_tips(capture.spec, pi_camera_found()),
                               Timings(result=settings.snapshot_seconds), now=time.monotonic())
        self.frames_shown = 0
        self.closed = False
        self.state_file = state_file_path(settings)
        self._snapshot_wanted = threading.Event()
        self._next_state_write = 0.0
        self._size = (0, 0)
        self._drawn: dict[str, object] = {}  # the part ("feed", "panel", "message") -> the view drawn
        self._feed_box = (0, 0, 0, 0)  # where the picture is, in canvas pixels
        self._button_box = (0, 0, 0, 0)

        root.title("emojify")
        root.configure(background=_hex(BACKGROUND))
        root.report_callback_exception = self._report_exception
        self.canvas = tk.Canvas(root, background=_hex(BACKGROUND), highlightthickness=0, borderwidth=0)
        self.canvas.pack(fill="both", expand=True)
        self._feed = _CanvasImage(self.canvas, anchor="center")
        self._panel = _CanvasImage(self.canvas)
        self._message = _CanvasImage(self.canvas)
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
            root.bind(key, lambda _event: self.request_snapshot())
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
                self.request_snapshot()
                return

    def request_snapshot(self) -> None:
        """Ask for a snapshot; safe from any thread (a GPIO button's callback, say).

        The request is picked up by the window's next poll and taken if the live screen is up.
        """
        self._snapshot_wanted.set()

    # --- the poll loop

    def _tick(self) -> None:
        """Every POLL_MS: feed the screens their events, then redraw what changed."""
        if self.closed:
            return
        self.root.after(POLL_MS, self._tick)  # first, so an error below cannot stop the loop
        try:
            self._update()
        except Exception:  # a drawing bug must not freeze the kiosk
            log.exception("error while updating the window; the kiosk goes on")

    def _update(self) -> None:
        now = time.monotonic()
        size = (self.canvas.winfo_width(), self.canvas.winfo_height())
        if size[0] < 2 or size[1] < 2:
            return  # not on screen yet
        if size != self._size:
            self._size = size
            self._drawn.clear()
        screens = self.screens
        live = self.worker.take_live()
        if live is not None:
            screens.frame_arrived(*live)
        done = self.worker.take_snapshot()
        if done is not None:
            screens.snapshot_done(done)
        screens.source_status(self.capture.status, self.capture.message)
        if self._snapshot_wanted.is_set():
            self._snapshot_wanted.clear()
            screens.request_snapshot()
        screens.tick(now)
        self._draw(screens.view())
        if self.state_file is not None and now >= self._next_state_write:
            self._next_state_write = now + STATE_INTERVAL
            self._write_state(self.state_file)

    def _changed(self, part: str, value: object) -> bool:
        """Whether ``part`` must be redrawn to show ``value`` (and note that it will be)."""
        if part in self._drawn and self._drawn[part] == value:
            return False
        self._drawn[part] = value
        return True

    def _draw(self, view: View) -> None:
        """Show the message, or the picture and the panel, redrawing only the parts that changed."""
        if self._changed("message", view.message):
            if view.message is None:
                self._message.hide()
            else:
                m = view.message
                self._message.show(render_message(self._size, m.title, m.detail, list(m.tips), m.footer), 0, 0)
                self.canvas.tag_raise(self._message.item)
                self._feed.hide()
                self._panel.hide()
                self._drawn.pop("feed", None)
                self._drawn.pop("panel", None)
        if view.message is not None:
            return
        w, h = self._size
        pad = int(clamp(min(w, h) * 0.02, 6, 24))
        panel_w = int(clamp(w * 0.32, 220, 640))
        if self._changed("feed", view.feed):
            self._draw_feed(view.feed, (max(1, w - panel_w - 3 * pad), max(1, h - 2 * pad)), pad)
        if self._changed("panel", view.panel) and view.panel is not None:
            x, y = w - panel_w - pad, pad
            image, (bx0, by0, bx1, by1) = render_panel(view.panel, (panel_w, h - 2 * pad), self.emojis)
            self._panel.show(image, x, y)
            self._button_box = (x + bx0, y + by0, x + bx1, y + by1)

    def _draw_feed(self, feed: FeedView | None, area: tuple[int, int], pad: int) -> None:
        if feed is None:
            self._feed.hide()
            return
        banner = None if feed.banner is None else (feed.banner[0], ERROR if feed.banner[1] else OK)
        image = render_feed(feed.frame, area, feed.result, self.emojis, live=feed.live, hint=feed.hint,
                            banner=banner, countdown=feed.countdown)
        cx, cy = pad + area[0] / 2, pad + area[1] / 2
        self._feed.show(image, cx, cy)
        self._feed_box = (int(cx - image.width / 2), int(cy - image.height / 2),
                          int(cx + image.width / 2), int(cy + image.height / 2))
        self.frames_shown += 1

    # --- state for tests

    def state(self) -> dict:
        """What tests look at, JSON-ready: the screen, pictures drawn, label, snapshots, errors."""
        screens, result = self.screens, self.screens.result
        return {
            "screen": screens.state,
            "frames_shown": self.frames_shown,
            "last_label": None if result is None else result.label,
            "face": None if result is None or result.box is None else [int(v) for v in result.box],
            "showing_message": screens.state in MESSAGE_SCREENS,
            "status": screens.status.value,
            "status_text": screens.status_text,
            "snapshots_taken": screens.snapshots_taken,
            "snapshot_path": None if screens.snapshot_path is None else str(screens.snapshot_path),
            "save_error": screens.error,
            "window": list(self._size),
        }

    def _write_state(self, path: Path) -> None:
        """Write :meth:`state` to ``path`` atomically (temporary file + rename)."""
        try:
            with atomic_path(path) as tmp:
                tmp.write_text(json.dumps(self.state()), encoding="utf-8")
        except OSError as exc:
            log.warning("cannot write the state file %s: %s", path, exc)


def state_file_path(settings: Settings) -> Path | None:
    """Where to write the window's state for tests: ``$EMOJIFY_STATE_FILE``, or nowhere."""
    named = os.environ.get(STATE_FILE_ENV)
    return Path(named) if named else None


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
    gpio = None
    if settings.button_pin is not None or settings.led_pin is not None:
        from emojify.gpio import Gpio

        gpio = Gpio(settings.button_pin, settings.led_pin)  # no GPIO here: one line, exit code 2
    try:
        root = tk.Tk(className="emojify")
    except tk.TclError as exc:
        if gpio is not None:
            gpio.close()
        raise DisplayError(f"cannot open the window ({exc}); run it on the desktop or set DISPLAY, "
                           "or check the install with --self-test") from None
    worker = Worker(pipeline, capture, emojis, settings.save_dir)
    capture.start()
    worker.start()
    try:
        app = App(root, settings, worker, capture, emojis)
        if gpio is not None:  # the button asks for a snapshot; the lamp is lit during the countdown
            gpio.on_press = app.request_snapshot
            app.screens.on_state_change.append(lambda _old, new: gpio.lamp(new == COUNTDOWN))
        previous = signal.signal(signal.SIGTERM, lambda *_: root.after_idle(app.close))
        try:
            root.mainloop()
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        worker.stop()
        capture.stop()
        if gpio is not None:
            gpio.close()
        with contextlib.suppress(tk.TclError):
            root.destroy()
    log.info("bye")
    return 0
