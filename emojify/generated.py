"""The generated emoji: a face in the style of the shipped set, drawn from a face's :class:`Shape`.

The expression the model reads sets the base (the disc's colours and its extras: tears for sad, the
red of angry, disgust's green and blush, fear's blue brow); the shape moves the features: eyes and
lids (``eyes_open``), brows (``brows``), the mouth (``mouth_open``, ``smile``), and the whole face
turns with ``roll`` and looks aside with ``yaw``/``pitch``. Features are polygons drawn on masks
:data:`SUPERSAMPLE` times larger and reduced (anti-aliasing), the disc's gradient and soft edge are
computed once per size and base, and whole pictures are cached by the shape rounded to
:data:`~emojify.shape.QUANTUM` (:meth:`Shape.quantised`), so a face that keeps still costs nothing (``packaging/generated_bench.py`` times it).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from emojify.emojis import CACHED_SIDE, EmojiSet
from emojify.labels import CLASSES
from emojify.shape import Shape

SUPERSAMPLE = 3
CACHE_SIZE = 256
CACHE_PIXELS = 2**25
"""The generated pictures kept hold at most this many pixels in all (128 MB of RGBA), and one of over
an eighth of it (a photo's composite) is not kept: each new face shape is a new picture."""
STICKER_PX = 512
"""Side of the PNG stickers ``predict --out DIR --emoji generated`` writes."""
FEATURE = (66, 43, 13)
"""Noto's dark brown for eyes, brows and mouth."""
MOUTH_INSIDE = (92, 38, 28)
TEETH = (250, 250, 250)
TONGUE = (240, 98, 104)
TEAR = (74, 158, 238)
BLUSH = (240, 120, 110)
GRIN_FROM = 0.4
"""A smile (after the base's bias) over this is drawn as a grin (:func:`grin_of`)."""
TEETH_SHARE = 0.45
"""The upper teeth fill this share of a grin's open mouth's height."""
GRIN_OPENING = 0.08
"""A grin's least opening beyond a closed mouth's: its teeth show from the start (an opening growing from
nothing was, for a small grin, a hairline no wider than the lips' line, and sad's full smile, 0.5 after its
bias, showed no teeth while the other bases grinned)."""
LIP = 0.03
"""The lips' line: half the closed mouth's thickness, the open mouth's rim (in the face's units, 1 = the disc's radius)."""
O_RISE = 0.25
O_ROUND = 1.5
"""An open mouth that does not smile is an "O", as the set's surprised face has it: this share of the
opening lies above the corners (the upper lip arches up), and the lips are half ellipses as far as
``O_ROUND`` times ``mouth_open`` (a parabola's lower lip, wide open, comes to a point: a "V")."""
MOUTH_LOWEST = 0.88
"""The open mouth's lowest point, within the disc's edge at 1 (a wide smile with the mouth wide open reaches it)."""


@dataclass(frozen=True)
class Base:
    """One expression's base: the disc's centre and edge colours, a top tint (colour, strength) and extras."""

    centre: tuple[int, int, int] = (255, 225, 75)
    edge: tuple[int, int, int] = (250, 170, 30)
    top: tuple[tuple[int, int, int], float] | None = None
    tears: bool = False
    blush: bool = False
    brow_bias: float = 0.0
    """Added to the shape's brows (angry's brows are drawn down even when the face's are not)."""
    smile_bias: float = 0.0
    mouth_bias: float = 0.0
    """Added to the shape's mouth_open (surprise's mouth stays a little open)."""


BASES = {
    "angry": Base((255, 150, 80), (225, 70, 40), ((215, 40, 30), 0.6), brow_bias=-0.8, smile_bias=-0.3),
    "disgust": Base((200, 220, 90), (140, 190, 60), blush=True, brow_bias=-0.3, smile_bias=-0.4),
    "fear": Base(top=((90, 120, 230), 0.75), brow_bias=0.5, mouth_bias=0.2),
    "happy": Base(smile_bias=0.6),
    "neutral": Base(),
    "sad": Base(tears=True, brow_bias=0.3, smile_bias=-0.5),
    "surprise": Base(brow_bias=0.4, mouth_bias=0.3),
}
assert set(BASES) == set(CLASSES)


def disc(label: str, size: int) -> Image.Image:
    """The base disc of ``label`` at ``size`` px: a radial gradient lit from the top left, a tint
    from the top where the base has one, an anti-aliased edge, transparent around. Kept up to
    :data:`~emojify.emojis.CACHED_SIDE` px (callers must not modify it)."""
    return _kept_disc(label, size) if size <= CACHED_SIDE else _disc(label, size)


@lru_cache(maxsize=32)
def _kept_disc(label: str, size: int) -> Image.Image:
    return _disc(label, size)


def _disc(label: str, size: int) -> Image.Image:
    base = BASES[label]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    c, radius = size / 2, size * 0.47
    r = np.hypot(xx - c, yy - c) / radius
    light = np.clip(np.hypot(xx - c * 0.8, yy - c * 0.7) / (radius * 1.25), 0, 1) ** 1.6
    rgb = (np.array(base.centre, np.float32) * (1 - light[..., None]) + np.array(base.edge, np.float32) * light[..., None])
    if base.top:
        colour, strength = base.top
        weight = np.clip(1 - (yy - (c - radius)) / (1.1 * radius), 0, 1)[..., None] * strength
        rgb = rgb * (1 - weight) + np.array(colour, np.float32) * weight
    alpha = np.clip((1 - r) * radius + 0.5, 0, 1) * 255  # one pixel of soft edge
    return Image.fromarray(np.dstack([rgb, alpha]).astype(np.uint8), "RGBA")


class _Pen:
    """Draws polygons given in the face's units (-1..1 across the disc, y down) onto a picture, each
    on its own small mask :data:`SUPERSAMPLE` times larger, reduced and pasted in its colour (small
    masks: a whole-picture mask per colour costs 15 times more at 512 px). The face is turned by its
    roll and shifted by its yaw and pitch."""

    def __init__(self, picture: Image.Image, roll: float, shift: tuple[float, float]):
        self.picture, self.size = picture, picture.size[0]
        self.cos, self.sin = math.cos(math.radians(roll)), math.sin(math.radians(roll))
        self.shift = shift

    def polygon(self, points: np.ndarray, colour: tuple[int, int, int], fill: int = 255) -> None:
        x, y = points[:, 0] + self.shift[0], points[:, 1] + self.shift[1]
        half = self.size * 0.47
        xs = self.size / 2 + half * (x * self.cos - y * self.sin)
        ys = self.size / 2 + half * (x * self.sin + y * self.cos)
        x0, y0 = max(0, int(xs.min()) - 1), max(0, int(ys.min()) - 1)
        x1, y1 = min(self.size, int(xs.max()) + 2), min(self.size, int(ys.max()) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        mask = Image.new("L", ((x1 - x0) * SUPERSAMPLE, (y1 - y0) * SUPERSAMPLE), 0)
        corners = np.c_[(xs - x0) * SUPERSAMPLE, (ys - y0) * SUPERSAMPLE]
        ImageDraw.Draw(mask).polygon([tuple(p) for p in corners.tolist()], fill=fill)
        self.picture.paste(colour, (x0, y0, x1, y1), mask.reduce(SUPERSAMPLE))

    def ellipse(self, centre: tuple[float, float], rx: float, ry: float, colour: tuple[int, int, int],
                fill: int = 255) -> None:
        self.polygon(_ellipse(centre, rx, ry), colour, fill)


def _ellipse(centre: tuple[float, float], rx: float, ry: float) -> np.ndarray:
    """Points of an ellipse (a polygon of 28 corners)."""
    t = np.linspace(0, 2 * math.pi, 28, endpoint=False)
    return np.c_[centre[0] + rx * np.cos(t), centre[1] + ry * np.sin(t)]


def _curve(width: float, bend: float, y: float, roundness: float = 0.0, steps: int = 16) -> np.ndarray:
    """Points of a lip across ``width`` (centred), at height ``y`` at its ends, its middle ``bend`` lower:
    a parabola, blended by ``roundness`` (0..1) into a half ellipse (steep at the corners, as an "O" is).
    The points are closer together towards the corners, where the ellipse turns."""
    t = -np.cos(np.linspace(0, math.pi, steps))
    depth = (1 - roundness) * (1 - t**2) + roundness * np.sqrt(np.clip(1 - t**2, 0, 1))
    return np.c_[t * width / 2, y + bend * depth]


def grin_of(smile: float) -> float:
    """How much a smile (after the base's bias) is a grin, 0 below :data:`GRIN_FROM` .. 1 at a full smile:
    a grin opens the mouth a little and shows the upper teeth, as a broad smile does (the set's happy face)."""
    return float(np.clip((smile - GRIN_FROM) / (1 - GRIN_FROM), 0, 1))


def draw_face(pen: _Pen, shape: Shape, base: Base) -> None:
    """Eyes, brows, mouth and extras for ``shape`` on ``pen``, the base's biases added."""
    brows = float(np.clip(shape.brows + base.brow_bias, -1, 1))
    draw_eyes(pen, shape.eyes_open, brows, base)
    draw_mouth(pen, smile=float(np.clip(shape.smile + base.smile_bias, -1, 1)),
               mouth_open=float(np.clip(shape.mouth_open + base.mouth_bias, 0, 1)),
               lowest=MOUTH_LOWEST - max(pen.shift[1], 0))  # a face shifted down has less room below


def draw_eyes(pen: _Pen, eyes_open: tuple[float, float], brows: float, base: Base) -> None:
    """Both eyes with their lids and brows, and the base's tear and blush."""
    for side, opened in ((-1, eyes_open[0]), (1, eyes_open[1])):
        cx, cy = side * 0.33, -0.12 - 0.04 * max(brows, 0)
        ry = 0.02 + 0.15 * opened * (1 + 0.25 * max(brows, 0))
        # brow: a slanted bar, higher when raised, its inner end lower when drawn together
        lift = -0.36 - 0.12 * brows
        inner, outer = side * 0.14, side * 0.5
        tilt = -0.12 * min(brows, 0) - 0.06 * max(brows, 0)  # lowered: the inner end down; raised: up
        a, b = np.array([inner, lift + tilt]), np.array([outer, lift + 0.01])
        normal = np.array([-(b - a)[1], (b - a)[0]])
        normal = 0.035 * normal / np.linalg.norm(normal) * np.sign(normal[1])  # towards the eye
        # the eye, cut by the brow's lower edge: a lowered brow covers the upper lid, as in the set's angry
        # face (drawn whole, a wide eye's top stood out above a lowered brow)
        eye = _ellipse((cx, cy), 0.095, ry)
        under = a[1] + normal[1] + (eye[:, 0] - a[0] - normal[0]) * (b - a)[1] / (b - a)[0]
        pen.polygon(np.c_[eye[:, 0], np.maximum(eye[:, 1], under)], FEATURE)
        pen.polygon(np.array([a + normal, b + normal, b - normal, a - normal]), FEATURE)
        if base.tears and side == -1:  # from under the eye (a wide one reaches further down), to one place
            tip = cy + max(0.12, ry + 0.02)
            pen.polygon(np.array([[cx, tip], [cx - 0.09, cy + 0.38], [cx, cy + 0.46], [cx + 0.09, cy + 0.38]]), TEAR)
            pen.ellipse((cx, cy + 0.38), 0.09, 0.08, TEAR)
        if base.blush:
            pen.ellipse((side * 0.55, 0.2), 0.13, 0.07, BLUSH, fill=140)


def draw_mouth(pen: _Pen, smile: float, mouth_open: float, lowest: float) -> None:
    """The mouth: a closed curve, or an open mouth (an "O", or a grin with its teeth) with its tongue,
    its lowest point no lower than ``lowest``."""
    width = 0.42 + 0.28 * max(smile, 0) - 0.08 * mouth_open
    bend = 0.2 * smile
    top_y = 0.36 - 0.06 * mouth_open
    grin = grin_of(smile)
    opening = 0.04 + 0.42 * mouth_open + 0.18 * max(smile, 0) * mouth_open
    opening += (GRIN_OPENING + (0.16 - GRIN_OPENING) * grin) * (grin > 0) * (1 - mouth_open)
    if opening < 0.09 and abs(smile) < 0.5:  # a closed mouth: a thick curved line
        upper = _curve(width, bend, top_y)
        pen.polygon(np.r_[upper - (0, LIP), upper[::-1] + (0, LIP)], FEATURE)
        return
    rise = O_RISE * (1 - max(smile, 0))  # the share of the opening above the corners: none in a grin
    opening = min(opening, (lowest - top_y - bend * 0.5) / (1 - rise))  # within the disc
    roundness = min(1.0, O_ROUND * mouth_open)
    upper = _curve(width, bend * 0.5 - rise * opening, top_y, roundness)
    lower = _curve(width, bend * 0.5 + (1 - rise) * opening, top_y, roundness)
    pen.polygon(np.r_[upper, lower[::-1]], FEATURE)
    inside = mouth_inside(upper, lower, LIP)
    if inside is None:
        return
    x, top, bottom = inside
    pen.polygon(np.r_[np.c_[x, top], np.c_[x, bottom][::-1]], MOUTH_INSIDE)
    if grin > 0:  # the upper teeth, under the upper lip, over a share of the mouth's inside at each point
        pen.polygon(np.r_[np.c_[x, top], np.c_[x, top + TEETH_SHARE * (bottom - top)][::-1]],
                    TEETH)
    if opening > 0.15:  # the tongue, resting on the lower lip: an arch over the lip's inner edge
        half = min(width * 0.26, x[-1], -x[0])
        tx = np.linspace(-half, half, 16)
        floor = np.interp(tx, x, bottom)
        arch = np.minimum(floor, floor.max() - opening * 0.4 * np.sqrt(1 - (tx / half) ** 2))
        pen.polygon(np.r_[np.c_[tx, arch], np.c_[tx, floor][::-1]], TONGUE)


def mouth_inside(upper: np.ndarray, lower: np.ndarray, rim: float) -> tuple[np.ndarray, ...] | None:
    """The inside of a mouth whose lips are ``upper`` and ``lower`` (points from left to right, the two
    meeting at both ends): each lip moved ``rim`` inwards along its normal (an even lip line where the
    sides are steep), both read on one grid of x, kept where the top stays above the bottom. Returns
    (x, top, bottom), or None where the lips leave no inside."""

    def moved(curve: np.ndarray, inwards: float) -> np.ndarray:
        tangent = np.gradient(curve, axis=0)
        normal = np.c_[-tangent[:, 1], tangent[:, 0]]  # left to right, y down: (0, 1) points down
        return curve + inwards * rim * normal / np.linalg.norm(normal, axis=1, keepdims=True)

    top, bottom = moved(upper, 1.0), moved(lower, -1.0)
    x = np.linspace(max(top[0, 0], bottom[0, 0]), min(top[-1, 0], bottom[-1, 0]), 32)
    top_y, bottom_y = np.interp(x, top[:, 0], top[:, 1]), np.interp(x, bottom[:, 0], bottom[:, 1])
    keep = top_y < bottom_y
    return (x[keep], top_y[keep], bottom_y[keep]) if keep.sum() >= 2 else None


def draw(label: str, shape: Shape, size: int) -> Image.Image:
    """A new RGBA picture of ``size`` px: ``label``'s base with ``shape``'s features (no cache)."""
    picture = disc(label, size).copy()
    shift = (0.25 * math.sin(math.radians(np.clip(shape.yaw, -45, 45))),
             -0.25 * math.sin(math.radians(np.clip(shape.pitch, -45, 45))))
    draw_face(_Pen(picture, shape.roll, shift), shape, BASES[label])
    return picture


class GeneratedEmoji:
    """Generated emoji by expression, shape and size, with the last :data:`CACHE_SIZE` pictures cached
    (keyed by the quantised shape), :data:`CACHE_PIXELS` at most. Callers must not modify the pictures
    they get. Threads may share one: the kiosk's window, worker and saver all draw with it."""

    def __init__(self, cache_size: int = CACHE_SIZE, cache_pixels: int = CACHE_PIXELS):
        self._cache: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._limit, self._pixel_limit, self._pixels = cache_size, cache_pixels, 0
        self._lock = threading.Lock()  # around the cache only: two threads may draw the same picture

    def picture(self, label: str, shape: Shape | None, size: int) -> Image.Image:
        """The emoji for ``label`` moved by ``shape`` (a resting face when None) at ``size`` px."""
        if label not in BASES:
            raise KeyError(label)
        key = (label, (shape or Shape()).quantised(), int(size))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        picture = draw(label, key[1], int(size))
        area = picture.width * picture.height
        if area > self._pixel_limit // 8:
            return picture
        with self._lock:
            if key not in self._cache:
                self._cache[key], self._pixels = picture, self._pixels + area
            while len(self._cache) > self._limit or self._pixels > self._pixel_limit:
                _, dropped = self._cache.popitem(last=False)
                self._pixels -= dropped.width * dropped.height
        return picture


@dataclass(frozen=True)
class GeneratedEmojiSet(EmojiSet):
    """The emoji set with each face's emoji generated from its shape (``--emoji generated``): the
    rows of probabilities and the challenge's target keep the set's pictures (:meth:`scaled`)."""

    drawer: GeneratedEmoji = field(default_factory=GeneratedEmoji, compare=False, repr=False)

    def face(self, label: str, shape: Shape | None, size: int) -> Image.Image:
        return self.drawer.picture(label, shape, size)

    def turned(self, shape: Shape | None) -> float:
        return 0.0 if shape is None else shape.quantised().roll  # the roll the drawing used


def with_generated(emojis: EmojiSet) -> GeneratedEmojiSet:
    """``emojis`` whose faces are generated."""
    return GeneratedEmojiSet(emojis.folder, emojis.images)
