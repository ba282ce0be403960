"""The kiosk's languages: the gettext catalogues, ``--language``, ``auto`` from the system locale,
and German on the panel and in a real window."""

from __future__ import annotations

import configparser
import errno
import fnmatch
import gettext
import string
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import REPO, Kiosk, astronaut_frame, drawn_texts
from PIL import Image, ImageDraw

from emojify import cli, texts
from emojify.config import ConfigError, settings_from_args
from emojify.emojis import load_emoji_set
from emojify.labels import CLASSES
from emojify.layout import layout
from emojify.pipeline import Result
from emojify.render import font, render_panel, wrap
from emojify.resources import PACKAGE_DIR
from emojify.screens import Screens, Timings
from emojify.sources import SourceStatus, parse_source

TRANSLATED = [code for code in texts.LANGUAGES if code != texts.SOURCE_LANGUAGE]
POT = texts.LOCALE_DIR / f"{texts.DOMAIN}.pot"


def catalogue_path(code: str, suffix: str) -> Path:
    return texts.LOCALE_DIR / code / "LC_MESSAGES" / f"{texts.DOMAIN}{suffix}"


def read_po(path: Path):
    """The messages of a ``.po`` or ``.pot`` file, read back with Babel (the header left out)."""
    pofile = pytest.importorskip("babel.messages.pofile")
    with path.open("rb") as handle:
        return [message for message in pofile.read_po(handle) if message.id]


def code_msgids() -> set[str]:
    """Every sentence texts.py marks for translation (``_()`` and ``N_()``), as ``pybabel extract`` finds them."""
    extract = pytest.importorskip("babel.messages.extract")
    with open(texts.__file__, "rb") as handle:
        return {message for _, message, _, _ in extract.extract("python", handle)}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def settings(*argv: str):
    parser = cli.build_parser()
    return settings_from_args(parser.parse_args(["run", *argv]))


# --- the catalogues ------------------------------------------------------------------------------

def test_the_template_holds_every_sentence_of_the_code() -> None:
    sentences = code_msgids()
    assert len(sentences) > 50 and {"Put your face inside the frame", "Happy", "Back to live in {seconds}"} <= sentences
    assert {message.id for message in read_po(POT)} == sentences, \
        "emojify.pot is out of date: run pybabel extract (docs/languages.md)"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_sentence_is_translated_and_keeps_its_placeholders(code: str) -> None:
    messages = read_po(catalogue_path(code, ".po"))
    assert {message.id for message in messages} == code_msgids(), f"{code}: run pybabel update (docs/languages.md)"
    for message in messages:
        assert message.string.strip(), f"{code}: no translation of {message.id!r}"
        assert not message.fuzzy, f"{code}: {message.id!r} is marked fuzzy (it would not be shown)"
        assert placeholders(message.string) == placeholders(message.id), f"{code}: {message.string!r}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_shipped_mo_files_are_compiled_from_the_po_files(code: str) -> None:
    with catalogue_path(code, ".mo").open("rb") as handle:
        shipped = gettext.GNUTranslations(handle)
    messages = read_po(catalogue_path(code, ".po"))
    stale = [message.id for message in messages if shipped.gettext(message.id) != message.string]
    assert not stale, f"{code}: the .mo differs from the .po for {stale[:3]}; run pybabel compile (docs/languages.md)"


def test_the_package_and_the_executable_ship_the_compiled_catalogues() -> None:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    patterns = [pattern.strip() for pattern in config["options.package_data"]["emojify"].split(",")]
    spec = (REPO / "packaging" / "emojify.spec").read_text()
    for code in TRANSLATED:
        shipped = catalogue_path(code, ".mo").relative_to(PACKAGE_DIR).as_posix()
        assert any(fnmatch.fnmatch(shipped, pattern) for pattern in patterns), f"setup.cfg leaves out {shipped}"
    assert '"*/LC_MESSAGES/emojify.mo"' in spec, "the executable would have no languages"


def test_expressions_are_named_as_expressions_not_feelings() -> None:
    """The notice keeps the expression/emotion distinction in every language."""
    words = {"de": "Gesichtsausdr", "fr": "expressions du visage", "es": "expresiones faciales"}
    for code in TRANSLATED:
        texts.set_language(code)
        assert words[code] in texts.NOTICE, texts.NOTICE
        assert len({texts.expression_name(label) for label in CLASSES}) == len(CLASSES), f"{code}: two expressions share a name"


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_failed_save_is_explained_in_the_windows_language(code: str) -> None:
    """A full disk, a read-only stick, a folder without permission: the banner says so in the kiosk's
    language, not in the system's English words; an unusual error keeps the system's words."""
    texts.set_language(code)
    causes = ((errno.EACCES, "Permission denied"), (errno.ENOSPC, "No space left on device"),
              (errno.EROFS, "Read-only file system"), (errno.ENOENT, "No such file or directory"),
              (errno.ENOTDIR, "Not a directory"))
    banners = [texts.could_not_save(OSError(number, english)) for number, english in causes]
    assert not any(english in banner for (_, english), banner in zip(causes, banners, strict=True)), banners
    assert len(set(banners)) == len(causes), "each cause has its own words"
    assert texts.could_not_save(OSError(errno.EEXIST, "File exists")) == banners[-1]  # a file in the way, too
    assert "Input/output error" in texts.could_not_save(OSError(errno.EIO, "Input/output error"))
    stickers = texts.could_not_save(OSError(errno.ENOSPC, "No space left on device"), stickers=True)
    assert stickers != banners[1] and stickers.endswith(banners[1].rsplit(":", 1)[1]), stickers  # the same reason
    if code == "de":
        assert banners[1] == "Foto konnte nicht gespeichert werden: der Datenträger ist voll"
    texts.set_language("en")
    assert texts.could_not_save(OSError(errno.ENOSPC, "No space left on device")) == \
        "Could not save the snapshot: the disk is full"
    # an OSError raised with a message alone (a library's own), of two lines: the banner keeps one
    assert texts.could_not_save(OSError("the encoder failed\nat frame 3")) == "Could not save the snapshot: the encoder failed"


