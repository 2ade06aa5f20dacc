"""CascadeRegressor: stages, determinism, mirror symmetry, partial labels (synthetic and real faces)."""

import numpy as np
import pytest
from sklearn.base import clone

from conftest import needs_faces96
from fkp_classic import CascadeRegressor
from fkp_classic.flip import flip_images, flip_keypoints
from fkp_classic.metrics import rmse

SMALL = dict(cell_sizes=(10, 6), n_perturbations=1, uncertainty=False, layout="kaggle15")  # the error model: tests/test_uncertainty.py


def test_predictions_are_deterministic_for_a_seed(synthetic):
    X, y = synthetic.data, synthetic.target
    first = CascadeRegressor(**SMALL, random_state=3).fit(X[:200], y[:200]).predict(X[200:])
    again = CascadeRegressor(**SMALL, random_state=3).fit(X[:200], y[:200]).predict(X[200:])
    other = CascadeRegressor(**SMALL, random_state=4).fit(X[:200], y[:200]).predict(X[200:])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)  # the seed drives the folds and the perturbed starts


def test_threads_give_the_same_predictions(synthetic):
    X, y = synthetic.data, synthetic.target
    model = CascadeRegressor(**SMALL).fit(X[:200], y[:200])
    single = model.predict(X)
    np.testing.assert_allclose(model.set_params(n_jobs=2).predict(X), single, atol=1e-9)


def test_flip_test_is_exactly_mirror_equivariant(synthetic):
    X, y = synthetic.data, synthetic.target
    model = CascadeRegressor(**SMALL, flip_test=True).fit(X[:200], y[:200])
    mirrored = model.predict(flip_images(X[200:]))
    back = flip_keypoints(model.predict(X[200:]), width=96, layout="kaggle15", axis=model.flip_axis_)  # about the measured axis
    np.testing.assert_allclose(mirrored, back, atol=1e-6)


def test_flip_training_makes_it_nearly_mirror_equivariant(synthetic):
    X, y = synthetic.data, synthetic.target
    model = CascadeRegressor(**SMALL, flip=True).fit(X[:200], y[:200])
    pred = model.predict(X[200:])
    from_mirror = flip_keypoints(model.predict(flip_images(X[200:])), width=96, layout="kaggle15", axis=model.flip_axis_)
    gap = rmse(pred, from_mirror)
    assert gap < 0.5 * rmse(y[200:], pred), gap  # far below its own error: no side is favoured


def test_flip_axis_is_measured_where_the_annotations_mirror(synthetic):
    X, y = synthetic.data[:200], synthetic.target[:200]
    quick = dict(SMALL, cell_sizes=(8,), n_perturbations=0, cv=0)
    assert CascadeRegressor(**quick).fit(X, y).flip_axis_ is None  # nothing mirrored
    # Synthetic points sit on the pixels they mark: the image's centre. Annotations drawn 1.5 px to the right
    # of what they mark mirror about a line 1.5 px right of it.
    centred = CascadeRegressor(**quick, flip=True).fit(X, y).flip_axis_
    shifted = y.copy()
    shifted[:, 0::2] += 1.5
    moved = CascadeRegressor(**quick, flip_test=True).fit(X, shifted).flip_axis_
    assert abs(centred - 47.5) < 0.3 and abs(moved - 49.0) < 0.3, (centred, moved)
    assert CascadeRegressor(**quick, flip=True, flip_axis=None).fit(X, y).flip_axis_ == 47.5
    assert CascadeRegressor(**quick, flip=True, flip_axis=48.25).fit(X, y).flip_axis_ == 48.25


@needs_faces96
def test_mirrored_training_faces_help_about_the_measured_axis_and_hurt_about_the_centre(faces96, faces96_subset):
    train, test = faces96_subset
    train = train[:500]  # the first 40-odd people; on all 1175: the same order, 1.71 < 1.76 < 1.97, at twice the cost
    X, y = faces96.data, faces96.target
    plain, measured, centre = (
        CascadeRegressor(**SMALL, **flip).fit(X[train], y[train])
        for flip in ({}, {"flip": True}, {"flip": True, "flip_axis": None})
    )
    assert 48.5 < measured.flip_axis_ < 49.4  # faces96's points mirror about a line 1.4 px right of the centre
    errors = [rmse(y[test], model.predict(X[test])) for model in (plain, measured, centre)]
    assert errors[1] < errors[0] < errors[2], errors  # the measured axis helps, the centre hurts


