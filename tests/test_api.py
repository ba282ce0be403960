"""The Python API as a script writer uses it: ``emojify.detect`` on each kind of picture, several faces,
no face, bad pictures, the object form, threads, the public names and the examples of docs/api.md."""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import ASTRONAUT_FACE, REPO, iou, load_script, overlap_fraction
from PIL import Image

import emojify
from emojify.labels import CLASSES, EMOJI


def assert_astronaut(faces: list[emojify.Face], box=ASTRONAUT_FACE) -> None:
    assert len(faces) == 1
    face = faces[0]
    assert face.label == "happy" and face.emoji == EMOJI["happy"]
    assert overlap_fraction(face.box, box) > 0.6, face.box
    assert set(face.probabilities) == set(CLASSES) and sum(face.probabilities.values()) == pytest.approx(1, abs=1e-3)
    assert max(face.probabilities, key=face.probabilities.get) == "happy"
    assert 0.5 < face.score <= 1.0
    assert isinstance(face.shape, emojify.Shape) and face.shape.smile > 0.5  # her broad smile, from the mesh


# --- each kind of picture --------------------------------------------------------------------

def test_path_str_and_pathlib(astronaut_jpg: Path) -> None:
    assert_astronaut(emojify.detect(astronaut_jpg))
    assert_astronaut(emojify.detect(str(astronaut_jpg)))


def test_bgr_gray_and_bgra_arrays(astronaut: np.ndarray) -> None:
    assert_astronaut(emojify.detect(astronaut))
    assert_astronaut(emojify.detect(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)))
    assert_astronaut(emojify.detect(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)[:, :, None]))  # gray with a channel axis
    big = cv2.resize(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY), (5000, 5000))[:, :, None]
    assert emojify.Reader().read(big).image.shape == (4096, 4096)  # gray (H, W) at every size
    assert emojify.Reader().read(big[:512, :384]).image.shape == (512, 384)
    assert_astronaut(emojify.detect(cv2.cvtColor(astronaut, cv2.COLOR_BGR2BGRA)))


SIXTEEN_BIT = {"I;16": "<u2", "I;16L": "<u2", "I;16B": ">u2", "I;16N": "=u2"}
"""Pillow's 16-bit gray modes and the byte order of their pixels."""


def pillow_picture(astronaut: np.ndarray, mode: str) -> Image.Image:
    """The astronaut as a Pillow image of ``mode``: 16/32-bit gray spanning 0..65535, float 0..1,
    "P+transparency" a palette with one transparent colour."""
    rgb = Image.fromarray(astronaut[:, :, ::-1].copy())
    gray = np.asarray(rgb.convert("L"))
    if mode in SIXTEEN_BIT:
        return Image.frombytes(mode, rgb.size, (gray.astype(SIXTEEN_BIT[mode]) * 257).tobytes())
    if mode == "I":
        return Image.fromarray(gray.astype(np.int32) * 257)
    if mode == "F":
        return Image.fromarray(gray.astype(np.float32) / 255)
    if mode == "P+transparency":
        palette = rgb.convert("P")
        palette.info["transparency"] = int(np.asarray(palette)[0, 0])
        return palette
    if mode == "La":  # premultiplied alpha: Pillow makes it only from LA
        return rgb.convert("LA").convert("La")
    return rgb.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "P+transparency", "LA", "La", "PA", "RGBa", "RGBX",
                                  "CMYK", "YCbCr", "1", "I", "F", *SIXTEEN_BIT])
def test_pillow_images(astronaut: np.ndarray, mode: str) -> None:
    """Every mode Pillow has: 16-bit and float pictures scaled as files of them are, not clipped white."""
    assert_astronaut(emojify.detect(pillow_picture(astronaut, mode)))


@pytest.mark.parametrize("mode", ["1", "L", "I;16", "F"])
def test_a_gray_picture_is_read_as_gray(astronaut: np.ndarray, mode: str) -> None:
    """Black-and-white, 16-bit and float pictures come back as one channel (``Reading.image`` (H, W)),
    a third of the memory of colour, as a gray file's pixels do."""
    reading = emojify.Reader().read(pillow_picture(astronaut, mode))
    assert reading.image.shape == astronaut.shape[:2] and reading.image.dtype == np.uint8
    if mode == "1":
        assert set(np.unique(reading.image)) <= {0, 255}


