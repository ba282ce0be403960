"""The preprocessing contract: whatever comes in, the model gets the same kind of 48x48 face.

Training, evaluation and the kiosk share :func:`emojify.preprocess.prepare_face`; these tests pin
what a user relies on: any image works, lighting does not change what the model sees, faces at
the edge of the picture are not squashed, and training crops match run-time crops.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from helpers import fer_files, largest_face, make_fer_folder

from emojify.faces import BlazeFaceDetector, HaarDetector
from emojify.imageio import read_image
from emojify.preprocess import BLAZEFACE_MARGIN, BLAZEFACE_SHIFT, FACE_MARGIN, INPUT_SIZE, crop_square, prepare_face


def face_of(astronaut: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The astronaut photo and the detector's box around her face."""
    box = largest_face(HaarDetector.for_stills(), astronaut)
    assert box is not None, "the still detector finds no face in the astronaut photo"
    return astronaut, box


def inputs(astronaut: np.ndarray) -> dict[str, np.ndarray]:
    gray = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    return {
        "bgr": astronaut,
        "gray": gray,
        "gray 3-D (H, W, 1)": gray[:, :, None],
        "bgra": cv2.cvtColor(astronaut, cv2.COLOR_BGR2BGRA),
        "non-contiguous view": astronaut[::2, ::-1],
        "tiny 5x3": cv2.resize(astronaut, (3, 5), interpolation=cv2.INTER_AREA),
        "1x1": astronaut[:1, :1],
        "huge 6000x4000": cv2.resize(astronaut, (4000, 6000)),
    }


