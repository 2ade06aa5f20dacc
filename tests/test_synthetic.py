import numpy as np

from fkp_classic import KeypointRegressor, MeanKeypoints
from fkp_classic.datasets import make_faces
from fkp_classic.metrics import rmse


def test_make_faces_shapes_and_determinism():
    a = make_faces(20, random_state=3)
    b = make_faces(20, random_state=3)
    assert a.data.shape == (20, 9216) and a.data.dtype == np.uint8
    assert a.images.shape == (20, 96, 96) and a.target.shape == (20, 30)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.isnan(a.target).any()
    assert a.data.std() > 20  # not a blank image


def test_make_faces_layout_is_kaggle_like():
    y = make_faces(200, random_state=0).target.reshape(200, 15, 2)
    assert (y[:, 0, 0] > y[:, 1, 0]).mean() > 0.99  # subject's left eye on the image's right
    assert (y[:, 10, 1] > y[:, 0, 1]).all()  # nose below eyes
    assert (y[:, 14, 1] > y[:, 13, 1]).all()  # bottom lip below top lip
    assert (y > -5).all() and (y < 101).all()


def test_make_faces_missing_like_kaggle():
    y = make_faces(300, random_state=0, missing=0.7).target
    labelled = ~np.isnan(y[:, 0::2])
    core = [0, 1, 10, 14]
    assert labelled[:, core].all()
    partial = ~labelled.all(axis=1)
    assert 0.6 < partial.mean() < 0.8
    assert not labelled[partial][:, [2, 3, 11, 12]].any()


def test_pixels_locate_the_keypoints(synthetic):
    """The drawn pupil is dark exactly where the eye-centre label says."""
    img = synthetic.images.astype(float)
    y = synthetic.target.reshape(-1, 15, 2)
    rows = np.arange(len(img))
    at = img[rows, np.round(y[:, 0, 1]).astype(int), np.round(y[:, 0, 0]).astype(int)]
    beside = img[rows, np.round(y[:, 0, 1]).astype(int), np.round(y[:, 0, 0] + 4).astype(int)]
    assert (at < beside).mean() > 0.9


def test_synthetic_faces_reward_learning(synthetic):
    X, y = synthetic.data, synthetic.target
    mean = rmse(y[200:], MeanKeypoints(layout="kaggle15").fit(X[:200], y[:200]).predict(X[200:]))
    learned = rmse(y[200:], KeypointRegressor(layout="kaggle15").fit(X[:200], y[:200]).predict(X[200:]))
    assert mean > 4.0
    assert learned < 0.6 * mean
