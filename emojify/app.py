"""The kiosk window: the mirrored live picture, the emoji, seven probability bars and snapshots.

Tk only draws and schedules. A :class:`Worker` thread takes the newest camera frame, runs the
pipeline and leaves ``(frame, result)`` in a one-slot mailbox; the Tk thread polls it every
:data:`POLL_MS` ms and draws. Snapshots are classified and saved on the worker too, so neither
the camera, the model nor the disk can freeze the window. Everything on screen is drawn with
Pillow at the widget's current size and shown through ``ImageTk.PhotoImage``, so text and emoji
stay crisp from an 800x480 touchscreen to a 1920x1080 monitor.

Which screen is up (starting, no picture, live, countdown, result, attract, the challenge game,
failure) and what it shows is decided by :class:`emojify.screens.Screens`, without Tk, as a
:class:`~emojify.views.View`; where things go is :mod:`emojify.layout` (the panel beside the
picture on a landscape window, below it on a portrait one; ``--rotate`` turns the whole picture)
and drawing is in :mod:`emojify.render` (pure functions, arrays and values in, a Pillow image
out), one renderer per view type (:data:`FULL_RENDERERS`, :data:`PANEL_RENDERERS`). :class:`App`
keeps the window, kiosk mode, keys and touch, and blits what the screens ask for. Only
:func:`run_app` knows about settings.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import signal
import stat
import threading
import time
import tkinter as tk
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageTk

from emojify import texts
from emojify.classifier import Classifier
from emojify.composite import compose, pil_to_bgr, save_composite, save_stickers
from emojify.config import ConfigError, Settings
from emojify.emojis import EmojiSet, load_emoji_set
from emojify.faces import DETECTORS, BlazeFaceDetector
from emojify.fileio import atomic_path, check_writable, stat_or_none
from emojify.generated import GeneratedEmojiSet, with_generated
from emojify.layout import MIN_WINDOW, Layout, Rect, initial_size, layout, rotate_image, rotated_size, unrotate_point
from emojify.pipeline import Pipeline, Result
from emojify.preprocess import Box
from emojify.render import (
    BACKGROUND,
    ERROR,
    OK,
    CountdownSpot,
    kiosk_layout,
    render_attract,
    render_challenge,
    render_feed,
    render_message,
    render_panel,
)
from emojify.screens import COUNTDOWN, Screens, Snapshot, Timings
from emojify.smoothing import Smoother
from emojify.sources import CaptureThread, Reader, SourceKind, SourceSpec, open_reader, pi_camera_found, probe_source
from emojify.stats import FrameStats
from emojify.views import AttractView, ChallengeView, FeedView, FullView, MessageView, PanelView, View, panel_differs

log = logging.getLogger(__name__)

POLL_MS = 15
"""How often the Tk thread looks for new results (ms)."""
SAVE_WAIT_SECONDS = 6.0
"""How long the kiosk, closing, waits for a snapshot being made and saved (a slow USB stick flushing
the photo and its stickers) beyond the worker's usual 2 s, all told: the worker and the saver end with
the process, and the photo with them. The service's ``TimeoutStopSec=10`` (packaging/emojify.service)
leaves room for both."""
SMOOTHER_RESET_GAP = 1.0
"""A gap this long between processed frames (camera lost, reconnected) starts the live view afresh:
no smoothing, no face followed (:meth:`~emojify.pipeline.Pipeline.restart_live`)."""
STATE_INTERVAL = 1.0
"""Seconds between writes of the state file (a testing aid)."""
STATE_FILE_ENV = "EMOJIFY_STATE_FILE"
"""Environment variable naming a file the window writes its :meth:`App.state` to, for tests."""
ERROR_LOG_SECONDS = 60.0
"""A drawing error that repeats is logged (with its traceback) once in this many seconds."""
SNAPSHOT_KEYS = ("space", "Return", "KP_Enter")
"""The keys that press the kiosk's button."""


