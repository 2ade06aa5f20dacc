import numpy as np
import pytest
from skimage.feature import hog

from fkp_classic import HOGFeatures, PatchFeatures
from fkp_classic.features import hog_batch, sample_patches


def _skimage(images, **kw):
    return np.array([hog(im, feature_vector=True, **kw) for im in images])


@pytest.mark.parametrize(
    "kw",
    [
        dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys"),
        dict(orientations=9, pixels_per_cell=(6, 6), cells_per_block=(3, 3), block_norm="L2"),
        dict(orientations=12, pixels_per_cell=(7, 7), cells_per_block=(2, 2), block_norm="L1"),
        dict(orientations=8, pixels_per_cell=(5, 9), cells_per_block=(1, 2), block_norm="L1-sqrt"),
        dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys", transform_sqrt=True),
    ],
)
def test_hog_matches_skimage(synthetic, kw):
    images = synthetic.images[:12]
    np.testing.assert_allclose(hog_batch(images, **kw), _skimage(images, **kw), atol=1e-6)
    # Float images take the general (arctan2) path: same values.
    noisy = images + np.random.default_rng(0).uniform(0, 0.5, images.shape)
    np.testing.assert_allclose(hog_batch(noisy, **kw), _skimage(noisy, **kw), atol=1e-6)


def test_hog_non_square_and_transformer(synthetic):
    images = np.random.default_rng(1).integers(0, 256, (4, 40, 57)).astype(np.uint8)
    kw = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys")
    np.testing.assert_allclose(hog_batch(images, **kw), _skimage(images, **kw), atol=1e-6)
    features = HOGFeatures(image_shape=(40, 57), chunk_size=3).fit(images.reshape(4, -1))
    np.testing.assert_allclose(features.transform(images.reshape(4, -1)), _skimage(images, **kw), atol=1e-6)
    assert features.n_features_out_ == 4 * 6 * 2 * 2 * 9


def test_hog_errors():
    with pytest.raises(ValueError, match="block_norm"):
        hog_batch(np.zeros((1, 16, 16)), block_norm="L3")
    with pytest.raises(ValueError, match="no whole block"):
        hog_batch(np.zeros((1, 10, 10)))
    with pytest.raises(ValueError, match="non-negative"):
        hog_batch(-np.ones((1, 16, 16)), transform_sqrt=True)


def test_sample_patches_bilinear_exact_on_a_plane():
    yy, xx = np.mgrid[0:20, 0:30].astype(float)
    images = np.stack([2 * xx + 3 * yy, xx - yy])
    centers = np.array([[[10.25, 7.5], [3.0, 4.0]], [[20.0, 10.75], [15.5, 2.5]]])
    patches = sample_patches(images, centers, 5, spacing=0.5)
    offs = (np.arange(5) - 2) * 0.5
    expected0 = 2 * (10.25 + offs[None, :]) + 3 * (7.5 + offs[:, None])
    np.testing.assert_allclose(patches[0, 0], expected0)
    expected1 = (20.0 + offs[None, :]) - (10.75 + offs[:, None])
    np.testing.assert_allclose(patches[1, 0], expected1)


def test_patch_features(synthetic):
    X, y = synthetic.data[:10], synthetic.target[:10]
    whole = PatchFeatures(size=24).fit_transform(X)
    assert whole.shape == (10, 576)
    np.testing.assert_allclose(whole.mean(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(whole, axis=1), 1, atol=1e-6)
    # Brightness and contrast changes do not move normalised features.
    np.testing.assert_allclose(PatchFeatures(size=24).fit_transform(X * 0.5 + 20), whole, atol=1e-6)
    odd = PatchFeatures(size=20).fit_transform(X)
    assert odd.shape == (10, 400)
    around = PatchFeatures(size=8, points="mean").fit(X, y)
    assert around.points_.shape == (15, 2) and around.transform(X).shape == (10, 15 * 64)
    fixed = PatchFeatures(size=4, points=[[47.5, 47.5]], normalize=False).fit(X)
    block = X.reshape(10, 96, 96)[:, 46:50, 46:50].astype(float)
    np.testing.assert_allclose(fixed.transform(X).reshape(10, 4, 4), block)
    with pytest.raises(ValueError, match="needs keypoint targets"):
        PatchFeatures(points="mean").fit(X)
