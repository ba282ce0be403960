"""Loading FER2013 for training: both forms people have, the errors they meet, and the cache."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import make_fer_folder, synthetic_face, write_fer_csv
from PIL import Image

from emojify.labels import CLASSES
from emojify.training import data
from emojify.training.data import DataError, load_dataset

TRAIN, PUBLIC, PRIVATE = 3, 2, 1  # images per class in the tiny data sets


def canonical(split) -> list[tuple[int, bytes]]:
    """A split as a sorted list of (class, face bytes): order-free comparison of contents."""
    return sorted(zip(split.y.tolist(), (x.tobytes() for x in split.x), strict=True))


@pytest.fixture
def fer_folder(tmp_path):
    images = make_fer_folder(tmp_path / "fer", TRAIN, PUBLIC, PRIVATE)
    return tmp_path / "fer", images


def test_image_folders_load_into_the_right_splits_and_classes(fer_folder, tmp_path):
    root, images = fer_folder
    splits = load_dataset(root, cache_dir=tmp_path / "cache")
    assert {s: len(splits[s]) for s in ("train", "val", "test")} == {
        "train": TRAIN * len(CLASSES), "val": PUBLIC * len(CLASSES), "test": PRIVATE * len(CLASSES)}
    for name in ("train", "val", "test"):
        split = splits[name]
        assert split.x.shape[1:] == (48, 48) and split.x.dtype == np.uint8
        expected = {c: sum(1 for i in images if i.split == name and i.label == CLASSES.index(c)) for c in CLASSES}
        assert split.counts() == expected


def test_class_indices_follow_the_folder_names(fer_folder, tmp_path):
    """A face from train/sad/ is labelled 'sad' (index by CLASSES), not by folder order."""
    root, images = fer_folder
    splits = load_dataset(root, cache_dir=tmp_path / "cache")
    from emojify.preprocess import prepare_face

    for image in images:
        face = prepare_face(image.pixels).tobytes()
        split = splits[image.split]
        labels = {int(y) for x, y in zip(split.x, split.y, strict=True) if x.tobytes() == face}
        assert labels == {image.label}, image.path


def test_test_folder_without_prefixes_is_validation(tmp_path):
    """Files in test/ without a PublicTest_/PrivateTest_ prefix are the validation split."""
    root = tmp_path / "fer"
    make_fer_folder(root, train=2, public=0, private=0)
    rng = np.random.default_rng(1)
    for name in CLASSES:
        (root / "test" / name).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "test" / name / "img_1.jpg"), synthetic_face(rng, 0))
    splits = load_dataset(root, cache_dir=tmp_path / "cache")
    assert len(splits["val"]) == len(CLASSES) and len(splits["test"]) == 0


def test_csv_loads_into_the_right_splits_and_classes(fer_folder, tmp_path):
    _, images = fer_folder
    csv_path = write_fer_csv(tmp_path / "fer2013.csv", images)
    splits = load_dataset(csv_path, cache_dir=tmp_path / "cache")
    for name, per_class in (("train", TRAIN), ("val", PUBLIC), ("test", PRIVATE)):
        assert splits[name].counts() == {c: per_class for c in CLASSES}, name


def test_csv_and_image_folders_give_the_same_data(fer_folder, tmp_path):
    root, images = fer_folder
    from_folder = load_dataset(root, cache_dir=tmp_path / "cache")
    from_csv = load_dataset(write_fer_csv(tmp_path / "fer2013.csv", images), cache_dir=tmp_path / "cache")
    for name in ("train", "val", "test"):
        assert canonical(from_folder[name]) == canonical(from_csv[name]), name


def test_csv_without_private_test_rows_has_an_empty_test_split(fer_folder, tmp_path):
    _, images = fer_folder
    csv_path = write_fer_csv(tmp_path / "fer2013.csv", [i for i in images if i.split != "test"])
    splits = load_dataset(csv_path, cache_dir=tmp_path / "cache")
    assert len(splits["test"]) == 0 and len(splits["val"]) == PUBLIC * len(CLASSES)


def test_csv_malformed_rows_are_skipped_with_a_warning(fer_folder, tmp_path, caplog):
    _, images = fer_folder
    csv_path = write_fer_csv(tmp_path / "fer2013.csv", images)
    with csv_path.open("a") as handle:
        handle.write("9," + " ".join(["1"] * 2304) + ",Training\n")  # class out of range
        handle.write("3,1 2 3,Training\n")  # too few pixels
        handle.write("3," + " ".join(["1"] * 2304) + ",Somewhere\n")  # unknown usage
    with caplog.at_level(logging.WARNING):
        splits = load_dataset(csv_path, cache_dir=tmp_path / "cache")
    assert len(splits["train"]) == TRAIN * len(CLASSES)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(" 3 " in w and "malformed" in w for w in warnings), warnings


def test_csv_with_a_byte_order_mark_loads(fer_folder, tmp_path):
    """Excel's "CSV UTF-8" starts the file with a byte-order mark, which made the header
    ``['\\ufeffemotion', ...]`` and the file refused."""
    root, images = fer_folder
    csv_path = write_fer_csv(tmp_path / "fer2013.csv", images)
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes())
    from_csv = load_dataset(csv_path, cache_dir=tmp_path / "cache")
    from_folder = load_dataset(root, cache_dir=tmp_path / "cache")
    for name in ("train", "val", "test"):
        assert canonical(from_csv[name]) == canonical(from_folder[name]), name


def test_csv_columns_are_found_by_their_names(fer_folder, tmp_path):
    """The columns in another order (a spreadsheet re-saved) are read by name, in any case."""
    root, images = fer_folder
    csv_path = write_fer_csv(tmp_path / "fer2013.csv", images)
    rows = [line.split(",") for line in csv_path.read_text().splitlines()]
    rows[0] = ["EMOTION", "Pixels", "usage"]
    csv_path.write_text("".join(f"{usage},{label},{pixels}\n" for label, pixels, usage in rows))
    from_csv = load_dataset(csv_path, cache_dir=tmp_path / "cache")
    from_folder = load_dataset(root, cache_dir=tmp_path / "cache")
    for name in ("train", "val", "test"):
        assert canonical(from_csv[name]) == canonical(from_folder[name]), name


# --- errors that name the problem --------------------------------------------------------------

def load_error(source, tmp_path) -> str:
    with pytest.raises(DataError) as info:
        load_dataset(source, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_class_folder_is_named(fer_folder, tmp_path):
    root, _ = fer_folder
    shutil.rmtree(root / "train" / "disgust")
    message = load_error(root, tmp_path)
    assert "disgust" in message and "missing" in message and str(root / "train") in message


def test_unknown_class_folder_is_named(fer_folder, tmp_path):
    root, _ = fer_folder
    (root / "train" / "contempt").mkdir()
    message = load_error(root, tmp_path)
    assert "contempt" in message and str(root / "train") in message


def test_training_and_evaluate_read_class_folders_by_one_rule(fer_folder, tmp_path):
    """Any case, hidden folders passed over, and a folder that is no class refused in the same words."""
    from emojify.evaluate import FolderError, labelled_images

    root, _ = fer_folder
    (root / "train" / "happy").rename(root / "train" / "Happy")
    (root / "train" / ".ipynb_checkpoints").mkdir()
    assert load_dataset(root, cache_dir=tmp_path / "cache")["train"].counts()["happy"] == TRAIN
    assert {CLASSES[label] for _, label in labelled_images(root / "train")} == set(CLASSES)
    (root / "train" / "Contempt").mkdir()
    with pytest.raises(DataError) as training:
        load_dataset(root, cache_dir=tmp_path / "cache2")
    with pytest.raises(FolderError) as evaluating:
        labelled_images(root / "train")
    assert str(training.value) == str(evaluating.value) == (
        f"{root / 'train'}: sub-folder(s) Contempt are not class names (expected some of: {', '.join(CLASSES)})")


@pytest.mark.parametrize(("mode", "levels"), [("I", (0, 60000)), ("I;16S", (-20, 30000))])
def test_a_picture_of_32_bit_or_signed_integers_is_a_training_face(tmp_path, mode, levels):
    """A TIFF of Pillow's mode "I" (OpenCV gives int32): it stopped emojify-train with a traceback."""
    from emojify.training.data import read_faces

    low, high = levels
    ramp = np.linspace(low, high, 48 * 48).reshape(48, 48)
    path = tmp_path / "face.tif"
    Image.fromarray(ramp.astype(np.int32 if mode == "I" else np.int16), mode if mode == "I" else None).save(path)
    faces, ok = read_faces([path])
    assert ok == [True] and faces.shape == (1, 48, 48) and np.ptp(faces[0]) > 200