@pytest.mark.parametrize("mode", ["RGBA", "RGBa", "LA", "La", "PA"])
def test_transparent_pixels_of_a_pillow_image_are_white_as_in_a_file(astronaut: np.ndarray, mode: str) -> None:
    rgba = Image.fromarray(astronaut[:, :, ::-1].copy()).convert("RGBA")
    rgba.paste((0, 0, 0, 0), (0, 0, 60, 60))  # a transparent corner
    picture = rgba.convert("LA").convert("La") if mode == "La" else rgba.convert(mode)
    reading = emojify.Reader().read(picture)
    assert (reading.image[:60, :60] == 255).all()
    assert_astronaut(reading.faces)


def test_transparent_pixels_of_a_bgra_array_are_white_as_in_a_file(astronaut: np.ndarray, tmp_path: Path) -> None:
    """OpenCV's ``imread(..., IMREAD_UNCHANGED)`` of a cut-out: the hidden colour under transparent
    pixels (here black, or a half-transparent red corner) is not what the picture looks like."""
    bgra = cv2.cvtColor(astronaut, cv2.COLOR_BGR2BGRA)
    bgra[:60, :60] = (0, 0, 0, 0)
    bgra[:60, -60:] = (0, 0, 255, 128)
    cv2.imwrite(str(tmp_path / "cut-out.png"), bgra)
    reading, from_file = emojify.Reader().read(bgra), emojify.Reader().read(tmp_path / "cut-out.png")
    assert (reading.image[:60, :60] == 255).all() and (reading.image[0, -1] == (127, 127, 255)).all()
    assert np.array_equal(reading.image, from_file.image) and reading.faces == from_file.faces
    assert bgra[0, 0, 3] == 0, "the caller's array is left as it was"


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_pillow_phone_photo_is_read_upright_and_left_as_it_was(astronaut: np.ndarray, tmp_path: Path,
                                                                 orientation: int) -> None:
    """A phone photo stored turned, with an EXIF orientation (3: upside down, 6 and 8: sideways), that the
    caller opened: read upright as viewers show it, as a file given by path is; the caller's image unchanged."""
    turn = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    path = tmp_path / f"phone-{orientation}.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(astronaut[:, :, ::-1].copy()).transpose(turn).save(path, quality=95, exif=exif)
    with Image.open(path) as photo:
        faces = emojify.detect(photo)
        assert photo.getexif().get(0x0112) == orientation and photo.size == (512, 512)
    assert_astronaut(faces)
    assert abs(faces[0].shape.roll) < 10, faces[0].shape
    assert faces == emojify.detect(path)