KINDS = ["bgr", "gray", "gray 3-D (H, W, 1)", "bgra", "non-contiguous view",
         "tiny 5x3", "1x1", "huge 6000x4000"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_box", [False, True], ids=["whole image", "with box"])
def test_any_input_gives_a_48x48_uint8_face(astronaut, kind, with_box):
    image = inputs(astronaut)[kind]
    rows, cols = image.shape[:2]
    box = (cols // 4, rows // 4, max(1, cols // 2), max(1, rows // 2)) if with_box else None
    face = prepare_face(image, box)
    assert face.shape == (INPUT_SIZE, INPUT_SIZE)
    assert face.dtype == np.uint8


def test_an_alpha_image_gives_the_same_face_as_without(astronaut):
    """A BGRA picture (a screenshot, a PNG with an alpha channel) is the same face to the model."""
    image, box = face_of(astronaut)
    assert np.array_equal(prepare_face(inputs(astronaut)["bgra"], box), prepare_face(image, box))


def test_prepared_face_uses_the_full_gray_range(astronaut):
    """Equalisation: a low-contrast face still reaches from near black to near white."""
    image, box = face_of(astronaut)
    flat = (image.astype(np.float32) * 0.3 + 90).astype(np.uint8)  # grey, washed out
    face = prepare_face(flat, box)
    assert face.min() <= 10 and face.max() >= 245


LIGHTING = {"dark (x0.2)": (0.2, 0), "dim (x0.5)": (0.5, 0), "washed out (x0.5 + 100)": (0.5, 100)}


@pytest.mark.parametrize("lighting", list(LIGHTING))
def test_dim_or_washed_out_face_gives_nearly_the_same_input(astronaut, lighting):
    """A face in a dim room (or against the light) reaches the model as nearly the same 48x48 input."""
    image, box = face_of(astronaut)
    gain, offset = LIGHTING[lighting]
    changed = np.clip(image.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
    original, relit = prepare_face(image, box).astype(float), prepare_face(changed, box).astype(float)
    # without equalisation the two crops differ a lot ...
    raw = lambda img: cv2.resize(crop_square(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), box), (48, 48)).astype(float)
    raw_difference = np.abs(raw(image) - raw(changed)).mean()
    # ... after preparation they are nearly the same picture
    difference = np.abs(original - relit).mean()
    assert difference < 8, f"mean difference {difference:.1f} gray levels after preparation"
    assert difference < raw_difference / 3
    assert np.corrcoef(original.ravel(), relit.ravel())[0, 1] > 0.97


def test_darkened_face_gets_the_same_prediction(astronaut, classifier):
    """The classifier sees the same face: its probabilities barely move when the photo is dark."""
    image, box = face_of(astronaut)
    dark = (image.astype(np.float32) * 0.2).astype(np.uint8)
    p_bright, p_dark = classifier.predict(np.stack([prepare_face(image, box), prepare_face(dark, box)]))
    assert np.argmax(p_bright) == np.argmax(p_dark)
    assert np.abs(p_bright - p_dark).sum() < 0.3


# --- crops at the border -------------------------------------------------------------------

def disk_image(centre: tuple[int, int], radius: int = 20, size: tuple[int, int] = (300, 400)) -> np.ndarray:
    """A gray picture: dark background, a bright disk (the "face") with a dark spot above its centre."""
    image = np.full(size, 40, np.uint8)
    cv2.circle(image, centre, radius, 220, -1)
    cv2.circle(image, (centre[0], centre[1] - radius // 2), radius // 5, 40, -1)  # an asymmetric mark
    return image


def bright_centroid(face: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(face > 128)
    return float(xs.mean()), float(ys.mean())


@pytest.mark.parametrize("corner", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_crop_at_the_border_pads_instead_of_shrinking(corner):
    """A face touching the picture's edge gives the same 48x48 input as the face in the middle."""
    radius = 20
    rows, cols = 300, 400
    near = {"top-left": (radius, radius), "top-right": (cols - radius - 1, radius),
            "bottom-left": (radius, rows - radius - 1), "bottom-right": (cols - radius - 1, rows - radius - 1)}
    middle = (cols // 2, rows // 2)
    faces = {}
    for where, centre in (("edge", near[corner]), ("middle", middle)):
        box = (centre[0] - radius, centre[1] - radius, 2 * radius + 1, 2 * radius + 1)
        faces[where] = prepare_face(disk_image(centre, radius, (rows, cols)), box)
    edge, centred = faces["edge"], faces["middle"]
    assert edge.shape == (INPUT_SIZE, INPUT_SIZE)
    cx, cy = bright_centroid(edge)
    assert abs(cx - (INPUT_SIZE - 1) / 2) < 1.5 and abs(cy - (INPUT_SIZE - 1) / 2) < 2.5, (cx, cy)
    # same size and place as the face in the middle of the picture: not stretched or shifted
    assert abs((edge > 128).sum() - (centred > 128).sum()) <= 0.05 * (centred > 128).sum()
    assert np.abs(edge.astype(int) - centred.astype(int)).mean() < 3


def test_crop_square_keeps_the_margin_and_is_square():
    image = disk_image((200, 150))
    crop = crop_square(image, (180, 130, 40, 40), margin=FACE_MARGIN)
    side = round(40 * (1 + 2 * FACE_MARGIN))
    assert crop.shape == (side, side)
    wide = crop_square(image, (170, 140, 60, 20))  # a non-square box gives a square around its longer side
    assert wide.shape[0] == wide.shape[1] >= 60


# --- training and run time agree ------------------------------------------------------------

def test_training_loader_gives_exactly_the_runtime_input(tmp_path):
    """The training loader's faces equal ``prepare_face(cv2.imread(file))`` for the same files."""
    from emojify.training.data import load_dataset

    images = make_fer_folder(tmp_path / "fer", train=2, public=1, private=1)
    splits = load_dataset(tmp_path / "fer", cache_dir=tmp_path / "cache")
    for split in ("train", "val", "test"):
        expected = [prepare_face(cv2.imread(str(i.path), cv2.IMREAD_UNCHANGED)) for i in images if i.split == split]
        got = splits[split].x
        assert len(got) == len(expected)
        # same multiset of faces (the loader's order is its own business)
        key = lambda a: a.tobytes()
        assert sorted(map(key, got)) == sorted(map(key, expected))


def test_runtime_image_reader_decodes_like_the_training_loader(tmp_path, astronaut):
    """``emojify evaluate``/``predict`` read files with Pillow, training with OpenCV: same faces."""
    paths = []
    for name, image in (("gray.jpg", cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)),
                        ("colour.png", astronaut), ("gray.png", cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY))):
        paths.append(tmp_path / name)
        cv2.imwrite(str(paths[-1]), image)
    for path in paths:
        assert np.array_equal(prepare_face(read_image(path)),
                              prepare_face(cv2.imread(str(path), cv2.IMREAD_UNCHANGED))), path.name


def test_runtime_image_reader_decodes_fer_images_like_the_training_loader(fer_root):
    files = [p for cls in ("happy", "sad", "angry") for p in fer_files(fer_root, "test", cls, count=10)]
    for path in files:
        assert np.array_equal(prepare_face(read_image(path)),
                              prepare_face(cv2.imread(str(path), cv2.IMREAD_UNCHANGED))), path.name


@pytest.mark.parametrize("detector", [HaarDetector, BlazeFaceDetector])
def test_face_margin_matches_fer2013_crops(fer_root, detector):
    """FER2013 crops are the detector's box plus its margin per side: re-measured on PublicTest, one
    margin per detector (and for BlazeFace, whose box sits lower, the shift of the centre too).

    Each 48x48 crop is upscaled 4x and searched with the still detector; the crop's side over the
    box's side, minus one, halved, is the margin the crop has around the detector's box.
    """
    files = sorted((fer_root / "test").glob("*/PublicTest_*.jpg"))
    files = files[:: max(1, len(files) // 200)][:200]
    search = detector.for_stills()
    margins, shifts = [], []
    for path in files:
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        big = cv2.resize(gray, (4 * gray.shape[1], 4 * gray.shape[0]), interpolation=cv2.INTER_LINEAR)
        box = largest_face(search, big)
        if box is not None:
            side = max(box[2], box[3])
            margins.append((big.shape[0] / side - 1) / 2)
            shifts.append((big.shape[0] / 2 - (box[1] + box[3] / 2)) / side)
    assert len(margins) >= 0.3 * len(files), f"faces found in only {len(margins)} of {len(files)} crops"
    measured, shift = float(np.median(margins)), float(np.median(shifts))
    assert abs(measured - search.margin) <= 0.05, f"measured margin {measured:.3f}, detector's {search.margin}"
    assert abs(shift - search.shift) <= 0.04, f"measured shift {shift:.3f}, detector's {search.shift}"


def test_each_detector_has_its_own_margin():
    assert HaarDetector.margin == FACE_MARGIN and BlazeFaceDetector.margin == BLAZEFACE_MARGIN
    assert BlazeFaceDetector.shift == BLAZEFACE_SHIFT and HaarDetector.shift == 0


@pytest.mark.parametrize("angle", [-30, 20])
def test_turned_face_is_cut_upright(astronaut, angle):
    """Alignment: the astronaut turned by ``angle`` gives, with the detector's roll, nearly the same
    48x48 input as the upright photo; without the roll, a clearly different one."""
    detector = BlazeFaceDetector()
    upright = detector.detect(astronaut)[0]
    matrix = cv2.getRotationMatrix2D((256, 256), angle, 1.0)
    turned_image = cv2.warpAffine(astronaut, matrix, (512, 512), borderMode=cv2.BORDER_REFLECT)
    turned = detector.detect(turned_image)[0]
    assert abs((turned.roll - upright.roll) + angle) < 0.5 * abs(angle), (turned.roll, upright.roll)

    def face(image: np.ndarray, found, roll: float) -> np.ndarray:  # blurred: the layout, not the pixels
        prepared = prepare_face(image, found.box, detector.margin, roll, detector.shift)
        return cv2.GaussianBlur(prepared.astype(np.float32), (0, 0), 3)

    reference = face(astronaut, upright, upright.roll)
    error_aligned = np.abs(face(turned_image, turned, turned.roll) - reference).mean()
    error_plain = np.abs(face(turned_image, turned, 0.0) - reference).mean()
    assert error_aligned < 0.75 * error_plain, (error_aligned, error_plain)