def test_no_train_folder_is_named(fer_folder, tmp_path):
    root, _ = fer_folder
    shutil.rmtree(root / "train")
    message = load_error(root, tmp_path)
    assert "train/" in message and str(root) in message


def test_empty_training_split_is_an_error(tmp_path):
    root = tmp_path / "fer"
    make_fer_folder(root, train=0, public=1, private=0)
    message = load_error(root, tmp_path)
    assert "training split is empty" in message and str(root) in message


def test_bad_csv_header_is_named(fer_folder, tmp_path):
    _, images = fer_folder
    csv_path = write_fer_csv(tmp_path / "fer2013.csv", images, header=("label", "image", "split"))
    message = load_error(csv_path, tmp_path)
    assert str(csv_path) in message and "header" in message

    csv_path = write_fer_csv(tmp_path / "fer2013.csv", images, header=("emotion", "pixels", "split"))
    assert load_error(csv_path, tmp_path) == (
        f"{csv_path}: bad CSV header: no Usage column (it has emotion, pixels, split; expected emotion, pixels "
        "and Usage, in any order)")


def test_missing_source_is_named(tmp_path):
    message = load_error(tmp_path / "nowhere", tmp_path)
    assert str(tmp_path / "nowhere") in message


@pytest.mark.parametrize(("name", "make"), [
    ("Training_float.tif", lambda face: Image.fromarray(face.astype(np.float32) / 255, "F")),  # grey levels 0..1
    ("Training_16bit.png", lambda face: Image.fromarray(face.astype(np.uint16))),  # 16 bits, levels 0..255
], ids=["float-tiff", "16-bit-png-of-8-bit-levels"])
def test_a_float_or_16_bit_face_keeps_its_grey_levels(fer_folder, tmp_path, name, make):
    """A 32-bit float TIFF (grey levels 0..1) or a 16-bit PNG holding 8-bit levels gives the face the
    other tools read from it (emojify evaluate's reader), not a face of two grey levels or a black one."""
    from emojify.imageio import read_image
    from emojify.preprocess import prepare_face

    root, _ = fer_folder
    picture = root / "train" / "happy" / name
    make(synthetic_face(np.random.default_rng(7), 3)).save(picture)
    expected = prepare_face(read_image(picture))
    assert len(np.unique(expected)) > 100
    splits = load_dataset(root, cache_dir=tmp_path / "cache")
    assert len(splits["train"]) == TRAIN * len(CLASSES) + 1
    assert expected.tobytes() in {x.tobytes() for x in splits["train"].x}


