#!/usr/bin/env python3
"""Render the seven class emoji to PNG files from the Noto Color Emoji font.

Writes ``<label>.png`` for every class in ``emojify.labels.CLASSES``, an ``emojis.json``
mapping (label -> file name) and the font's licence notice ``LICENSE-NotoColorEmoji.txt``.
The font comes from Debian's ``fonts-noto-color-emoji`` package (SIL Open Font License 1.1):

    apt-get install -y fonts-noto-color-emoji
    python packaging/render_emojis.py            # writes ./emojis/
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
DEBIAN_COPYRIGHT = Path("/usr/share/doc/fonts-noto-color-emoji/copyright")
APT_PACKAGE = "fonts-noto-color-emoji"
BITMAP_SIZE = 109  # Noto Color Emoji is a bitmap (CBDT) font with a single strike at 109 px
MIN_SIZE, MAX_SIZE = 16, 4096  # past 4096, 7 pictures of gigabytes, not emoji
MARGIN = 0.04  # transparent margin on each side, as a fraction of the output size
LICENSE_FILE = "LICENSE-NotoColorEmoji.txt"
FALLBACK_COPYRIGHT = "Copyright 2013-2017 Google Inc., Arjen Nienhuis"
OFL_URL = "https://openfontlicense.org"
NOT_A_CHARACTER = "\U0010FFFF"  # no font has it: what a font draws for it is its missing-glyph box (or nothing)


def write_all(folder: Path, files: dict[str, bytes]) -> None:
    """Write every file into a hidden folder inside ``folder``, then move each into its place: a
    failure while writing (a full disk) leaves the old set whole, never old and new mixed.
    World-readable, as shipped data is."""
    from emojify.fileio import real_folder  # link/../run: as the system walks it

    with tempfile.TemporaryDirectory(prefix=".render-", dir=real_folder(folder)) as staging:
        for name, data in files.items():
            (Path(staging) / name).write_bytes(data)
            (Path(staging) / name).chmod(0o644)
        for name in files:
            os.replace(Path(staging) / name, folder / name)


def drawn(char: str, font: ImageFont.FreeTypeFont) -> Image.Image | None:
    """``char`` drawn in colour at the font's size, cropped to its visible pixels (None: nothing visible)."""
    _, _, right, bottom = font.getbbox(char)
    canvas = Image.new("RGBA", (right + 2 * BITMAP_SIZE, bottom + 2 * BITMAP_SIZE), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((BITMAP_SIZE, BITMAP_SIZE), char, font=font, embedded_color=True)
    box = canvas.getchannel("A").getbbox()
    return None if box is None else canvas.crop(box)


def has_glyph(char: str, font: ImageFont.FreeTypeFont) -> bool:
    """The font draws ``char`` as something other than what it draws for a character it lacks."""
    glyph, missing = drawn(char, font), drawn(NOT_A_CHARACTER, font)
    if glyph is None or missing is None:
        return glyph is not None
    return glyph.size != missing.size or glyph.tobytes() != missing.tobytes()


def render(char: str, font: ImageFont.FreeTypeFont, size: int) -> Image.Image:
    """Draw ``char`` in colour, crop it to its visible pixels, fit it centred in ``size`` px."""
    glyph = drawn(char, font)
    if glyph is None:
        raise ValueError(f"the font has no visible glyph for U+{ord(char[0]):04X}")
    inner = round(size * (1 - 2 * MARGIN))
    scale = inner / max(glyph.size)
    glyph = glyph.resize(
        (max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))), Image.LANCZOS
    )
    out = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    out.alpha_composite(glyph, ((size - glyph.width) // 2, (size - glyph.height) // 2))
    return out


def debian_stanzas(text: str) -> list[dict[str, str]]:
    """Split a Debian machine-readable copyright file into ``{field: value}`` paragraphs."""
    stanzas = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if fields:
            stanzas.append(fields)
    return stanzas


def unfold(value: str) -> str:
    """Turn a Debian continuation block (one-space indent, ``.`` for blank lines) into text."""
    lines = [line.removeprefix(" ") for line in value.splitlines()]
    return "\n".join("" if line == "." else line for line in lines)


def license_notice(copyright_file: Path = DEBIAN_COPYRIGHT) -> str:
    """The font's copyright line and the full OFL 1.1 text, or a short notice if not on disk."""
    copyright_line, ofl = FALLBACK_COPYRIGHT, None
    if copyright_file.is_file():
        for stanza in debian_stanzas(copyright_file.read_text(encoding="utf-8")):
            first, _, body = stanza.get("License", "").partition("\n")
            if first.startswith("SIL") and stanza.get("Files", "").strip().startswith("fonts"):
                holders = [h.strip() for h in unfold(stanza.get("Copyright", "")).splitlines()]
                copyright_line = "Copyright " + ", ".join(h for h in holders if h)
            elif first.startswith("SIL") and "Files" not in stanza and body:
                ofl = unfold(body).strip()
    header = (
        "Noto Color Emoji font (https://github.com/googlefonts/noto-emoji)\n"
        f"{copyright_line}\n\n"
        "The PNG images in this folder were rendered from the Noto Color Emoji font,\n"
        "which is licensed under the SIL Open Font License, Version 1.1.\n"
    )
    if ofl:
        return f"{header}\n{ofl}\n"
    return f"{header}The licence text is available at {OFL_URL}\n"


def fail(message: str) -> int:
    """The script's one error line; the exit code for bad input."""
    print(f"render_emojis.py: error: {message}", file=sys.stderr)
    return 2


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, render every class emoji and write the folder; return the exit code."""
    sys.path.insert(0, str(REPO))  # import `emojify` from this checkout without installing it
    from emojify.errors import reason_of
    from emojify.fileio import OutputError, make_folder
    from emojify.labels import CLASSES, EMOJI

    parser = argparse.ArgumentParser(
        description="Render the 7 class emoji (emojify.labels.EMOJI) to transparent PNGs with "
        f"the Noto Color Emoji font, plus emojis.json and the font licence. Needs the Debian "
        f"package {APT_PACKAGE}.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "emojis",
        help="output folder, made if missing; its set is replaced whole (default: the repository's emojis/)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=256,
        help="width and height of each PNG in pixels (default: 256)",
    )
    parser.add_argument(
        "--font",
        type=Path,
        default=DEFAULT_FONT,
        help=f"path to NotoColorEmoji.ttf (default: {DEFAULT_FONT})",
    )
    args = parser.parse_args(argv)
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        parser.error(f"--size must be {MIN_SIZE} .. {MAX_SIZE}")

    if not args.font.is_file():
        return fail(f"emoji font not found: {args.font} (install it with: apt-get install -y {APT_PACKAGE}, "
                    "or pass --font)")
    try:
        font = ImageFont.truetype(str(args.font), BITMAP_SIZE)
    except OSError as exc:
        return fail(f"cannot load {args.font} at size {BITMAP_SIZE} ({exc}); is it NotoColorEmoji.ttf from {APT_PACKAGE}?")
    lacking = [label for label in CLASSES if not has_glyph(EMOJI[label], font)]
    if lacking:
        return fail(f"{args.font} has no emoji for {', '.join(lacking)} (it draws them as a character it lacks); "
                    f"use NotoColorEmoji.ttf from {APT_PACKAGE}")
    try:
        make_folder(args.out, f"--out {args.out}")
    except OutputError as exc:
        return fail(str(exc))

    try:  # all of them in memory first: a glyph that cannot be drawn writes nothing
        files = {f"{label}.png": png(render(EMOJI[label], font, args.size)) for label in CLASSES}
    except ValueError as exc:
        return fail(f"{args.font}: {exc}")
    manifest = {
        **{label: f"{label}.png" for label in CLASSES},
        "source": f"Rendered by packaging/render_emojis.py from Noto Color Emoji "
        f"({APT_PACKAGE}, SIL OFL 1.1, see {LICENSE_FILE}) at {args.size} px.",
    }
    files["emojis.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    files[LICENSE_FILE] = license_notice().encode()
    try:
        write_all(args.out, files)
    except OSError as exc:
        return fail(f"--out {args.out}: cannot write the emoji there ({reason_of(exc)})")
    for name in files:
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    from emojify.errors import until_interrupted  # Ctrl-C: one line, exit code 130

    sys.exit(until_interrupted(Path(sys.argv[0]).name, main))