class KeyRepeats:
    """Tells a held key's own repeats from new presses, so that a visitor holding Space down gets one
    snapshot, not a new one each time the live view comes back.

    A held key repeats: on X11 as a release and a press with the same time stamp, on Windows and macOS
    as presses with no release between. Tk has no switch for this, hence these few lines.
    """

    LOST_RELEASE_MS = 1000
    """A press this long after the last one with no release between is a new press (a release can be
    missed while the window does not have the focus); repeats come every 25-50 ms."""

    def __init__(self) -> None:
        self._down: dict[str, int] = {}  # key: the time of its last press, until it is released
        self._up: dict[str, int] = {}  # key: the time of its last release

    def press(self, key: str, when: int) -> bool:
        """Note a press of ``key`` at ``when`` (the event's time, ms); whether it is a new press. A
        synthetic event (``xdotool key --window``, Tk's ``event generate``) has no time, 0: each is new."""
        if when == 0:
            return True
        last = self._down.get(key)
        held = last is not None and 0 <= when - last < self.LOST_RELEASE_MS
        self._down[key] = when
        return not held and self._up.get(key) != when

    def release(self, key: str, when: int) -> None:
        """Note a release of ``key`` at ``when``."""
        self._down.pop(key, None)
        self._up[key] = when


FULL_RENDERERS: dict[type, Callable[[Layout, FullView, EmojiSet], Image.Image]] = {
    MessageView: lambda lay, view, emojis: render_message(lay.window, view.title, view.detail, list(view.tips),
                                                          view.footer, lay.text_scale),
    AttractView: lambda lay, view, emojis: render_attract(lay.window, view, emojis, lay.text_scale),
}
"""The renderer of each full-window view type."""
PANEL_RENDERERS = {PanelView: render_panel, ChallengeView: render_challenge}
"""The renderer of each panel view type: it returns the image and the button's box."""


# --- the worker thread ---------------------------------------------------------------------

