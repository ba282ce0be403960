"""Training-time augmentation: what the network sees must stay a plausible face of the same size."""

from __future__ import annotations

import numpy as np
import pytest

from emojify.preprocess import prepare_face
from emojify.training.augment import augment_faces, relight_faces


def test_augmented_faces_keep_shape_and_dtype_but_change():
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (16, 48, 48), dtype=np.uint8)
    before = faces.copy()
    out = augment_faces(faces, np.random.default_rng(1))
    assert out.shape == faces.shape and out.dtype == np.uint8
    assert all(not np.array_equal(a, b) for a, b in zip(out, faces, strict=True))
    np.testing.assert_array_equal(faces, before)  # the data set itself is never modified


def test_borders_are_filled_by_reflection_not_black():
    """A flat grey face stays flat grey: rotations and shifts leave no black corners to learn from."""
    faces = np.full((32, 48, 48), 200, np.uint8)
    out = augment_faces(faces, np.random.default_rng(2))
    assert out.min() >= 199 and out.max() <= 201


def test_same_seed_same_faces_other_seed_other_faces():
    faces = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    a = augment_faces(faces, np.random.default_rng(5))
    b = augment_faces(faces, np.random.default_rng(5))
    c = augment_faces(faces, np.random.default_rng(6))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_about_half_the_faces_are_mirrored():
    faces = np.zeros((400, 48, 48), np.uint8)
    faces[:, :, :24] = 255  # bright left half
    out = augment_faces(faces, np.random.default_rng(3)).astype(float)
    mirrored = out[:, :, 24:].mean(axis=(1, 2)) > out[:, :, :24].mean(axis=(1, 2))
    assert mirrored.mean() == pytest.approx(0.5, abs=0.1)


def test_warps_stay_small_enough_to_keep_the_face():
    """Rotation, shift and zoom are mild: the augmented face still correlates with the original."""
    yy, xx = np.mgrid[0:48, 0:48]
    face = (127 + 100 * np.sin(xx / 7.0) * np.cos(yy / 9.0)).astype(np.uint8)
    faces = np.repeat(face[None], 200, axis=0)
    out = augment_faces(faces, np.random.default_rng(4)).astype(float)
    unflipped = [o for o in out if np.corrcoef(o.ravel(), face.ravel())[0, 1]
                 > np.corrcoef(o[:, ::-1].ravel(), face.ravel())[0, 1]]
    corr = [np.corrcoef(o.ravel(), face.ravel())[0, 1] for o in unflipped]
    assert len(unflipped) > 50
    assert np.median(corr) > 0.5


def test_relighting_changes_the_chosen_share_and_prepares_them_again():
    """A share of the faces is relit (then denoised and equalised like a kiosk face); the rest stay as they were."""
    rng = np.random.default_rng(0)
    faces = np.stack([prepare_face(rng.integers(0, 256, (48, 48), dtype=np.uint8)) for _ in range(200)])
    before = faces.copy()
    out = relight_faces(faces, np.random.default_rng(3), share=0.3)
    np.testing.assert_array_equal(faces, before)
    changed = np.array([not np.array_equal(a, b) for a, b in zip(out, faces, strict=True)])
    assert 0.2 < changed.mean() < 0.4
    assert out.dtype == np.uint8 and out.shape == faces.shape
    assert all(face.max() >= 250 and face.min() <= 5 for face in out[changed])  # equalised again, full range
    np.testing.assert_array_equal(relight_faces(faces, np.random.default_rng(3), share=0.0), faces)