def test_alpha_per_stage(synthetic):
    X, y = synthetic.data[:100], synthetic.target[:100]
    model = CascadeRegressor(**SMALL, alpha=10.0, alpha_growth=3.0).fit(X, y)
    assert [s.alpha for s in model.stages_] == [10.0, 30.0]
    model = CascadeRegressor(**SMALL, alpha=(5.0, 7.0)).fit(X, y)
    assert [s.alpha for s in model.stages_] == [5.0, 7.0]
    with pytest.raises(ValueError, match="alpha has 3 values but cell_sizes has 2 stages"):
        CascadeRegressor(**SMALL, alpha=(1.0, 2.0, 3.0)).fit(X, y)


def test_external_initial_estimate(synthetic):
    from fkp_classic import KeypointRegressor

    X, y = synthetic.data, synthetic.target
    model = CascadeRegressor(**SMALL, init=KeypointRegressor(layout="kaggle15")).fit(X[:200], y[:200])
    staged = [rmse(y[200:], p) for p in model.staged_predict(X[200:])]
    np.testing.assert_allclose(staged[0], rmse(y[200:], model.init_.predict(X[200:])))
    assert staged[-1] < staged[0]


def test_each_stage_lowers_the_error(faces96, faces96_subset, subset_cascade):
    train, test = faces96_subset
    for rows in (train, test):  # the training faces, then people the model never saw
        staged = [rmse(faces96.target[rows], p) for p in subset_cascade.staged_predict(faces96.data[rows])]
        assert all(b < a for a, b in zip(staged, staged[1:])), staged
        assert staged[-1] < 0.7 * staged[0], staged


def test_staged_predict_can_stop_early(faces96, faces96_subset, subset_cascade):
    rows = faces96_subset[1][:20]
    every = subset_cascade.staged_predict(faces96.data[rows])
    first = subset_cascade.staged_predict(faces96.data[rows], n_stages=2)
    assert len(first) == 3
    for a, b in zip(first, every):  # the same stages give the same predictions
        np.testing.assert_array_equal(a, b)
    assert len(subset_cascade.staged_predict(faces96.data[rows], n_stages=0)) == 1
    unchecked = subset_cascade.staged_predict(faces96.data[rows], check_input=False)  # the photo path's own crops
    np.testing.assert_array_equal(unchecked[-1], every[-1])
    with pytest.raises(ValueError, match="n_stages must be a whole number >= 0"):
        subset_cascade.staged_predict(faces96.data[rows], n_stages=-1)


def test_partial_labels_beat_complete_rows_only(faces96, faces96_subset, kaggle_missing_mask):
    """Kaggle's real pattern (most rows label only 4 keypoints) on real faces: every row helps."""
    train, test = faces96_subset
    train = train[:700]  # the first 50-odd people: enough to show it, at half the cost
    X, y = faces96.data[train], faces96.target[train].copy()
    rng = np.random.default_rng(0)
    mask = kaggle_missing_mask[rng.choice(len(kaggle_missing_mask), len(y), replace=False)]
    y.reshape(len(y), -1, 2)[~mask] = np.nan
    complete = ~np.isnan(y).any(axis=1)
    assert 0.15 < complete.mean() < 0.5
    small = dict(cell_sizes=(10, 6), n_perturbations=1, uncertainty=False, layout="kaggle15")  # two stages show it as well as five
    partial = CascadeRegressor(**small).fit(X, y)
    only_complete = CascadeRegressor(**small).fit(X[complete], y[complete])
    truth = faces96.target[test]
    score_partial = rmse(truth, partial.predict(faces96.data[test]))
    score_complete = rmse(truth, only_complete.predict(faces96.data[test]))
    assert score_partial < score_complete, (score_partial, score_complete)
    # The keypoints every row labels gain the most.
    always = [0, 1, 10, 14]  # eye centres, nose tip, bottom lip
    per_partial = np.sqrt(np.nanmean((partial.predict(faces96.data[test]) - truth) ** 2, axis=0)).reshape(-1, 2)
    per_complete = np.sqrt(np.nanmean((only_complete.predict(faces96.data[test]) - truth) ** 2, axis=0)).reshape(-1, 2)
    assert (per_partial[always].mean(axis=1) < per_complete[always].mean(axis=1)).all()


def test_clone_keeps_every_knob():
    model = CascadeRegressor(cell_sizes=(9, 7), intensity=False, alpha=(1.0, 2.0), n_jobs=2, pool=1)
    assert clone(model).get_params() == model.get_params()