class Worker:
    """Runs the pipeline off the Tk thread: newest frames for the live view, and snapshots.

    The live result waits in a one-slot mailbox (a newer one replaces an unread one), the snapshots
    in a queue (each is handed once classified, and again with its file or save error); the Tk thread
    takes them with :meth:`take_live` and :meth:`take_snapshot`. A snapshot is written on a thread of
    its own, the saver, so that a save folder that hangs (a failing stick, a network share gone) cannot
    stop the live picture; one at a time.
    """

    def __init__(self, pipeline: Pipeline, capture: CaptureThread, emojis: EmojiSet,
                 save_dir: Path | None, snapshot_style: str = "side") -> None:
        self.pipeline = pipeline
        self.capture = capture
        self.emojis = emojis
        self.save_dir = save_dir
        # a save folder there at start is never made again, nor taken on another disk: a USB stick pulled
        # out takes it (or leaves its empty mount point), and the snapshots would go on the SD card, where
        # nobody looks; "the folder is gone" is said instead. One not there at start is made at a save.
        self._save_disk = _disk_of(save_dir) if save_dir is not None else None
        self.snapshot_style = snapshot_style
        self._lock = threading.Lock()
        self._live: tuple[np.ndarray, Result] | None = None
        self._request: Snapshot | None = None
        self._done: deque[Snapshot] = deque()
        self._stopping = threading.Event()
        self._saving = threading.Event()  # a visitor's photo is being made
        self._thread = threading.Thread(target=self._run, name="emojify worker", daemon=True)
        self._saver: threading.Thread | None = None  # the one writing a photo, while it is at it
        self._search: threading.Thread | None = None  # the photo search begun at the countdown's start
        self._known: list[Box] | None = None  # the faces it found
        self._searcher: BlazeFaceDetector | None = None  # its own model: it runs beside the live frames

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait for it (it checks at least every 50 ms), the longer, up to
        :data:`SAVE_WAIT_SECONDS` more, for a snapshot being made and saved: the threads end with the
        process, and a photo cut off there is lost, its temporary file left in the save folder."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        deadline = time.monotonic() + SAVE_WAIT_SECONDS
        if self._thread.is_alive() and self._saving.is_set():
            log.info("waiting for the snapshot being made")
            self._thread.join(SAVE_WAIT_SECONDS)
        saver = self._saver
        if saver is not None and saver.is_alive():
            log.info("waiting for the snapshot being saved")
            saver.join(max(0.0, deadline - time.monotonic()))

    def take_live(self) -> tuple[np.ndarray, Result] | None:
        """The newest (frame, result) not taken yet, or None."""
        with self._lock:
            item, self._live = self._live, None
        return item

    def request_snapshot(self, request: Snapshot) -> None:
        """Classify (and, with a save folder, save) this still; collect it, with the same request
        number, with :meth:`take_snapshot`."""
        with self._lock:
            self._request = request

    def prepare_still(self, frame: np.ndarray) -> None:
        """The countdown started: search ``frame`` for every face (the photo search, on a thread of
        its own), so that the still taken at the countdown's end needs only a quick look
        (:meth:`Pipeline.analyze_still` with the faces found here)."""
        if self._search is not None and self._search.is_alive():
            return
        with self._lock:
            self._known = None
        self._search = threading.Thread(target=self._search_faces, args=(frame,), name="emojify still search",
                                        daemon=True)
        self._search.start()

    def _search_faces(self, frame: np.ndarray) -> None:
        if not isinstance(self.pipeline.detector, BlazeFaceDetector):
            return  # Haar: the still gets the whole photo search at the countdown's end
        try:
            if self._searcher is None:
                self._searcher = BlazeFaceDetector.for_stills(own_model=True)
            found = self._searcher.detect(frame, self.pipeline.region(frame))
            with self._lock:
                self._known = [d.box for d in found]
        except Exception:  # the still then gets the whole search; the kiosk goes on
            log.exception("worker: the search at the countdown's start failed")

    def _known_faces(self) -> list[Box] | None:
        """The faces the countdown's search found (waiting for it if it is still at work), once."""
        if self._search is not None:
            self._search.join()
            self._search = None
        with self._lock:
            known, self._known = self._known, None
        return known

    def take_snapshot(self) -> Snapshot | None:
        """The oldest snapshot handed and not taken yet, or None."""
        with self._lock:
            return self._done.popleft() if self._done else None

    def _hand(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._done.append(snapshot)

    def _run(self) -> None:
        last_seq, last_time = 0, -math.inf
        while not self._stopping.is_set():
            try:
                with self._lock:
                    request, self._request = self._request, None
                if request is not None:
                    self._saving.set()  # from the still's search on: closing waits for its file
                    try:
                        self._take(request)
                    finally:
                        self._saving.clear()
                    continue
                frame = self.capture.wait_for_frame(0.05, after=last_seq)
                if frame is None:
                    continue
                last_seq = frame.seq
                if frame.time - last_time > SMOOTHER_RESET_GAP:
                    self.pipeline.restart_live()
                last_time = frame.time
                result = self.pipeline.live(frame.image, now=frame.time)
                with self._lock:
                    self._live = (frame.image, result)
            except Exception:  # one bad frame must not stop the kiosk
                log.exception("worker: frame processing failed; going on")
                self._stopping.wait(0.2)

    def _finished(self, request: Snapshot) -> tuple[Snapshot, Image.Image | None]:
        """The snapshot made, with the composite to save (None without a save folder), or marked failed
        with a short message (the screens go back to live)."""
        try:
            return self._snapshot(request)
        except Exception:  # a still that breaks the pipeline must not leave the result screen waiting
            log.exception("snapshot %d failed; back to live", request.request)
            return replace(request, failed=True, error=texts.SNAPSHOT_FAILED), None

    def _snapshot(self, request: Snapshot) -> tuple[Snapshot, Image.Image | None]:
        """The still classified (every face the photo search finds, with the mask style or in party
        mode), and its composite where it is saved."""
        frame, mask = request.frame, self.snapshot_style == "mask"
        result = self.pipeline.analyze_still(frame, self._known_faces(), all_faces=mask or self.pipeline.all_faces,
                                             lead=self.pipeline.tracker.lead_box())
        composite = compose(frame, result, self.emojis, self.snapshot_style) \
            if mask or self.save_dir is not None else None
        snapshot = replace(request, result=result, masked=pil_to_bgr(composite) if mask else None)
        return snapshot, composite if self.save_dir is not None else None

    def _take(self, request: Snapshot) -> None:
        """Make the snapshot and hand it at once; then save it on the saver's thread, which hands it
        again with its file or error. While the last one is still being written (a save folder that
        hangs), it is not saved, and says so."""
        snapshot, composite = self._finished(request)
        if composite is not None and self._saver is not None and self._saver.is_alive():
            log.warning("snapshot %d not saved: the last one is still being written in %s",
                        snapshot.request, self.save_dir)
            snapshot, composite = replace(snapshot, error=texts.STILL_SAVING), None
        self._hand(snapshot)
        if composite is not None:
            self._saver = threading.Thread(target=self._save, args=(snapshot, composite), name="emojify saver",
                                           daemon=True)
            self._saver.start()

    def _save(self, snapshot: Snapshot, composite: Image.Image) -> None:
        try:
            snapshot = self._saved(snapshot, composite)
        except Exception:  # not a disk's error (those are in _saved): the kiosk goes on, and says so
            log.exception("snapshot %d not saved", snapshot.request)
            snapshot = replace(snapshot, error=texts.SNAPSHOT_FAILED)
        self._hand(snapshot)

    def _saved(self, snapshot: Snapshot, composite: Image.Image) -> Snapshot:
        """``snapshot`` with the file its composite was saved as (and its stickers), or with why not."""
        try:
            if self._save_disk is not None and _disk_of(self.save_dir) != self._save_disk:
                raise FileNotFoundError(errno.ENOENT, "the save folder is gone", str(self.save_dir))
            snapshot = replace(snapshot, path=save_composite(composite, self.save_dir, "snapshot",
                                                             make_folder=self._save_disk is None))
            log.info("snapshot saved as %s", snapshot.path)
            if self._save_disk is None:  # made now: from here on it is a folder that was there
                self._save_disk = _disk_of(self.save_dir)
        except OSError as exc:
            log.warning("snapshot not saved in %s: %s", self.save_dir, exc)
            return replace(snapshot, error=texts.could_not_save(exc))
        if isinstance(self.emojis, GeneratedEmojiSet):  # each face's own emoji beside it, a sticker
            try:
                save_stickers(self.emojis, snapshot.result.faces if snapshot.result else (), snapshot.path)
            except OSError as exc:
                log.warning("stickers of %s not saved: %s", snapshot.path, exc)
                snapshot = replace(snapshot, error=texts.could_not_save(exc, stickers=True))
        return snapshot


# --- the window ----------------------------------------------------------------------------

class _CanvasImage:
    """One canvas image item backed by a PhotoImage that is reused while its size stays the same."""

    def __init__(self, canvas: tk.Canvas) -> None:
        self.canvas = canvas
        self.item = canvas.create_image(0, 0, anchor="nw")
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
        if settings.challenge and settings.save_dir is not None:  # an installer waiting for photos learns why none come
            log.warning("save_dir %s: the challenge game takes no snapshots, so nothing is saved there", settings.save_dir)
        self.screens = Screens(worker.request_snapshot, texts.message_tips(capture.spec, capture.spec.kind is SourceKind.CAMERA and pi_camera_found()),
                               Timings(result=settings.snapshot_seconds, attract_after=settings.attract_after),
                               now=time.monotonic(), challenge=settings.challenge,
                               saving=settings.save_dir is not None, shapes=settings.emoji == "generated")
        self.screens.on_state_change.append(self._countdown_started)
        self._live_frame: np.ndarray | None = None  # the newest live picture handed to the screens
        self.frames_shown = 0
        self.stats = FrameStats() if settings.stats else None
        self.closed = False
        self.interrupted = False
        """Ctrl-C came while a window callback ran (Tk hands it to :meth:`_report_exception`)."""
        self.state_file = state_file_path()
        self._snapshot_wanted = threading.Event()
        self._next_state_write = 0.0
        self._size = (0, 0)  # the canvas's size
        self._layout: Layout = layout((1, 1))  # for the drawn (unturned) picture
        self._drawn: dict[str, object] = {}  # the part ("feed", "panel", "full") -> the view drawn
        self._parts: dict[str, tuple[Image.Image, int, int]] = {}  # the part -> its image and place
        self._dirty: set[str] = set()  # the parts set since they were last blitted
        self._feed_box = Rect(0, 0, 0, 0)  # where the picture and the button are, in drawn pixels
        self._button_box = Rect(0, 0, 0, 0)
        self._countdown_spot = CountdownSpot()  # where this countdown's disc stands: it stays while clear
        self._whole = False  # a press anywhere counts (the attract screen)
        self._repeats = KeyRepeats()
        self._errors_logged: dict[str, float] = {}  # a drawing error -> when it was last logged

        root.title("emojify")
        root.configure(background=_hex(BACKGROUND))
        root.report_callback_exception = self._report_exception
        self.canvas = tk.Canvas(root, background=_hex(BACKGROUND), highlightthickness=0, borderwidth=0)
        self.canvas.pack(fill="both", expand=True)
        self._items = {part: _CanvasImage(self.canvas) for part in ("feed", "panel", "full")}
        self._bind_keys()
        if settings.kiosk:
            self._enter_kiosk()
        else:
            width, height = initial_size((root.winfo_screenwidth(), root.winfo_screenheight()))
            root.geometry(f"{width}x{height}")
            root.minsize(*(min(m, s) for m, s in zip(MIN_WINDOW, (width, height), strict=True)))
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
        for key in SNAPSHOT_KEYS:
            root.bind(f"<KeyPress-{key}>", self._on_key)
            root.bind(f"<KeyRelease-{key}>", lambda event: self._repeats.release(event.keysym, event.time))
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
        """Tk's hook for errors in callbacks: log them and keep the kiosk running; but Ctrl-C (raised
        in whichever callback runs when it comes, 3 times in 8) closes the window, as it does between
        callbacks, and :func:`run_app` raises it again once the threads are stopped."""
        if issubclass(kind, KeyboardInterrupt):
            self.interrupted = True
            self.close()
            return
        log.error("error in a window callback; the kiosk goes on", exc_info=(kind, value, tb))

    def _on_key(self, event: tk.Event) -> None:
        """A snapshot key presses the button; its repeats while it is held do not."""
        if self._repeats.press(event.keysym, event.time):
            self.request_snapshot()

    def _on_press(self, event: tk.Event) -> None:
        """A click or touch on the picture or on the button presses the button (anywhere on the
        attract screen)."""
        point = unrotate_point((event.x, event.y), self._size, self.settings.rotate)
        if self._whole or self._feed_box.contains(point) or self._button_box.contains(point):
            self.request_snapshot()

    def _countdown_started(self, _old: str, new: str) -> None:
        """The still's search starts with the countdown, on the picture shown then; its disc's place
        is chosen afresh."""
        if new != COUNTDOWN:
            return
        self._countdown_spot = CountdownSpot()
        if self._live_frame is not None:
            self.worker.prepare_still(self._live_frame)

    def request_snapshot(self) -> None:
        """Press the kiosk's button; safe from any thread (a GPIO button's callback, say).

        The request is picked up by the window's next poll: the live screen takes a snapshot (in
        challenge mode it starts a round; on the attract screen it brings the live view back).
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
        except Exception as exc:  # noqa: BLE001 - a drawing bug must not freeze the kiosk; it is logged
            self._drawing_failed(exc)

    def _drawing_failed(self, exc: Exception) -> None:
        """Log a drawing error once per :data:`ERROR_LOG_SECONDS` while it repeats, and tell the screens
        (repeated failures bring up the failure screen, which recovers by itself)."""
        now = time.monotonic()
        key = f"{type(exc).__name__}: {exc}"
        if now - self._errors_logged.get(key, -math.inf) >= ERROR_LOG_SECONDS:
            self._errors_logged[key] = now
            log.error("error while updating the window (logged once a minute while it repeats); the kiosk goes on",
                      exc_info=exc)
        self._drawn.clear()  # what failed was noted as drawn: draw every part again
        self.screens.drawing_failed(now)

    def _update(self) -> None:
        now = time.monotonic()
        size = (self.canvas.winfo_width(), self.canvas.winfo_height())
        if size[0] < 2 or size[1] < 2:
            return  # not on screen yet
        if size != self._size:
            self._size = size
            self._layout = kiosk_layout(rotated_size(size, self.settings.rotate), self.settings.large_text)
            self._drawn.clear()
        screens = self.screens
        live = self.worker.take_live()
        if live is not None:
            self._live_frame = live[0]
            screens.frame_arrived(*live)
        while (done := self.worker.take_snapshot()) is not None:
            screens.snapshot_done(done)
        screens.source_status(self.capture.status, texts.status_message(self.capture.spec, self.capture.event))
        if self._snapshot_wanted.is_set():
            self._snapshot_wanted.clear()
            screens.request_snapshot()
        screens.tick(now)
        self._draw(screens.view())
        if self.stats is not None:
            latest = self.capture.latest()
            self.stats.poll(self.frames_shown, None if latest is None else latest.seq)
        if self.state_file is not None and now >= self._next_state_write:
            self._next_state_write = now + STATE_INTERVAL
            self._write_state(self.state_file)

    def _changed(self, part: str, value: object) -> bool:
        """Whether ``part`` must be redrawn to show ``value`` (and note that it will be); the panel only
        when it would look different (:func:`~emojify.views.panel_differs`)."""
        if part in self._drawn and (not panel_differs(self._drawn[part], value) if part == "panel"
                                    else self._drawn[part] == value):
            return False
        self._drawn[part] = value
        return True

    def _draw(self, view: View) -> None:
        """Render the parts of ``view`` that changed, then show them."""
        full = view.full
        self._whole = view.attract is not None
        changed = [part for part, value in (("full", full), ("feed", view.feed), ("panel", view.panel))
                   if (part == "full" or full is None) and self._changed(part, value)]
        if "full" in changed:
            self._set("full", None if full is None else (self._render_full(full), 0, 0))
            if full is not None:  # drawn again when the message goes
                for part in ("feed", "panel"):
                    self._set(part, None)
                    self._drawn.pop(part, None)
        if "feed" in changed:
            self._set("feed", None if view.feed is None else self._render_feed(view.feed, self._layout.feed))
        if "panel" in changed:
            self._set("panel", None if view.panel is None else self._render_panel(view.panel, self._layout.panel))
        if changed:
            self._show()

    def _set(self, part: str, placed: tuple[Image.Image, int, int] | None) -> None:
        if placed is None:
            self._parts.pop(part, None)
        else:
            self._parts[part] = placed
        self._dirty.add(part)

    def _render_full(self, full: FullView) -> Image.Image:
        """A full-window view (a message, the attract screen), by its type's renderer."""
        return FULL_RENDERERS[type(full)](self._layout, full, self.emojis)

    def _render_feed(self, feed: FeedView, area: Rect) -> tuple[Image.Image, int, int]:
        """The picture centred in ``area``; notes where it is, for touches."""
        banner = None if feed.banner is None else (feed.banner[0], ERROR if feed.banner[1] else OK)
        image = render_feed(feed.frame, area.size, feed.result, self.emojis, live=feed.live, hint=feed.hint,
                            banner=banner, countdown=feed.countdown, text_scale=self._layout.text_scale,
                            countdown_spot=self._countdown_spot)
        x, y = area.x + (area.w - image.width) // 2, area.y + (area.h - image.height) // 2
        self._feed_box = Rect(x, y, image.width, image.height)
        self.frames_shown += 1
        return image, x, y

    def _render_panel(self, panel: PanelView | ChallengeView, area: Rect) -> tuple[Image.Image, int, int]:
        """The panel (the challenge's in a round) in ``area``; notes where its button is."""
        render = PANEL_RENDERERS[type(panel)]
        image, (bx0, by0, bx1, by1) = render(panel, area.size, self.emojis, self._layout.text_scale)
        self._button_box = Rect(area.x + bx0, area.y + by0, bx1 - bx0, by1 - by0)
        return image, area.x, area.y

    def _show(self) -> None:
        """Blit the parts set since the last blit, each on its own canvas image (the others stay as
        they are), or, turned, the window as one picture."""
        rotate = self.settings.rotate
        dirty, self._dirty = self._dirty, set()
        if rotate == 0:
            for part in dirty:
                if part in self._parts:
                    self._items[part].show(*self._parts[part])
                else:
                    self._items[part].hide()
            return
        whole = Image.new("RGB", self._layout.window, BACKGROUND)
        for part in ("feed", "panel", "full"):
            if part in self._parts:
                image, x, y = self._parts[part]
                whole.paste(image, (x, y))
        self._items["feed"].hide()
        self._items["panel"].hide()
        self._items["full"].show(rotate_image(whole, rotate), 0, 0)

    # --- state for tests

    def state(self) -> dict:
        """What tests look at, JSON-ready: the screens' :meth:`~emojify.screens.Screens.current` state,
        the pictures drawn, the window's size, layout and language, and the panel's title and button as drawn."""
        now, panel = self.screens.current(), self._drawn.get("panel")
        return {
            "screen": now.screen,
            "frames_shown": self.frames_shown,
            "last_label": now.label,
            "box": None if now.box is None else list(now.box),
            "showing_message": now.showing_message,
            "status": now.status.value,
            "status_text": now.status_text,
            "snapshots_taken": now.snapshots_taken,
            "snapshot_path": None if now.snapshot_path is None else str(now.snapshot_path),
            "save_error": now.error,
            "drawing_failures": now.drawing_failures,
            "window": list(self._size),
            "layout": "portrait" if self._layout.portrait else "landscape",
            "language": texts.language(),
            "panel_texts": None if panel is None else [panel.title, panel.button],
            "challenge": None if now.challenge is None else asdict(now.challenge),
        }

    def _write_state(self, path: Path) -> None:
        """Write :meth:`state` to ``path`` atomically (temporary file + rename)."""
        try:
            with atomic_path(path) as tmp:
                tmp.write_text(json.dumps(self.state()), encoding="utf-8")
        except OSError as exc:
            log.warning("cannot write the state file %s: %s", path, exc)


def state_file_path() -> Path | None:
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
    if key.isdigit():  # <Control-1> would be mouse button 1 (a Ctrl+click)
        variants = {f"Key-{key}"}
    return [f"<{'-'.join([*modifiers, k])}>" for k in sorted(variants)]


class DisplayError(ConfigError):
    """No screen to open the window on (no X display or Wayland); a one-line message for the CLI."""


def open_source(spec: SourceSpec, settings: Settings) -> Reader:
    """Open ``spec`` as the settings ask: the camera at ``camera_size``, pictures at ``folder_fps``."""
    return open_reader(spec, settings.camera_width, settings.camera_height, settings.folder_fps)


def _disk_of(folder: Path) -> int | None:
    """The device number of the disk ``folder`` is on, or None where it is no folder (now)."""
    info = stat_or_none(folder)
    return info.st_dev if info is not None and stat.S_ISDIR(info.st_mode) else None


def run_app(settings: Settings, opener: Callable[[], Reader] | None = None) -> int:
    """Load everything, open the kiosk window and run it until the exit keys; returns 0.

    The model, emoji and face detector are loaded before the window opens, so a bad file ends
    with the CLI's one-line error (exit code 2) instead of a broken window. ``opener`` replaces
    the source's reader (tests drive the window with a scripted camera that fails on cue).
    """
    texts.set_language(settings.language)
    # OpenCV's own thread pool off: the kiosk already keeps its three threads (camera, faces, window)
    # busy on their own small pictures, and handing each resize to a pool costs more in waking and
    # waiting than it saves (packaging/window_cost.py: see docs/performance.md).
    cv2.setNumThreads(1)
    classifier = Classifier(settings.model)
    emojis = load_emoji_set(settings.emoji_dir)
    if settings.emoji == "generated":
        emojis = with_generated(emojis)
    detector = DETECTORS[settings.detector]()
    # The face mesh (2.5-3 ms a face and frame) only where its shapes are drawn: the generated emoji.
    pipeline = Pipeline(classifier, detector, region_fraction=settings.region,
                        smoother=Smoother(alpha=settings.smoothing), all_faces=settings.faces == "all",
                        shapes=settings.emoji == "generated")
    if settings.save_dir is not None and settings.save_dir.is_dir():  # one not there yet is made at the first save
        check_writable(settings.save_dir, "--save-dir (save_dir in a settings file)")  # read-only: now, not at a visitor
    spec = settings.source
    if opener is None:
        probe_source(spec)  # a file that is no picture, or a Pi camera without Picamera2: one line, exit code 2
    capture = CaptureThread(spec, opener=opener or (lambda: open_source(spec, settings)))
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
                           "or see what emojify doctor says") from None
    worker = Worker(pipeline, capture, emojis, settings.save_dir, settings.snapshot_style)
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
        if app.interrupted:
            raise KeyboardInterrupt
    finally:
        worker.stop()
        capture.stop()
        if gpio is not None:
            gpio.close()
        with contextlib.suppress(tk.TclError):
            root.destroy()
    log.info("bye")
    return 0