# --- choosing the language ----------------------------------------------------------------------

def test_language_comes_from_the_flag_or_the_file_and_defaults_to_the_system(tmp_path: Path) -> None:
    assert settings().language == "auto"
    config = tmp_path / "kiosk.toml"
    config.write_text('language = "fr"\n')
    assert settings("--config", str(config)).language == "fr"
    assert settings("--config", str(config), "--language", "de").language == "de"


def test_a_bad_language_is_one_line_and_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--language", "xx"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and '--language must be one of auto, en, de, fr, es (got "xx")' in err
    config = tmp_path / "kiosk.toml"
    config.write_text('language = "klingon"\n')
    with pytest.raises(ConfigError) as caught:
        settings("--config", str(config))
    assert "\n" not in str(caught.value) and "'language' must be one of auto, en, de, fr, es" in str(caught.value)


@pytest.mark.parametrize(("environ", "expected"), [
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "de_AT.UTF-8"}, "de"),
    ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "es_ES.UTF-8"}, "es"),
    ({"LANG": "de_DE.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANGUAGE": "pt_BR:es", "LANG": "pt_BR.UTF-8"}, "es"),
    ({"LANG": "ja_JP.UTF-8"}, "en"),
])
def test_auto_follows_the_system_locale(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str],
                                        expected: str) -> None:
    for name in texts.LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert texts.set_language("auto") == expected
    hint = texts.HINT
    assert (hint == "Put your face inside the frame") == (expected == "en"), hint


# --- German on screen ------------------------------------------------------------------------

def live_screens() -> Screens:
    """The kiosk's screens, live with a picture and no face yet."""
    screens = Screens(lambda frame: None, texts.message_tips(parse_source("0")), Timings(result=4.0), now=0.0)
    screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), Result((13, 10, 38, 29), None, None, None))
    screens.source_status(SourceStatus.LIVE, texts.status_message(parse_source("0"), "live"))
    screens.tick(0.1)
    return screens


def test_language_de_shows_german_on_the_panel(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """``emojify run --language de`` (here without a screen, so it stops at the window) sets German,
    and the panel then draws German words only."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert cli.main(["run", "--language", "de", "--source", "0"]) == cli.EXIT_BAD_INPUT
    assert "cannot open the window" in capsys.readouterr().err
    view = live_screens().view()
    with drawn_texts() as seen:
        render_panel(view.panel, layout((800, 480)).panel.size, load_emoji_set())
    drawn = {text.text for text in seen}
    assert {"Noch kein Gesicht", "Foto", "Fröhlich", "Traurig", "Überrascht", "Wütend"} <= drawn, drawn
    assert not drawn & {"No face yet", "Snapshot", "Happy", "Sad"}, drawn
    assert view.feed.hint == "Halte dein Gesicht in den Rahmen"


def test_a_no_break_space_keeps_french_punctuation_with_its_word() -> None:
    texts.set_language("fr")
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    face = font(20)
    lines = wrap(texts.ATTRACT_TITLE, draw.textlength("Faites une", font=face) + 1, face, draw)
    assert lines[-1].endswith("grimace\u00a0!") and "!" not in lines[:-1], lines


def test_the_kiosk_window_speaks_german(display: str, tmp_path: Path) -> None:
    """The real window with ``--language de`` draws the smiling astronaut's panel in German (the
    expression's name and the button) and holds the German sentence for its source; its screenshot is
    kept as ``german.png`` in tmp_path."""
    camera = tmp_path / "camera"
    camera.mkdir()
    cv2.imwrite(str(camera / "astronaut.png"), astronaut_frame())
    app = Kiosk(display, tmp_path, "--source", str(camera), "--language", "de")
    try:
        state = app.wait_state(lambda s: s["frames_shown"] >= 3 and s["screen"] == "live" and s["last_label"] == "happy",
                               "the live German screen")
        assert state["language"] == "de"
        assert state["panel_texts"] == ["Fröhlich", "Foto"], state["panel_texts"]
        assert state["status_text"] == "camera wird gezeigt.", state["status_text"]
        app.wait_state(lambda s: s["frames_shown"] >= 8, "more pictures drawn")
        Image.fromarray(app.screenshot().astype(np.uint8)).save(tmp_path / "german.png")
        app.key("ctrl+shift+q")
        assert app.exit_code() == 0
    finally:
        app.stop()