def test_verbose_fit_reports_each_stage(synthetic, capsys):
    X, y = synthetic.data[:100], synthetic.target[:100]
    CascadeRegressor(layout="kaggle15", cell_sizes=(8, 6), n_perturbations=1, verbose=1).fit(X, y)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "[CascadeRegressor] start fitted on 100 faces", "[CascadeRegressor] stage 1/2 fitted", "[CascadeRegressor] stage 2/2 fitted"]
    CascadeRegressor(layout="kaggle15", cell_sizes=(8,), n_perturbations=1).fit(X, y)
    assert capsys.readouterr().err == ""


@needs_faces96
def test_dense_layout_params_fit_68_points_with_4_bin_reduced_rank_stages(faces96_ibug68):
    from fkp_classic.estimators import DENSE_LAYOUT_PARAMS
    from fkp_classic.keypoints import IBUG_68
    from fkp_classic.metrics import nme

    X, y = faces96_ibug68.data[:340], faces96_ibug68.target[:340]
    # The dense settings' first two stages, one perturbation: the test's budget, the settings' descriptors.
    settings = dict(DENSE_LAYOUT_PARAMS, cell_sizes=DENSE_LAYOUT_PARAMS["cell_sizes"][:2], n_perturbations=1)
    model = CascadeRegressor(**settings, cv=3, uncertainty=False, layout=IBUG_68)
    pred = model.fit(X[:240], y[:240]).predict(X[240:])
    n_bins = model.n_bins + model.intensity
    assert n_bins == 5 and all(stage.n_features_in_ == 68 * 4 * 4 * n_bins for stage in model.stages_)  # 5440, not 7616
    assert all(ridge.output_basis_.shape == (136, 12) for ridge in [model.init_, *model.stages_])  # reduced rank
    errors = [np.nanmean(nme(y[240:], p, layout=IBUG_68)) for p in model.staged_predict(X[240:])]
    assert errors[-1] < errors[0] < 0.16  # each stage helps; the mean shape alone scores 0.16 here
    assert np.allclose(pred, model.staged_predict(X[240:])[-1])


@needs_faces96
def test_68_points_fit_predict_and_flip_with_the_ibug_pairs(faces96_ibug68):
    from fkp_classic.flip import flip_images, flip_keypoints
    from fkp_classic.keypoints import IBUG_68
    from fkp_classic.metrics import nme

    X, y = faces96_ibug68.data[:340], faces96_ibug68.target[:340]
    model = CascadeRegressor(cell_sizes=(10, 6), grid=2, n_perturbations=1, cv=3, flip=True, layout=IBUG_68)
    pred = model.fit(X[:240], y[:240]).predict(X[240:])
    assert pred.shape == (100, 136) and model.layout_ == IBUG_68
    assert np.nanmean(nme(y[240:], pred, layout=IBUG_68)) < 0.12  # the mean shape alone scores 0.16 here
    # The mirrored face's prediction, mirrored back with iBUG's pairs, lands on the face's own prediction.
    mirrored = flip_keypoints(model.predict(flip_images(X[240:])), width=96, layout=IBUG_68, axis=model.flip_axis_)
    assert np.median(np.abs(mirrored - pred)) < 1.5
    points = pred.reshape(-1, 68, 2)
    assert (points[:, 8, 1] > points[:, 57, 1]).mean() > 0.95  # the chin (8) below the lower lip (57)


def test_narrowed_weights_come_back_as_float64_and_predict_the_same(synthetic):
    import pickle

    from fkp_classic.persistence import widen_model

    X, y = synthetic.data[:100], synthetic.target[:100]
    model = CascadeRegressor(layout="kaggle15", cell_sizes=(8, 5), n_perturbations=0, cv=3, rank=4).fit(X, y)
    ridges = lambda m: [m.init_, *m.stages_, m.error_model_.ridge]  # noqa: E731
    for ridge, dtype in zip(ridges(model), ("float16", "float32", "float16", "float32")):
        ridge.coef_ = ridge.coef_.astype(dtype)  # as tools/train_default.py stores them
    narrowed = model.predict(X[:20], return_std=True)
    loaded = pickle.loads(pickle.dumps(model))  # each ridge widens its own weights as it loads
    assert all(r.coef_.dtype == np.float64 for r in ridges(loaded))
    assert model.init_.coef_.dtype == np.float16  # the model that was saved is untouched
    assert widen_model(model) is model and all(r.coef_.dtype == np.float64 for r in ridges(model))
    for a, b, c in zip(narrowed, model.predict(X[:20], return_std=True), loaded.predict(X[:20], return_std=True)):
        np.testing.assert_array_equal(b, a)  # widening is exact
        # (a reduced-rank ridge is saved as its narrowed scores on the output basis: rounded once more)
        np.testing.assert_allclose(c, a, rtol=1e-3)