def test_a_sideways_phone_photo_and_a_transparent_one_train_as_they_are_shown(fer_folder, tmp_path):
    """A face stored sideways with its EXIF orientation (a phone held upright) trained sideways, and a
    cut-out face's transparent background trained black, while evaluate and the kiosk see it upright
    and on white."""
    from emojify.preprocess import prepare_face

    root, _ = fer_folder
    face = synthetic_face(np.random.default_rng(8), 3)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to show"
    Image.fromarray(np.rot90(face)).save(root / "train" / "happy" / "Training_sideways.png", exif=exif)
    cut_out = np.dstack([face, face, face, np.where(np.arange(face.shape[1]) < 10, 0, 255)[None, :].repeat(len(face), 0)])
    Image.fromarray(cut_out.astype(np.uint8), "RGBA").save(root / "train" / "happy" / "Training_cut_out.png")
    on_white = face.copy()
    on_white[:, :10] = 255
    splits = load_dataset(root, cache_dir=tmp_path / "cache")
    trained = {x.tobytes() for x in splits["train"].x}
    assert prepare_face(face).tobytes() in trained and prepare_face(on_white).tobytes() in trained


def test_unreadable_images_are_skipped_and_counted(fer_folder, tmp_path, caplog):
    root, _ = fer_folder
    (root / "train" / "happy" / "Training_broken1.jpg").write_bytes(b"not a jpeg at all")
    (root / "train" / "sad" / "Training_broken2.jpg").write_bytes(b"")
    (root / "test" / "sad" / "PublicTest_broken3.jpg").write_bytes(os.urandom(500))
    with caplog.at_level(logging.WARNING, logger="emojify.training.data"):
        splits = load_dataset(root, cache_dir=tmp_path / "cache")
    assert len(splits["train"]) == TRAIN * len(CLASSES)
    assert len(splits["val"]) == PUBLIC * len(CLASSES)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(" 3 " in w and "unreadable" in w for w in warnings), warnings


def test_hidden_files_in_a_class_folder_are_not_read_as_pictures(fer_folder, tmp_path, caplog):
    """macOS writes a ``._<name>`` resource fork beside each picture copied onto a USB stick: no
    picture, so neither a training face nor one more "unreadable image" in the warning; a hidden
    folder beside the class folders is no unknown class."""
    root, images = fer_folder
    happy = root / "train" / "happy"
    (happy / "._Training_1.jpg").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + os.urandom(4000))
    shutil.copy(images[0].path, happy / ".Training_copy.jpg")  # a hidden name, though a picture
    (root / "train" / ".ipynb_checkpoints").mkdir()  # Jupyter's, beside the class folders: no class
    with caplog.at_level(logging.WARNING, logger="emojify.training.data"):
        splits = load_dataset(root, cache_dir=tmp_path / "cache")
    assert splits["train"].counts()["happy"] == TRAIN
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == []
    assert [p.name for p in data.image_files(happy)] == sorted(p.name for p in happy.glob("Training_*.jpg"))


# --- the cache ---------------------------------------------------------------------------------

