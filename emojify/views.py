"""What the kiosk window shows, as values: every view type, and nothing that builds or draws one.

:mod:`emojify.screens` builds a :class:`View` for the screen that is up (each screen of its table
has its own builder); :mod:`emojify.render` draws each part with Pillow; :mod:`emojify.app` blits
the parts. Views are frozen, and equal views draw equal pictures, so the window redraws only the
parts that changed. This module imports nothing of emojify's but the shape value type, so the
machine, the renderers and the window can all depend on it.

Adding a screen: a view type here (or an existing one), a builder and a rule in the screens'
table, and a renderer for a new type in :data:`emojify.app.FULL_RENDERERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from emojify.shape import Shape

Result = Any
"""An :class:`emojify.pipeline.Result`: a view carries it to the renderer and never looks inside, so
this module names it without importing the pipeline (and stays a leaf)."""


@dataclass(frozen=True)
class FeedView:
    """The picture: a live frame or the still, with its overlays.

    ``picture`` names the picture shown (``("live", n)`` or ``("still", n)``) and changes whenever
    another one is to be drawn; the arrays themselves take no part in comparisons.
    """

    picture: tuple[str, int]
    frame: np.ndarray = field(compare=False, repr=False)
    result: Result | None = field(compare=False, repr=False)
    live: bool = True
    hint: str | None = None
    banner: tuple[str, bool] | None = None
    """(text, is an error) shown at the top of the picture."""
    countdown: int | None = None
    """The big number of the snapshot countdown."""


@dataclass(frozen=True)
class PanelView:
    """What the panel beside the picture shows: the emoji, its name, the seven bars and the button."""

    label: str | None
    percents: tuple[int, ...] | None
    title: str
    button: str
    button_active: bool = True
    shape: Shape | None = None
    """The leading face's shape, quantised (the generated emoji), or None."""


PANEL_STEP = 2
"""The panel is drawn again when a percentage has moved this many points from the one shown (or when
anything else on it changes): the smoothing moves them by a point now and then on most frames, a
change no visitor notices, and each drawing of the panel costs a render and a blit."""


def panel_differs(shown: object, new: object) -> bool:
    """Whether the panel ``new`` looks different from ``shown`` (views of any panel kind, or None):
    any change but percentages that each moved less than :data:`PANEL_STEP` points."""
    if not (isinstance(shown, PanelView) and isinstance(new, PanelView)) or shown.percents is None \
            or new.percents is None:
        return shown != new
    if replace(shown, percents=new.percents) != new:
        return True
    return any(abs(a - b) >= PANEL_STEP for a, b in zip(shown.percents, new.percents, strict=True))


@dataclass(frozen=True)
class Row:
    """One row of a panel's body: an optional emoji, a name, a bar (fraction 0..1 or None) and a value."""

    name: str
    fraction: float | None = None
    value: str = ""
    icon: str | None = None
    strong: bool = False
    muted: bool = False


@dataclass(frozen=True)
class ChallengeView:
    """The challenge game's panel: the target emoji and its name (or the round's result), rows (the
    time left and the hold as bars, the score as lines) and the button."""

    target: str | None
    title: str
    rows: tuple[Row, ...] = ()
    button: str = ""
    button_active: bool = True
    good: bool = False
    """The title is good news (drawn in the accent colour)."""
    widest: tuple[Row, ...] = ()
    """The rows as the panel is measured for them (the rows where none are given): every row the
    round may show in this place, with its widest figures (the highest score a round reaches, the
    time and hold bars under a target's outcome too), so that the panel keeps its shape as the round
    goes on."""


@dataclass(frozen=True)
class MessageView:
    """A full-window message: a title, the source's sentence, what to check, a footer."""

    title: str
    detail: str = ""
    tips: tuple[str, ...] = ()
    footer: str = ""


@dataclass(frozen=True)
class AttractView:
    """The attract screen: one emoji of the cycle, an invitation, what to do, and the notice."""

    label: str
    title: str
    lines: tuple[str, ...] = ()
    notice: tuple[str, ...] = ()
    shape: Shape | None = None
    """The generated emoji's shape of the moment (None: the set's picture)."""


FullView = MessageView | AttractView
"""A view that fills the whole window (no picture, no panel)."""


def whole_percents(probabilities: Any) -> tuple[int, ...]:
    """Probabilities as whole percentages that add up to 100, as a visitor adding the bars expects
    (each rounded on its own, 94.4, 2.3, 1.45 and 1.25 showed 98): each share's whole part, then one
    point more to those with the largest remainders (Hamilton's method; in ties, the earlier class).
    Small enough to keep here: no dependency of ours does it."""
    shares = np.asarray(probabilities, dtype=np.float64)
    total = shares.sum()
    if not (np.isfinite(total) and total > 0 and (shares >= 0).all()):
        return (0,) * len(shares)  # nothing to share out (no model gives this; the bars stay empty)
    shares = shares / total * 100.0
    whole = np.floor(shares).astype(int)
    for i in np.argsort(-(shares - whole), kind="stable")[:100 - whole.sum()]:
        whole[i] += 1
    return tuple(int(v) for v in whole)


@dataclass(frozen=True)
class View:
    """What the window shows: the picture and a panel, or one full-window view."""

    screen: str
    feed: FeedView | None = None
    panel: PanelView | ChallengeView | None = None
    full: FullView | None = None
    """A full-window view; the picture and the panel are not shown under it."""

    @property
    def message(self) -> MessageView | None:
        """The full-window message, if that is what is shown."""
        return self.full if isinstance(self.full, MessageView) else None

    @property
    def attract(self) -> AttractView | None:
        """The attract screen, if that is what is shown."""
        return self.full if isinstance(self.full, AttractView) else None


FRAMED_BELOW = 0.98
"""The capture region's share of the picture's width from which it is not drawn: it is the picture."""


def region_drawn(region_width: float, picture_width: float) -> bool:
    """Whether the capture region is drawn on the live picture (its corner marks, the rest dimmed): not
    where it is (nearly) the whole picture, ``--region 1``, and the hint then names no frame."""
    return region_width < picture_width * FRAMED_BELOW
