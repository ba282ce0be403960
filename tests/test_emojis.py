"""The emoji set: the shipped images, custom folders, broken files and the render script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from emojify.emojis import CHOSEN_FIX, MAPPING_FILE, EmojiError, EmojiSet, load_emoji_set
from emojify.labels import CLASSES

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "emojis"
RENDER_SCRIPT = REPO / "packaging" / "render_emojis.py"
NOTO_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


def opaque_fraction(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Share of pixels inside ``box`` that are mostly opaque (alpha >= 128)."""
    alpha = image.getchannel("A").crop(box)
    return sum(alpha.point(lambda a: 255 if a >= 128 else 0).histogram()[255:]) / (
        alpha.width * alpha.height
    )


def assert_real_glyphs(emoji: EmojiSet) -> None:
    """Every class has a large RGBA image with an opaque centre, and no two are the same."""
    assert set(emoji.images) == set(CLASSES)
    for label, image in emoji.images.items():
        assert image.mode == "RGBA", label
        assert min(image.size) >= 256, label
        w, h = image.size
        centre = (w // 4, h // 4, 3 * w // 4, 3 * h // 4)
        assert opaque_fraction(image, centre) > 0.9, f"{label}: centre is (mostly) transparent"
        assert image.getchannel("A").getpixel((0, 0)) == 0, f"{label}: corner is not transparent"
    images = [emoji.images[label] for label in CLASSES]
    for i, first in enumerate(images):
        for second in images[i + 1 :]:
            assert ImageChops.difference(first, second).getbbox() is not None


def write_plain_pngs(folder: Path) -> None:
    """Seven distinct small, nearly square PNGs named ``<label>.png``, without ``emojis.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, label in enumerate(CLASSES):
        Image.new("RGB", (64, 60), (30 * i, 255 - 30 * i, 128)).save(folder / f"{label}.png")


def copy_shipped(tmp_path: Path) -> Path:
    folder = tmp_path / "emojis"
    shutil.copytree(SHIPPED, folder)
    return folder


def test_shipped_set_loads_with_real_distinct_glyphs() -> None:
    emoji = load_emoji_set()
    assert emoji.folder.resolve() == SHIPPED.resolve()
    assert list(emoji.images) == list(CLASSES)
    assert_real_glyphs(emoji)


def test_shipped_mapping_lists_every_class_and_a_source() -> None:
    mapping = json.loads((SHIPPED / MAPPING_FILE).read_text(encoding="utf-8"))
    assert {label: mapping[label] for label in CLASSES} == {c: f"{c}.png" for c in CLASSES}
    assert "Noto Color Emoji" in mapping["source"]
    assert (SHIPPED / "LICENSE-NotoColorEmoji.txt").is_file()


def test_mapping_missing_a_label_names_it(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)
    mapping = json.loads((folder / MAPPING_FILE).read_text(encoding="utf-8"))
    del mapping["disgust"]
    (folder / MAPPING_FILE).write_text(json.dumps(mapping), encoding="utf-8")
    with pytest.raises(EmojiError, match="disgust") as info:
        load_emoji_set(folder)
    assert MAPPING_FILE in str(info.value)
    assert "\n" not in str(info.value)


def test_folder_without_mapping_missing_a_png_names_it(tmp_path: Path) -> None:
    write_plain_pngs(tmp_path)
    (tmp_path / "fear.png").unlink()
    with pytest.raises(EmojiError, match=r"fear\.png"):
        load_emoji_set(tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"this is not a PNG at all", id="garbage"),
    ],
)
def test_broken_image_names_the_file(tmp_path: Path, damage) -> None:
    folder = copy_shipped(tmp_path)
    sad = folder / "sad.png"
    sad.write_bytes(damage(sad.read_bytes()))
    with pytest.raises(EmojiError, match=r"sad\.png: cannot read image") as info:
        load_emoji_set(folder)
    assert str(info.value).endswith("; fix --emoji-dir (emoji_dir in a settings file)")  # the user's own set
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("size", [(4000, 10), (1, 1), (15, 15), (256, 230)])
def test_a_picture_of_the_wrong_shape_or_size_is_refused_naming_it_and_its_size(tmp_path: Path, size) -> None:
    """A thin strip would be shown as a red line and a speck as a blur: the set is refused at start."""
    folder = copy_shipped(tmp_path)
    Image.new("RGBA", size, (255, 0, 0, 255)).save(folder / "happy.png")
    with pytest.raises(EmojiError) as info:
        load_emoji_set(folder)
    assert str(info.value) == (f"{folder / 'happy.png'}: {size[0]}x{size[1]} px, but the 'happy' emoji must be "
                               "square (sides within 10%) and at least 16x16 px; fix --emoji-dir (emoji_dir in a "
                               "settings file)")


def test_a_nearly_square_picture_of_the_smallest_size_loads(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)
    Image.new("RGBA", (16, 16)).save(folder / "happy.png")
    Image.new("RGBA", (256, 231)).save(folder / "sad.png")  # 9.8% shorter: a hand-cropped picture
    assert load_emoji_set(folder).images["sad"].size == (256, 231)


def test_a_broken_shipped_set_says_to_render_it_again(tmp_path: Path, monkeypatch) -> None:
    """The shipped set is ours: its fix is the script that renders it, not a folder the user never chose."""
    import emojify.emojis

    folder = copy_shipped(tmp_path)
    (folder / "sad.png").write_bytes(b"this is not a PNG at all")
    monkeypatch.setattr(emojify.emojis, "resource_dir", lambda name: folder)
    with pytest.raises(EmojiError, match=r"sad\.png: cannot read image") as info:
        load_emoji_set()
    assert str(info.value).endswith("; re-render it with packaging/render_emojis.py")


def test_mapping_that_is_not_json_is_reported(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)
    (folder / MAPPING_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(EmojiError, match=r"emojis\.json: cannot read JSON"):
        load_emoji_set(folder)


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(EmojiError, match="emoji folder not found"):
        load_emoji_set(tmp_path / "nowhere")


def test_a_file_given_for_the_folder_is_called_a_file_and_an_unreadable_mapping_its_reason(tmp_path: Path) -> None:
    """``--emoji-dir README.md`` was 'emoji folder not found' for a file that is there; a mapping that
    cannot be read said Python's '[Errno 21] Is a directory: PATH', the path twice."""
    (tmp_path / "notes.txt").write_text("not a folder")
    with pytest.raises(EmojiError, match=r"notes\.txt: a file, not an emoji folder; fix --emoji-dir"):
        load_emoji_set(tmp_path / "notes.txt")
    folder = copy_shipped(tmp_path)
    (folder / MAPPING_FILE).unlink(missing_ok=True)
    (folder / MAPPING_FILE).mkdir()
    with pytest.raises(EmojiError) as info:
        load_emoji_set(folder)
    assert str(info.value).startswith(f"{folder / MAPPING_FILE}: cannot read JSON (Is a directory); ")


def test_a_folder_that_may_not_be_entered_is_one_line_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    """A 0700 emoji folder of another user's: Path.exists() raised PermissionError in it, which ended
    ``emojify run --emoji-dir`` in a traceback (exit code 1). Root enters any folder, so the refusal
    is the file system's, played here."""
    folder = copy_shipped(tmp_path)
    exists = Path.exists

    def shut(path: Path, *args, **kwargs) -> bool:
        if path.parent == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return exists(path, *args, **kwargs)

    monkeypatch.setattr(Path, "exists", shut)
    with pytest.raises(EmojiError) as info:
        load_emoji_set(folder)
    assert str(info.value) == f"{folder / MAPPING_FILE}: cannot read it (Permission denied); {CHOSEN_FIX}"


def test_a_photos_size_emoji_is_made_again_not_kept() -> None:
    """The set kept up to 64 scaled pictures: a composite's emoji of 2,000 px is 16 MB, and predict --out
    over photos of different heights filled it to a gigabyte. The kiosk's sizes are still kept."""
    from emojify.emojis import CACHED_SIDE

    emoji = load_emoji_set()
    assert emoji.scaled("happy", 200) is emoji.scaled("happy", 200)
    big = emoji.scaled("happy", CACHED_SIDE + 1)
    assert big.size == (CACHED_SIDE + 1,) * 2 and emoji.scaled("happy", CACHED_SIDE + 1) is not big


def test_folder_of_plain_pngs_without_mapping_loads(tmp_path: Path) -> None:
    write_plain_pngs(tmp_path)
    emoji = load_emoji_set(tmp_path)
    assert list(emoji.images) == list(CLASSES)
    assert all(image.mode == "RGBA" for image in emoji.images.values())


def test_a_16_bit_gray_png_loads_as_its_8_bit_self(tmp_path: Path) -> None:
    """An emoji saved as a 16-bit gray PNG (some editors' export) looks as its 8-bit version, not
    washed out to white."""
    import numpy as np

    write_plain_pngs(tmp_path)
    ramp = np.tile(np.arange(0, 256, 4, dtype=np.uint16), (64, 1))  # a grey ramp, 64 wide
    Image.fromarray(ramp.astype(np.uint8), "L").save(tmp_path / "eight.png")
    Image.fromarray(ramp * 257).save(tmp_path / "happy.png")  # the same ramp in 16 bits
    loaded = np.asarray(load_emoji_set(tmp_path).images["happy"])
    with Image.open(tmp_path / "eight.png") as eight:
        expected = np.asarray(eight.convert("RGBA"))
    assert np.abs(loaded.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("size", [1, 48, 120, 512])
def test_scaled_returns_requested_square_size(tmp_path: Path, size: int) -> None:
    write_plain_pngs(tmp_path)  # 64 x 60: not quite square, so padding is exercised too
    emoji = load_emoji_set(tmp_path)
    for label in CLASSES:
        image = emoji.scaled(label, size)
        assert image.size == (size, size)
        assert image.mode == "RGBA"
    assert emoji.scaled("happy", size) is emoji.scaled("happy", size)  # cached


def test_scaled_rejects_unknown_label() -> None:
    with pytest.raises(KeyError, match="grumpy"):
        load_emoji_set().scaled("grumpy", 64)


@pytest.mark.skipif(
    not NOTO_FONT.is_file(),
    reason=f"{NOTO_FONT} not installed (apt-get install -y fonts-noto-color-emoji)",
)
def test_render_script_writes_a_loadable_set(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    result = subprocess.run(
        [sys.executable, str(RENDER_SCRIPT), "--out", str(out), "--size", "256"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{label}.png" for label in CLASSES] + [MAPPING_FILE, "LICENSE-NotoColorEmoji.txt"]
    )
    notice = (out / "LICENSE-NotoColorEmoji.txt").read_text(encoding="utf-8")
    assert "Copyright" in notice and "Open Font License" in notice
    emoji = load_emoji_set(out)
    assert_real_glyphs(emoji)
    assert all(image.size == (256, 256) for image in emoji.images.values())


def test_render_script_reports_a_missing_font(tmp_path: Path) -> None:
    missing_font = tmp_path / "x.ttf"
    result = subprocess.run(
        [sys.executable, str(RENDER_SCRIPT), "--out", str(tmp_path), "--font", str(missing_font)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "fonts-noto-color-emoji" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


PLAIN_FONT = Path("/usr/share/fonts/truetype/noto/NotoMono-Regular.ttf")
"""A font without emoji (Debian's fonts-noto-mono): it draws each as the same empty box."""
needs_noto = pytest.mark.skipif(
    not NOTO_FONT.is_file(), reason=f"{NOTO_FONT} not installed (apt-get install -y fonts-noto-color-emoji)"
)


def run_render_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RENDER_SCRIPT), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def assert_one_error_line(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("render_emojis.py: error: "), result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@needs_noto
@pytest.mark.parametrize("out", ["a-file", "a-file/sub"])
def test_render_script_refuses_an_out_folder_a_file_is_in_the_way_of(tmp_path: Path, out: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = run_render_script("--out", str(tmp_path / out), "--size", "16")
    assert_one_error_line(result, f"--out {tmp_path / out}", "a file is in the way")
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"] and (tmp_path / "a-file").read_text() == "not a folder"


@pytest.mark.skipif(not PLAIN_FONT.is_file(), reason=f"{PLAIN_FONT} not installed (apt-get install -y fonts-noto-mono)")
def test_render_script_refuses_a_font_without_the_emoji(tmp_path: Path) -> None:
    """Seven identical empty boxes are no emoji set: refused before anything is written."""
    result = run_render_script("--out", str(tmp_path / "rendered"), "--font", str(PLAIN_FONT), "--size", "16")
    assert_one_error_line(result, str(PLAIN_FONT), "no emoji for angry")
    assert not list(tmp_path.iterdir())


@needs_noto
def test_render_script_writes_through_a_link_and_dot_dot(tmp_path: Path) -> None:
    """``--out link/../run`` with link -> elsewhere/sub is elsewhere/run; from Python 3.12 on, tempfile
    took the ``..`` away by its letters and staged the set in ./run, which is not there."""
    from helpers import load_script

    (tmp_path / "elsewhere" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere" / "run").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere" / "sub")
    load_script("render_emojis").write_all(tmp_path / "link" / ".." / "run", {"happy.png": b"picture"})
    assert [path.name for path in (tmp_path / "elsewhere" / "run").iterdir()] == ["happy.png"]
    assert not (tmp_path / "run").exists()


def test_render_script_failing_partway_leaves_the_old_set_whole(tmp_path: Path, monkeypatch, capsys) -> None:
    """One emoji that cannot be drawn (the fifth): the old set stays as it was, not old and new mixed."""
    from helpers import load_script

    folder = copy_shipped(tmp_path)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    script = load_script("render_emojis")
    render = script.render

    def fails_on_sad(char, font, size):
        if char == "\U0001F622":  # sad, after angry, disgust, fear and happy
            raise ValueError("the font has no visible glyph for U+1F622")
        return render(char, font, size)

    monkeypatch.setattr(script, "render", fails_on_sad)
    assert script.main(["--out", str(folder), "--size", "64"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("render_emojis.py: error: ") and "U+1F622" in err and len(err.strip().splitlines()) == 1
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
