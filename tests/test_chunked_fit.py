"""Out-of-core fitting: ridge sums over chunks, and the cascade fitted one chunk at a time equals its in-memory fit."""

import numpy as np
import pytest

from fkp_classic import CascadeRegressor, KeypointRegressor
from fkp_classic.estimators import KeypointRidge, RidgeSums

# Small and quick: 48x48 faces (conftest's small_faces), two stages of 2x2-cell descriptors.
PARAMS = dict(cell_sizes=(8, 5), grid=2, n_perturbations=2, cv=3, image_shape=(48, 48), layout="kaggle15")


def chunks_of(X, y, size):
    return [(X[i : i + size], y[i : i + size]) for i in range(0, len(X), size)]


@pytest.fixture(scope="module")
def in_memory(small_faces):
    X, y = small_faces
    return CascadeRegressor(**PARAMS).fit(X[:150], y[:150])


def _assert_same_model(a, b, X):
    for before, after in zip(a.staged_predict(X), b.staged_predict(X)):
        np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6 * np.abs(before).max())
    if a.uncertainty:  # the error model too: its ridge, calibration lines and scale
        np.testing.assert_allclose(b.predict(X, return_std=True)[1], a.predict(X, return_std=True)[1], rtol=1e-6)


def test_ridge_sums_of_chunks_equal_the_ridge_of_all_rows_with_missing_labels_and_folds():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 9)), rng.normal(size=(120, 6))
    y[::3, 2:4] = np.nan
    y[::5, 4:] = np.nan
    fold = rng.integers(0, 3, 120)
    sums = RidgeSums()
    for part in np.array_split(np.arange(120), 7):
        sums += RidgeSums.of(X[part], y[part], fold[part])
    whole = KeypointRidge(alpha=3.0).fit(X, y)
    model = sums.ridge(3.0)
    np.testing.assert_allclose(model.predict(X), whole.predict(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(model.n_labelled_, whole.n_labelled_)
    np.testing.assert_allclose(model.mean_shape_, whole.mean_shape_)
    held = KeypointRidge(alpha=3.0).fit(X[fold != 1], y[fold != 1])
    np.testing.assert_allclose(sums.ridge(3.0, without=1).predict(X), held.predict(X), rtol=1e-10, atol=1e-12)
    assert sums.folds == [0, 1, 2]


def test_chunked_fit_equals_the_in_memory_fit(small_faces, in_memory):
    X, y = small_faces
    chunked = CascadeRegressor(**PARAMS).fit_chunked(chunks_of(X[:150], y[:150], 41))
    _assert_same_model(in_memory, chunked, X[150:])
    np.testing.assert_allclose(chunked.mean_shape_, in_memory.mean_shape_)
    assert chunked.n_features_in_ == in_memory.n_features_in_ and chunked.image_shape_ == (48, 48)


def test_chunked_fit_with_mirrors_and_without_cross_fitting(small_faces):
    X, y = small_faces
    for params in (dict(PARAMS, flip=True, flip_axis=23.8), dict(PARAMS, cv=0)):
        whole = CascadeRegressor(**params).fit(X[:90], y[:90])
        chunked = CascadeRegressor(**params).fit_chunked(chunks_of(X[:90], y[:90], 25))
        _assert_same_model(whole, chunked, X[150:])
    # flip_axis="auto": measured on the first chunk, as fit measures it on all the faces it is given
    chunked = CascadeRegressor(**PARAMS, flip=True).fit_chunked(chunks_of(X[:90], y[:90], 25))
    first = CascadeRegressor(**PARAMS, flip=True).fit(X[:25], y[:25])
    assert chunked.flip_axis_ == first.flip_axis_


def test_chunked_fit_of_reduced_rank_stages_equals_the_in_memory_fit(small_faces):
    X, y = small_faces
    whole = CascadeRegressor(**PARAMS, rank=4).fit(X[:150], y[:150])
    chunked = CascadeRegressor(**PARAMS, rank=4).fit_chunked(chunks_of(X[:150], y[:150], 41))
    _assert_same_model(whole, chunked, X[150:])
    for ridge in [chunked.init_, *chunked.stages_]:
        assert ridge.output_basis_.shape == (30, 4) and np.linalg.matrix_rank(ridge.coef_) == 4


def test_chunked_fit_reads_a_source_that_opens_afresh_and_refuses_one_off_iterators(small_faces, in_memory):
    X, y = small_faces

    class Files:  # stands for chunks read from disk on each pass
        passes = 0

        def __iter__(self):
            Files.passes += 1
            return iter(chunks_of(X[:150], y[:150], 64))

    chunked = CascadeRegressor(**PARAMS).fit_chunked(Files())
    _assert_same_model(in_memory, chunked, X[150:])
    assert Files.passes == len(PARAMS["cell_sizes"]) + 4  # the start, each stage, the error model's two
    Files.passes = 0
    CascadeRegressor(**PARAMS, uncertainty=False).fit_chunked(Files())
    assert Files.passes == len(PARAMS["cell_sizes"]) + 2
    with pytest.raises(ValueError, match="not a one-off iterator or generator"):
        CascadeRegressor(**PARAMS).fit_chunked(iter(chunks_of(X, y, 64)))


def test_chunked_fit_names_the_chunk_that_is_wrong(small_faces):
    X, y = small_faces
    model = CascadeRegressor(**PARAMS)
    bad = chunks_of(X[:120], y[:120], 40)
    bad[1] = (bad[1][0][:, :-3], bad[1][1])
    with pytest.raises(ValueError, match="chunk 1: X has 2301 features"):
        model.fit_chunked(bad)
    bad = chunks_of(X[:120], y[:120], 40)
    bad[2] = (bad[2][0], bad[2][1][:-1])
    with pytest.raises(ValueError, match="chunk 2: y has 39 rows but X has 40"):
        model.fit_chunked(bad)
    with pytest.raises(ValueError, match="chunk 0 is not an \\(X, y\\) pair"):
        model.fit_chunked([X[:40]])
    with pytest.raises(ValueError, match="no chunks"):
        model.fit_chunked([])

    class Shrinking:
        passes = 0

        def __iter__(self):
            Shrinking.passes += 1
            return iter(chunks_of(X[:120], y[:120], 40)[: 4 - Shrinking.passes])

    with pytest.raises(ValueError, match="the chunks changed between passes"):
        model.fit_chunked(Shrinking())
    with pytest.raises(ValueError, match="needs init=None"):
        CascadeRegressor(init=KeypointRegressor(layout="kaggle15"), **PARAMS).fit_chunked(chunks_of(X, y, 60))
    with pytest.raises(ValueError, match="must be dask arrays"):
        model.fit_chunked(X, y)