def test_cache_is_written_and_used_on_the_second_load(fer_folder, tmp_path, monkeypatch):
    root, _ = fer_folder
    cache = tmp_path / "cache"
    first = load_dataset(root, cache_dir=cache)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("images decoded again although the cache is valid")

    monkeypatch.setattr(data, "read_faces", no_decoding)
    second = load_dataset(root, cache_dir=cache)
    for name in ("train", "val", "test"):
        assert np.array_equal(first[name].x, second[name].x) and np.array_equal(first[name].y, second[name].y)
        assert second[name].y.dtype == first[name].y.dtype


def test_cache_is_invalidated_when_a_file_changes(fer_folder, tmp_path):
    root, images = fer_folder
    cache = tmp_path / "cache"
    load_dataset(root, cache_dir=cache)
    # replace one training image by a different face
    changed = next(i for i in images if i.split == "train" and i.label == CLASSES.index("fear"))
    new_face = np.full((48, 48), 30, np.uint8)
    new_face[10:38, 10:38] = 220
    assert cv2.imwrite(str(changed.path), new_face)
    stat = changed.path.stat()
    os.utime(changed.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    splits = load_dataset(root, cache_dir=cache)
    from emojify.preprocess import prepare_face

    expected = prepare_face(cv2.imread(str(changed.path), cv2.IMREAD_UNCHANGED)).tobytes()
    assert expected in {x.tobytes() for x in splits["train"].x}
    assert prepare_face(changed.pixels).tobytes() not in {x.tobytes() for x in splits["train"].x}
    assert len(list(cache.glob("*.npz"))) == 1, "the stale cache of the same source is removed"


@pytest.mark.parametrize("linked", [False, True], ids=["folder", "linked-split"])
def test_cache_is_invalidated_when_a_file_is_added(fer_folder, tmp_path, linked):
    """Also with train/ a link to a folder elsewhere (kept on another disk): a picture added there was
    not in the cache's key, and the stale cache was loaded without it."""
    root, _ = fer_folder
    if linked:
        shutil.move(root / "train", tmp_path / "train-elsewhere")
        (root / "train").symlink_to(tmp_path / "train-elsewhere")
    cache = tmp_path / "cache"
    before = load_dataset(root, cache_dir=cache)
    cv2.imwrite(str(root / "train" / "happy" / "Training_extra.jpg"), synthetic_face(np.random.default_rng(5), 3))
    after = load_dataset(root, cache_dir=cache)
    assert len(after["train"]) == len(before["train"]) + 1


def test_a_link_back_up_the_data_folder_is_not_walked_for_the_cache_s_key(fer_folder, tmp_path):
    """Following every link to make the key, a link back up (train/happy/up -> ..) made the walk go on
    for ever; the key now reads only the files loading reads."""
    root, _ = fer_folder
    (root / "train" / "happy" / "up").symlink_to("..")
    (root / "archive").symlink_to(root)  # beside the splits: never read
    pictures = {Path(folder, name) for folder, _, names in os.walk(root) for name in names if name.endswith(".jpg")}
    assert set(data.read_files(root)) == pictures and data.read_files(root) == sorted(pictures)
    assert len(load_dataset(root, cache_dir=tmp_path / "cache")["train"]) == TRAIN * len(CLASSES)


def without_val(cache):
    """Rewrite ``cache`` without its validation split, as a cache written by hand or cut short might be."""
    with np.load(cache) as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("val_")}
    np.savez_compressed(cache, **arrays)


@pytest.mark.parametrize("damage", [
    lambda cache: cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2]),  # cut short: BadZipFile
    lambda cache: cache.write_bytes(b""),  # EOFError
    lambda cache: cache.write_bytes(b"not a cache at all"),  # ValueError (would be a pickle)
    without_val,  # KeyError
], ids=["cut-short", "empty", "garbage", "incomplete"])
def test_a_damaged_cache_is_decoded_again_and_written_anew(fer_folder, tmp_path, monkeypatch, caplog, damage):
    """A cache that cannot be read whole made every later run fail with a traceback: it is taken as
    missing, with one warning, and written again."""
    root, _ = fer_folder
    cache_dir = tmp_path / "cache"
    first = load_dataset(root, cache_dir=cache_dir)
    (cache,) = cache_dir.iterdir()
    damage(cache)
    with caplog.at_level(logging.WARNING, logger="emojify.training.data"):
        again = load_dataset(root, cache_dir=cache_dir)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(f"cannot read the cache {cache} ("), warnings
    assert warnings[0].endswith("); decoding the data set again")
    assert list(cache_dir.iterdir()) == [cache]  # written anew, in its place, no temporary file left

    monkeypatch.setattr(data, "read_faces", lambda *args: pytest.fail("decoded again though the cache was rewritten"))
    cached = load_dataset(root, cache_dir=cache_dir)
    for name in ("train", "val", "test"):
        assert canonical(again[name]) == canonical(first[name]) == canonical(cached[name]), name