def test_a_phone_photo_with_a_tag_pillow_cannot_write_back_is_read_upright(astronaut: np.ndarray, tmp_path: Path) -> None:
    """Turning a photo upright with Pillow's exif_transpose writes its EXIF block out again, which fails
    (struct.error, not an EmojifyError) on a tag Pillow reads but cannot write: here a negative width
    stored as a signed long, as odd GPS rationals are on some phones. ``predict`` stopped at such a
    photo with a traceback, the photos after it never read."""
    stored = io.BytesIO()
    Image.fromarray(cv2.rotate(astronaut, cv2.ROTATE_90_COUNTERCLOCKWISE)[:, :, ::-1].copy()).save(stored, "JPEG",
                                                                                                   quality=95)
    entries = (0x0100).to_bytes(2, "little") + (9).to_bytes(2, "little") + (1).to_bytes(4, "little") \
        + (-5).to_bytes(4, "little", signed=True) + (0x0112).to_bytes(2, "little") + (3).to_bytes(2, "little") \
        + (1).to_bytes(4, "little") + (6).to_bytes(4, "little")
    exif = b"Exif\0\0II*\0" + (8).to_bytes(4, "little") + (2).to_bytes(2, "little") + entries + bytes(4)
    data = stored.getvalue()
    path = tmp_path / "phone.jpg"
    path.write_bytes(data[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + data[2:])
    with Image.open(path) as photo:
        faces = emojify.detect(photo)
    assert_astronaut(faces)
    assert faces == emojify.detect(path)


@pytest.mark.parametrize("grey", [False, True])
def test_a_tiff_stored_turned_is_read_upright_at_its_own_scale(astronaut: np.ndarray, tmp_path: Path, grey: bool) -> None:
    """Pillow turns a TIFF of EXIF orientation 6 itself as it loads it, and gives its upright size from
    the start: the width was swapped twice, so its boxes came out at 0.75 of their place and size. A
    grey one, uncompressed, read by its name, Pillow mapped from the file and did not turn at all."""
    exif = Image.Exif()
    exif[0x0112] = 6
    wide = np.ascontiguousarray(astronaut[64:448])  # 512x384: the turn changes the width
    if grey:
        wide = cv2.cvtColor(wide, cv2.COLOR_BGR2GRAY)
    path = tmp_path / "turned.tif"
    stored = cv2.rotate(wide, cv2.ROTATE_90_COUNTERCLOCKWISE)
    Image.fromarray(stored if grey else stored[:, :, ::-1].copy()).save(path, exif=exif)
    reading = emojify.Reader().read(path)
    assert reading.image.shape == wide.shape and reading.scale == 1.0
    assert np.array_equal(reading.image, wide)
    [upright] = emojify.detect(wide)
    [face] = reading.faces
    assert iou(face.box, upright.box) > 0.9, (face.box, upright.box)


def test_a_photo_whose_exif_block_is_damaged_is_read_as_stored(astronaut: np.ndarray, tmp_path: Path) -> None:
    """A WebP whose EXIF block is damaged (its TIFF header overwritten) but whose pixels are whole: only
    which way up is lost, so it is read as stored, by path and as a Pillow image, not refused as corrupt."""
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    stored = io.BytesIO()
    Image.fromarray(astronaut[:, :, ::-1].copy()).save(stored, "WEBP", lossless=True, exif=exif)
    data = stored.getvalue()
    header = data.index(b"EXIF") + 8  # the chunk's name, its size, then the TIFF header "II*" or "MM*"
    path = tmp_path / "damaged-exif.webp"
    path.write_bytes(data[:header] + b"XX" + data[header + 2:])
    with Image.open(path) as photo:
        assert photo.convert("RGB").size == (512, 512)  # Pillow decodes the pixels
        faces = emojify.detect(photo)
    assert_astronaut(faces)
    assert faces == emojify.detect(path) == emojify.detect(astronaut)


def short_exif_jpeg(astronaut: np.ndarray, path: Path, orientation: int | None = None) -> Path:
    """The astronaut as a JPEG whose EXIF block says it holds one entry more than it does (as some
    editors leave them): the Orientation entry, where given, and then nothing."""
    stored = io.BytesIO()
    turned = {None: astronaut, 6: cv2.rotate(astronaut, cv2.ROTATE_90_COUNTERCLOCKWISE)}[orientation]
    Image.fromarray(turned[:, :, ::-1].copy()).save(stored, "JPEG", quality=95)
    entries = b"" if orientation is None else (0x0112).to_bytes(2, "little") + (3).to_bytes(2, "little") \
        + (1).to_bytes(4, "little") + orientation.to_bytes(4, "little")
    exif = b"Exif\0\0II*\0" + (8).to_bytes(4, "little") + (len(entries) // 12 + 1).to_bytes(2, "little") + entries
    data = stored.getvalue()
    path.write_bytes(data[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + data[2:])
    return path


def test_a_damaged_exif_block_is_read_upright_on_every_thread_and_the_warnings_filters_are_left_alone(
        astronaut: np.ndarray, tmp_path: Path) -> None:
    """Pillow warns "Corrupt EXIF data" for these; the photo is read as the entry it has says (turned
    upright), from a file and as a Pillow image, on several threads at once. The warnings are the
    caller's to filter (the commands do): the filters are the process's, and the library leaves them
    as they were (changing them for a moment is not thread-safe: concurrent reads left theirs behind)."""
    import warnings

    path = short_exif_jpeg(astronaut, tmp_path / "turned.jpg", orientation=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = list(warnings.filters)
        with Image.open(path) as photo, ThreadPoolExecutor(4) as pool:
            found = list(pool.map(emojify.detect, [photo, *[path] * 24]))
        assert warnings.filters == before
    assert len(found) == 25
    for faces in found:
        assert_astronaut(faces)


def test_a_float_picture_with_nan_or_infinite_pixels_is_read_alike_at_every_size(tmp_path: Path) -> None:
    """A scientific export with a few undefined (NaN) or overflowing (inf) pixels: gray as its other
    values say, NaN black and inf white, the same shrunk as at full size (it was black at full size,
    gray when shrunk, with NumPy's "invalid value encountered in cast" on stderr)."""
    import warnings

    from emojify.imageio import read_image

    pixels = np.full((300, 400), 0.5, np.float32)
    pixels[0, 0], pixels[10, 10], pixels[20, 20] = np.nan, np.inf, 1.0
    Image.fromarray(pixels, "F").save(tmp_path / "float.tif")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full, small = read_image(tmp_path / "float.tif"), read_image(tmp_path / "float.tif", max_side=100)
    assert full[0, 0] == 0 and full[10, 10] == 255 and full[50, 50] == 127
    assert small.shape == (75, 100) and abs(float(np.median(small)) - 127) <= 1


def test_a_sixteen_bit_picture_shrunk_a_lot_is_read_and_as_bright_as_at_full_size(tmp_path: Path) -> None:
    """Shrunk more than 4 times (a 16-bit panorama of 20000 pixels; here a smaller limit) it was refused
    as corrupt ("image has wrong mode"). Its brightness comes from the full picture's brightest value:
    the shrunk copy's averages lose a lone bright pixel, which made a large picture brighter than the
    same picture read at full size."""
    from emojify.imageio import read_image

    pixels = np.full((900, 1200), 200, np.uint16)
    pixels[5, 5] = 300  # one value over 255: the picture spans 0..65535, and 200 is nearly black
    Image.fromarray(pixels).save(tmp_path / "dark.png")
    Image.fromarray(pixels * 100).save(tmp_path / "bright.png")
    assert read_image(tmp_path / "dark.png", max_side=100).max() <= 1 and read_image(tmp_path / "dark.png").max() <= 1
    assert read_image(tmp_path / "bright.png", max_side=100).shape == (75, 100)
    assert abs(read_image(tmp_path / "bright.png", max_side=100).mean() - 200 * 100 * 255 / 65535) < 1


def test_a_pillow_image_closed_before_it_was_loaded_is_an_image_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), "white").save(path)
    with Image.open(path) as photo:
        pass  # closed, its pixels never decoded
    with pytest.raises(emojify.EmojifyError, match=r"^image: cannot read the Pillow image \("):
        emojify.detect(photo)


def test_a_file_decoded_smaller_gives_boxes_in_its_own_pixels(astronaut: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "big.png"  # 10x the astronaut: 5120 pixels, decoded at 4096
    cv2.imwrite(str(path), cv2.resize(astronaut, None, fx=10, fy=10, interpolation=cv2.INTER_NEAREST))
    assert_astronaut(emojify.detect(path), tuple(10 * v for v in ASTRONAUT_FACE))


def test_a_large_pillow_image_or_array_is_read_smaller_as_a_file_is(astronaut: np.ndarray, tmp_path: Path) -> None:
    """A 5120-pixel picture given as a Pillow image or an array is searched at 4096 pixels, as its file is
    (the same answer, without the cost of searching every pixel); the caller's picture is left as it was."""
    from emojify.api import as_image
    from emojify.imageio import read_image_scaled

    big = cv2.resize(astronaut, None, fx=10, fy=10, interpolation=cv2.INTER_NEAREST)
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), big)
    picture, untouched = Image.fromarray(big[:, :, ::-1].copy()), big.copy()
    from_file = read_image_scaled(path)
    for given in (picture, big, big[:, ::-1]):
        image, scale = as_image(given)
        assert image.shape == from_file[0].shape and scale == from_file[1] == 1.25
    assert picture.size == (5120, 5120) and np.array_equal(big, untouched)
    assert_astronaut(emojify.detect(picture), tuple(10 * v for v in ASTRONAUT_FACE))


def test_a_large_pillow_image_is_read_smaller_without_full_size_copies() -> None:
    """A 12000x12000 gray Pillow image (144 MB) took two more full-size copies on its way to the search (an
    array of it, then a copy of that): on a Pi, a photo given as a Pillow image cost 3.5 times the memory
    of the same photo given as a file. It is scaled down by Pillow first now."""
    code = """if True:
        import resource, numpy, emojify
        from PIL import Image
        emojify.detect(numpy.zeros((64, 64), numpy.uint8))  # the models loaded
        picture = Image.new("L", (12000, 12000), 128)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        emojify.detect(picture)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 144 * 0.75, f"{done.stdout.strip()} MB more at the peak: a full-size copy or more"


def test_no_face_is_an_empty_list(astronaut: np.ndarray) -> None:
    assert emojify.detect(np.full((300, 400, 3), 128, np.uint8)) == []
    assert emojify.detect(np.zeros((300, 400), np.uint8), all_faces=True) == []


def test_region_keeps_only_faces_inside_it(astronaut: np.ndarray) -> None:
    canvas = np.full((1024, 1536, 3), 90, np.uint8)
    canvas[256:768, :512] = astronaut  # her face in the left third, outside the centred half
    assert emojify.detect(canvas, region=0.5) == []
    assert len(emojify.detect(canvas)) == 1
    canvas[256:768, 512:1024] = astronaut
    faces = emojify.detect(canvas, region=0.5, all_faces=True)
    assert len(faces) == 1 and faces[0].label == "happy" and faces[0].box[0] > 512


@pytest.mark.parametrize("frame", [(480, 640), (720, 1280), (1080, 1080)])
def test_a_region_finds_faces_of_a_seventh_of_its_side_and_not_a_ninth(astronaut: np.ndarray, frame) -> None:
    """What docs/api.md says of ``region``: one quick look for faces close to the camera, so even
    ``region=1.0`` misses a face of a ninth of the picture's longer side that the thorough search finds
    (the astronaut's is found down to 1/7.5 of it and missed from 1/7.75)."""
    def canvas_with_face(side: float) -> np.ndarray:
        scale = side / ASTRONAUT_FACE[2]
        copy = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((*frame, 3), 120, np.uint8)
        y, x = (frame[0] - copy.shape[0]) // 2, (frame[1] - copy.shape[1]) // 2
        canvas[max(0, y):max(0, y) + min(frame[0], copy.shape[0]), x:x + copy.shape[1]] = copy[:frame[0]]
        return canvas

    longer = max(frame)
    assert len(emojify.detect(canvas_with_face(longer / 7), region=1.0)) == 1
    small = canvas_with_face(longer / 9)
    assert emojify.detect(small, region=1.0) == [] and len(emojify.detect(small)) == 1


# --- several faces ---------------------------------------------------------------------------

def astronaut_group(astronaut: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Three copies of the astronaut at 100%, 70% and 45% on one canvas, and where their faces are."""
    canvas = np.full((600, 1400, 3), 128, np.uint8)
    faces, x = [], 0
    for scale in (1.0, 0.7, 0.45):
        copy = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas[40:40 + copy.shape[0], x:x + copy.shape[1]] = copy
        faces.append((x + round(ASTRONAUT_FACE[0] * scale), 40 + round(ASTRONAUT_FACE[1] * scale),
                      round(ASTRONAUT_FACE[2] * scale), round(ASTRONAUT_FACE[3] * scale)))
        x += copy.shape[1] + 40
    return canvas, faces


def test_several_faces_largest_first(astronaut: np.ndarray) -> None:
    canvas, where = astronaut_group(astronaut)
    faces = emojify.detect(canvas, all_faces=True)
    assert [face.box[2] * face.box[3] for face in faces] == sorted((f.box[2] * f.box[3] for f in faces), reverse=True)
    on_copies = [next(face for face in faces if iou(face.box, box) > 0.4) for box in where]
    assert [face.label for face in on_copies] == ["happy"] * 3
    assert [faces.index(face) for face in on_copies] == sorted(faces.index(face) for face in on_copies)
    # the whole-picture look may add a doubtful box on the bare canvas (seen: one scoring 0.5-0.57
    # around the smallest copy, depending on the canvas's grey and width); never a confident one
    assert all(face.score < 0.6 for face in faces if face not in on_copies)
    assert emojify.detect(canvas) == faces[:1]


def test_group_picture_gives_every_face(fer_root: Path) -> None:
    group_faces = load_script("group_faces")
    picture, placed = group_faces.group_picture(fer_root)
    faces = emojify.detect(picture, all_faces=True)
    found, stray = group_faces.score([face.box for face in faces], placed)
    assert (found, stray) == (len(placed), 0)


# --- bad pictures, bad settings ----------------------------------------------------------------

def closed_pillow_image() -> Image.Image:
    picture = Image.new("RGB", (10, 10))
    picture.close()
    return picture


@pytest.mark.parametrize("bad", [
    "no-such-file.jpg", np.zeros((10, 10), np.float32), np.zeros((10, 10, 2), np.uint8),
    np.zeros((0, 10), np.uint8), 42, b"not a picture", closed_pillow_image(), Image.new("RGB", (0, 0))],
    ids=["missing", "float", "2-channel", "empty", "int", "bytes", "closed-pillow-image", "empty-pillow-image"])
def test_a_bad_picture_is_an_emojify_error_of_one_line(bad) -> None:
    with pytest.raises(emojify.EmojifyError) as caught:
        emojify.detect(bad)
    assert "\n" not in str(caught.value) and str(caught.value)


@pytest.mark.parametrize(("bad", "kind"), [(42, "int"), (None, "NoneType"), ([1, 2], "list")])
def test_what_is_no_picture_is_named_by_its_type(bad, kind) -> None:
    with pytest.raises(emojify.EmojifyError) as caught:
        emojify.detect(bad)
    assert str(caught.value) == f"image: got {kind}; expected a path, a NumPy array or a Pillow image"


def test_an_empty_path_is_named_as_such() -> None:
    with pytest.raises(emojify.EmojifyError, match="empty path"):  # not ".: is a directory"
        emojify.detect("")
    with pytest.raises(emojify.EmojifyError, match="model: an empty path"):  # not the shipped model in silence
        emojify.Reader(model="")


class BytesPath:
    """An ``os.PathLike`` whose path is bytes, as the entries of ``os.scandir(b"folder")`` are."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> bytes:
        return bytes(self.path)


def test_a_path_given_as_bytes_or_a_folder_for_the_model_is_an_emojify_error(astronaut_jpg: Path) -> None:
    """Not Path()'s TypeError, nor with_suffix()'s ValueError for "/": one line saying what is wrong."""
    with pytest.raises(emojify.EmojifyError, match="image .*: a path given as bytes"):
        emojify.detect(BytesPath(astronaut_jpg))
    with pytest.raises(emojify.EmojifyError, match="model .*: a path given as bytes"):
        emojify.Reader(model=BytesPath(REPO / "model" / "emotion_int8.tflite"))
    for folder in ("/", Path("")):
        with pytest.raises(emojify.EmojifyError, match=r"cannot read model \(Is a directory\)"):
            emojify.Reader(model=folder)


def test_a_nul_in_a_file_name_is_said_so() -> None:
    with pytest.raises(emojify.EmojifyError, match="not a valid file name"):  # not "no such file"
        emojify.detect("face\x00.jpg")
    with pytest.raises(emojify.EmojifyError, match="not a valid file name"):  # not open()'s ValueError
        emojify.Reader(model="model\x00.tflite")


def test_an_error_naming_a_file_with_a_line_break_is_one_line(tmp_path: Path) -> None:
    """The API's errors are one line, as api.md says: a line break in a file name was carried into it."""
    with pytest.raises(emojify.EmojifyError) as caught:
        emojify.detect(tmp_path / "smile\nplease.jpg")
    assert str(caught.value) == f"{tmp_path}/smile\\nplease.jpg: no such file"


def test_a_corrupt_file_is_an_emojify_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(emojify.EmojifyError, match="broken.jpg"):
        emojify.detect(path)


@pytest.mark.parametrize("region", [0, -0.5, 1.5, "half", True, 0.05])  # True is an int, 1, to Python: not a share
def test_a_bad_region_is_refused(astronaut: np.ndarray, region) -> None:
    """0.05 found no face in silence, where ``--region`` and the settings file refuse under 0.1."""
    with pytest.raises(emojify.EmojifyError, match=r"region .*from 0\.1 to 1$"):
        emojify.detect(astronaut, region=region)
    emojify.detect(astronaut, region=0.1)  # the range's ends are taken
    assert_astronaut(emojify.detect(astronaut, region=1))


@pytest.mark.parametrize(("options", "word"), [({"region": np.float32(0.6)}, None), ({"region": np.bool_(True)}, "region"),
                                               ({"all_faces": "no"}, "all_faces"), ({"all_faces": np.bool_(False)}, None)],
                         ids=repr)
def test_numpy_numbers_are_options_and_a_word_is_no_switch(astronaut: np.ndarray, options, word) -> None:
    """A region from a NumPy computation is a share like any float; ``all_faces="no"`` is refused, not taken for yes."""
    if word:
        with pytest.raises(emojify.EmojifyError, match=word):
            emojify.detect(astronaut, **options)
    else:
        assert_astronaut(emojify.detect(astronaut, **options))


@pytest.mark.parametrize("model", [b"model.tflite", 123])
def test_a_model_that_is_no_path_is_an_emojify_error(model) -> None:
    with pytest.raises(emojify.EmojifyError, match="expected the path of a .tflite file"):
        emojify.Reader(model=model)


def test_a_file_that_may_not_be_read_is_said_so_not_called_corrupt(astronaut_jpg: Path, monkeypatch) -> None:
    from PIL import Image

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Image, "open", refused)
    with pytest.raises(emojify.EmojifyError) as caught:
        emojify.detect(astronaut_jpg)
    assert str(caught.value) == f"{astronaut_jpg}: cannot read it (Permission denied)"


def test_the_reading_image_is_a_copy_to_draw_on(astronaut: np.ndarray, tmp_path: Path) -> None:
    """The docs give it for drawing: drawing must not change the caller's array, nor fail on a read-only one."""
    before = astronaut.copy()
    frozen = astronaut.copy()
    frozen.flags.writeable = False
    gray = Image.fromarray(astronaut[:, :, 1])
    gray.save(tmp_path / "gray.png")
    for picture in (astronaut, frozen, astronaut[:, :, 0], gray, tmp_path / "gray.png", Image.fromarray(astronaut)):
        reading = emojify.Reader().read(picture)
        cv2.rectangle(reading.image, (0, 0), (50, 50), 0, -1)
    assert np.array_equal(astronaut, before) and np.array_equal(frozen, before)


def test_models_load_and_run_where_there_is_no_stderr(astronaut_jpg: Path) -> None:
    """``pythonw``, a windowed executable, a daemon that closed its stderr: the first call used to blame the model."""
    code = ("import sys, emojify; sys.stderr = None; print(emojify.detect(sys.argv[1])[0].label, "
            "emojify.Reader(detector='haar').detect(sys.argv[1])[0].label)")
    done = subprocess.run(["bash", "-c", f'"{sys.executable}" -c "$0" "$1" 2>&-', code, str(astronaut_jpg)],
                          check=False, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert (done.returncode, done.stdout.split()) == (0, ["happy", "happy"]), done.stderr


def test_the_interpreters_start_up_line_is_hidden_with_stderr_redirected_in_python(astronaut_jpg: Path) -> None:
    """A notebook or a script with ``contextlib.redirect_stderr``: sys.stderr is no stream on descriptor
    2, and the native "INFO: Created TensorFlow Lite XNNPACK delegate" line must still not show."""
    code = ("import contextlib, io, sys, emojify\nwith contextlib.redirect_stderr(io.StringIO()):\n"
            "    print(emojify.detect(sys.argv[1])[0].label)")
    done = subprocess.run([sys.executable, "-c", code, str(astronaut_jpg)], check=False, capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "happy", "")


def test_only_the_process_s_first_interpreter_is_made_with_stderr_silenced(monkeypatch) -> None:
    """Every interpreter was made with stderr sent to /dev/null (to hide the start-up line, written
    once a process), a BlazeFace for each new picture size with ``region``: what other threads wrote
    to stderr meanwhile was lost (124 of 133 lines arrived)."""
    from emojify import classifier

    emojify.Reader()  # the process has made an interpreter
    silenced = []
    monkeypatch.setattr(classifier, "native_stderr_silenced", lambda: silenced.append(1) or contextlib.nullcontext())
    emojify.Reader()
    emojify.detect(np.zeros((333, 355, 3), np.uint8), region=0.6)  # a size of its own: a BlazeFace made for it
    assert silenced == []


@pytest.mark.parametrize(("module", "message"), [
    ("cv2", "emojify: OpenCV is not installed here; pip install opencv-python-headless"),
    ("PIL", "emojify: needs the Python package Pillow, which is not installed here (pip install Pillow)")])
def test_a_missing_library_is_an_import_error_naming_what_to_install(module: str, message: str) -> None:
    """``import emojify`` stays light; the first use of the API says which package is missing (it was
    Python's own "import of cv2 halted", naming no package), still a ModuleNotFoundError."""
    code = (f"import sys; sys.modules[{module!r}] = None; import emojify\n"
            "try:\n    emojify.detect\nexcept ModuleNotFoundError as error:\n    print(error)")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120,
                          cwd=REPO)
    assert (done.returncode, done.stdout.strip()) == (0, message), done.stderr


def test_without_stderr_the_file_now_at_descriptor_2_is_left_alone(tmp_path: Path) -> None:
    """A daemon that closed stderr and then opened its log: the log is descriptor 2, and loading the
    models must not send it to /dev/null meanwhile."""
    code = ("import os, sys\nlog = open(sys.argv[1], 'w')\nassert log.fileno() == 2\n"
            "from emojify.classifier import native_stderr_silenced\n"
            "with native_stderr_silenced():\n    os.write(2, b'inside')\nlog.close()")
    done = subprocess.run(["bash", "-c", f'"{sys.executable}" -c "$0" "$1" 2>&-', code, str(tmp_path / "log")],
                          check=False, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "log").read_text() == "inside"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_does_not_wait_for_a_lock_held_in_the_parent(astronaut_jpg: Path) -> None:
    """A ``fork`` process pool started while another thread holds one of the API's locks (here the
    default reader's, as while it is made): the workers inherited the held lock and waited for it for
    ever. A worker starts with new locks."""
    import multiprocessing

    from emojify import api

    emojify.detect(astronaut_jpg)  # the parent's default models are loaded
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    worker = context.Process(target=_labels_into, args=(astronaut_jpg, answers))
    inside, done = threading.Event(), threading.Event()

    def another_thread_inside_detect() -> None:  # a fork waits for the models' lock, not for this one
        with api._DEFAULT_LOCK:
            inside.set()
            done.wait(0.5)

    holder = threading.Thread(target=another_thread_inside_detect)
    holder.start()
    inside.wait()
    worker.start()
    done.set()
    holder.join()
    worker.join(60)
    waited_for_ever = worker.is_alive()
    if waited_for_ever:
        worker.kill()
        worker.join()
    assert not waited_for_ever and answers.get(timeout=10) == ["happy"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_workers_read_faces_while_a_thread_of_the_parent_reads_them(astronaut: np.ndarray) -> None:
    """docs/api.md's advice, a ``fork`` process pool, while another thread reads faces: a worker forked
    in the middle of a model call shared the interpreter with a view of its input held, and every call
    there failed ('There is at least 1 reference to internal data'): 4 of 5 workers, as measured."""
    import concurrent.futures
    import multiprocessing

    emojify.detect(astronaut)
    stop = threading.Event()
    reading = threading.Thread(target=lambda: [emojify.detect(astronaut) for _ in iter(stop.is_set, True)])
    reading.start()
    try:
        answers = []
        for _ in range(4):
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
                answers.append(pool.submit(_three_labels, astronaut).result(timeout=120))
    finally:
        stop.set()
        reading.join()
    assert answers == [["happy"] * 3] * 4


def _three_labels(picture: np.ndarray) -> list[str]:
    return [emojify.detect(picture)[0].label for _ in range(3)]


def _labels_into(path: Path, answers) -> None:
    answers.put([face.label for face in emojify.detect(path)])


def test_reader_with_haar_and_a_model_file(astronaut: np.ndarray) -> None:
    reader = emojify.Reader(model=REPO / "model" / "emotion_int8.tflite", detector="haar")
    assert_astronaut(reader.detect(astronaut))


def test_reader_refuses_a_bad_detector_and_a_damaged_model(tampered_model: Path) -> None:
    with pytest.raises(emojify.EmojifyError, match="haar"):
        emojify.Reader(detector="mtcnn")
    with pytest.raises(emojify.EmojifyError, match="checksum"):
        emojify.Reader(model=tampered_model)


def test_readings_compare_as_themselves(astronaut: np.ndarray) -> None:
    """A Reading holds an array: compared or hashed, it is itself, not an error about an array's truth value."""
    reader = emojify.Reader()
    first, again = reader.read(astronaut), reader.read(astronaut)
    assert first != again and len({first, again}) == 2
    assert first.faces == again.faces


def test_face_is_frozen_and_json_ready(astronaut: np.ndarray) -> None:
    import json

    face = emojify.detect(astronaut)[0]
    with pytest.raises(AttributeError):
        face.label = "sad"  # type: ignore[misc]
    data = json.loads(json.dumps(face.as_dict()))
    assert data["label"] == "happy" and data["box"] == list(face.box) and len(data["probabilities"]) == len(CLASSES)


# --- threads ----------------------------------------------------------------------------------

def test_threads_give_the_answers_of_one_thread(astronaut: np.ndarray) -> None:
    canvas, _ = astronaut_group(astronaut)
    pictures = [astronaut, canvas, cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY), np.full((200, 200), 128, np.uint8),
                cv2.flip(astronaut, 1)] * 4
    reader = emojify.Reader()
    one = [reader.detect(p, all_faces=True) for p in pictures]
    with ThreadPoolExecutor(max_workers=6) as pool:  # two readers and the module function at once
        many = list(pool.map(lambda p: emojify.detect(p, all_faces=True), pictures))
        many_reader = list(pool.map(lambda p: reader.detect(p, all_faces=True), pictures))
    assert many == one and many_reader == one


def test_one_opened_pillow_image_from_several_threads(astronaut_jpg: Path) -> None:
    """``Image.open`` decodes on first use, and two threads decoding one image at once corrupt it: the same
    opened photo given from several threads is read right by each (five rounds, as the clash is a race)."""
    expected = emojify.detect(astronaut_jpg)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            with Image.open(astronaut_jpg) as photo:
                assert list(pool.map(emojify.detect, [photo] * 4)) == [expected] * 4


# --- the package's face ------------------------------------------------------------------------

def test_all_names_the_whole_api() -> None:
    from emojify import api

    namespace: dict = {}
    exec("from emojify import *", namespace)  # noqa: S102 - what a user's star import gives
    assert set(namespace) - {"__builtins__"} == set(emojify.__all__) == set(dir(emojify))
    assert set(api.__all__) | {"EmojifyError", "__version__"} == set(emojify.__all__)
    assert emojify.Shape is emojify.shape.Shape
    for name in api.__all__:
        assert getattr(emojify, name) is getattr(api, name)
    with pytest.raises(AttributeError):
        emojify.no_such_name  # noqa: B018


def test_import_emojify_stays_light() -> None:
    code = "import sys, emojify; print(sorted(m for m in ('cv2', 'numpy', 'PIL') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                          cwd=REPO)
    assert done.stdout.strip() == "[]"


def test_package_is_typed() -> None:
    assert (Path(emojify.__file__).parent / "py.typed").is_file()


def test_docs_api_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the examples read the checkout's sample photo
    failures, tried = doctest.testfile(str(REPO / "docs" / "api.md"), module_relative=False,
                                       optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried >= 5 and failures == 0
