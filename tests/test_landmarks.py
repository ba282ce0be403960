"""Face Mesh decoding: the sample face gives its known points, they follow the face when the picture
turns, a crop without a face gives no mesh, and a damaged model file is refused in one line."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emojify.faces import BlazeFaceDetector, DetectorError
from emojify.imageio import read_image
from emojify.landmarks import FaceMesh, crop_matrix, load_mesh, mesh_model_path, to_picture
from emojify.resources import SAMPLE_FACE

KNOWN_POINTS = {  # the sample face's mesh, in its pixels (x, y), recorded when the model was vendored
    1: (222.9, 128.6),  # nose tip
    13: (222.7, 142.1),  # upper lip, inner
    14: (221.9, 149.3),  # lower lip, inner
    61: (200.2, 138.7),  # mouth corner, the person's right
    291: (246.0, 142.7),  # mouth corner, the person's left
    33: (195.0, 100.2),  # right eye, outer corner
    263: (255.0, 104.2),  # left eye, outer corner
    152: (221.2, 172.5),  # chin
}


@pytest.fixture(scope="module")
def sample():
    picture = read_image(SAMPLE_FACE)
    return picture, BlazeFaceDetector.for_stills().detect(picture)[0]


def test_sample_face_gives_its_known_points(sample):
    picture, face = sample
    mesh = load_mesh().run(picture, face.box, face.roll)
    assert mesh is not None and mesh.points.shape == (468, 3) and mesh.score > 0.9
    for index, (x, y) in KNOWN_POINTS.items():
        assert np.hypot(*(mesh.points[index, :2] - (x, y))) < 2.0, index


def test_mesh_agrees_with_the_detectors_eyes_and_mouth(sample):
    """An independent check of the mapping back to the picture: BlazeFace's eye and mouth keypoints
    lie where the mesh's eyes and lips are (within a tenth of the face's width)."""
    picture, face = sample
    points = load_mesh().run(picture, face.box, face.roll).points[:, :2]
    tolerance = 0.1 * face.box[2]
    right_eye, left_eye = points[[33, 133]].mean(0), points[[263, 362]].mean(0)
    mouth = points[[13, 14]].mean(0)
    for mesh_point, keypoint in ((right_eye, face.keypoints[0]), (left_eye, face.keypoints[1]),
                                 (mouth, face.keypoints[3])):
        assert np.hypot(*(mesh_point - keypoint)) < tolerance


def test_points_follow_a_turned_face(sample):
    """The picture turned 30 degrees: the mesh found through the turned crop is the first mesh turned."""
    picture, face = sample
    first = load_mesh().run(picture, face.box, face.roll).points[:, :2]
    x, y, w, h = face.box
    turn = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), 30, 1.0)
    turned = cv2.warpAffine(picture, turn, picture.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    again = BlazeFaceDetector.for_stills().detect(turned)[0]
    assert abs(again.roll - (face.roll - 30)) < 6
    mesh = load_mesh().run(turned, again.box, again.roll).points[:, :2]
    expected = first @ turn[:, :2].T + turn[:, 2]
    assert np.median(np.hypot(*(mesh - expected).T)) < 0.03 * w


def test_no_mesh_without_a_face(sample):
    picture, face = sample
    noise = np.random.default_rng(0).integers(0, 256, picture.shape, dtype=np.uint8)
    assert load_mesh().run(noise, face.box, face.roll) is None
    assert load_mesh().run(np.full_like(picture, 128), face.box) is None


def test_crop_mapping_round_trips():
    matrix = crop_matrix((100, 50, 80, 100), roll=20.0)
    picture_points = np.array([[140.0, 100.0, 3.0], [100.0, 50.0, 0.0]], np.float32)
    crop_points = np.c_[picture_points[:, :2] @ matrix[:, :2].T + matrix[:, 2], picture_points[:, 2] * 192 / 150]
    assert np.allclose(to_picture(crop_points, matrix), picture_points, atol=1e-3)
    assert np.allclose(crop_points[0, :2], (96, 96))  # the box's centre is the crop's centre


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_damaged_mesh_model_is_refused(tmp_path, damage):
    bad = tmp_path / "face_landmark.tflite"
    if damage == "corrupt":
        data = bytearray(mesh_model_path().read_bytes())
        data[len(data) // 2] ^= 0xFF
        bad.write_bytes(bytes(data))
    with pytest.raises(DetectorError, match="face mesh model") as info:
        FaceMesh(bad)
    assert str(bad) in str(info.value) and len(str(info.value).splitlines()) == 1
