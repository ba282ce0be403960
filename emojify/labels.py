"""The seven expression classes: their order, names and emoji, in one place.

The order is that of the original FER2013 CSV (``emotion`` column 0..6), and it is the
order of the model's outputs. Everything else in the project reads it from here.
"""

from __future__ import annotations

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Class names in model-output order (FER2013's own order)."""

EMOJI: dict[str, str] = {
    "angry": "\U0001F620",  # angry face
    "disgust": "\U0001F922",  # nauseated face
    "fear": "\U0001F628",  # fearful face
    "happy": "\U0001F604",  # grinning face with smiling eyes
    "sad": "\U0001F622",  # crying face
    "surprise": "\U0001F62E",  # face with open mouth
    "neutral": "\U0001F610",  # neutral face
}
"""The emoji character shown for each class."""

NUM_CLASSES = len(CLASSES)


def class_index(name: str) -> int:
    """Return the model-output index of class ``name``; raise ``ValueError`` naming the choices."""
    try:
        return CLASSES.index(name)
    except ValueError:
        raise ValueError(f"unknown class {name!r} (expected one of: {', '.join(CLASSES)})") from None


TEST_SPLITS = ("PublicTest", "PrivateTest")
"""FER2013's two test splits: the Kaggle download's ``test/`` folders hold both, each file's name
starting with its split's (``PublicTest_123.jpg``). The model is chosen on PublicTest; PrivateTest is
held out."""


def fer_split(name: str) -> str | None:
    """Which of :data:`TEST_SPLITS` a file belongs to by the start of its ``name`` (any case), or None."""
    return next((split for split in TEST_SPLITS if name.lower().startswith(split.lower())), None)
