import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from fkp_classic import MeanKeypoints
from fkp_classic.keypoints import KeypointLayout
from fkp_classic.metrics import per_keypoint_rmse, rmse, rmse_scorer


def test_rmse_ignores_missing_targets_hand_computed():
    y_true = np.array([[1.0, 2.0, np.nan, np.nan], [3.0, 4.0, 5.0, 6.0]])
    y_pred = np.array([[2.0, 2.0, 100.0, 100.0], [3.0, 1.0, 5.0, 8.0]])
    # labelled errors: 1, 0, 0, -3, 0, 2 -> mean square 14 / 6
    assert rmse(y_true, y_pred) == pytest.approx(np.sqrt(14 / 6))
    # keypoint 0: errors 1, 0, 0, -3 -> sqrt(10/4); keypoint 1: 0, 2 -> sqrt(4/2)
    np.testing.assert_allclose(per_keypoint_rmse(y_true, y_pred), [np.sqrt(10 / 4), np.sqrt(2)])


def test_rmse_errors():
    with pytest.raises(ValueError, match="shape"):
        rmse(np.zeros((2, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN where y_true is labelled"):
        rmse(np.zeros((1, 2)), np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="no labelled"):
        rmse(np.full((1, 2), np.nan), np.zeros((1, 2)))


def test_scorer_is_negative_rmse(synthetic):
    X, y = synthetic.data[:60], synthetic.target[:60]
    scores = cross_val_score(MeanKeypoints(layout="kaggle15"), X, y, cv=3, scoring=rmse_scorer)
    assert (scores < 0).all()
    model = MeanKeypoints(layout="kaggle15").fit(X[:40], y[:40])
    assert rmse_scorer(model, X[40:], y[40:]) == pytest.approx(-rmse(y[40:], model.predict(X[40:])))


def test_nme_normalisations_hand_computed():
    from fkp_classic.metrics import mean_nme, nme

    # 68 points: outer eye corners 36 and 45 are 40 px apart; the eyes' six-point centres 30 px apart.
    truth = np.zeros((1, 68, 2))
    truth[0, 36:42] = [[10, 0], [12, 0], [14, 0], [16, 0], [14, 0], [12, 0]]  # mean x 13
    truth[0, 42:48] = [[40, 0], [42, 0], [44, 0], [50, 0], [44, 0], [42, 0]]  # mean x 43.67; point 45 at x 50
    truth[0, 8] = [30, 60]  # chin: the bounding box is 40 x 60
    truth[0, :8] = truth[0, 9:17] = truth[0, 17:36] = truth[0, 48:] = [30, 30]
    truth = truth.reshape(1, -1)
    pred = truth + 2.0  # every point off by (2, 2): 2.83 px
    np.testing.assert_allclose(nme(truth, pred, layout="ibug68"), [np.sqrt(8) / 40])
    np.testing.assert_allclose(nme(truth, pred, normalization="inter-pupil", layout="ibug68"), [np.sqrt(8) / (43 + 2 / 3 - 13)])
    np.testing.assert_allclose(nme(truth, pred, normalization="diagonal"), [np.sqrt(8) / np.hypot(40, 60)])
    np.testing.assert_allclose(nme(truth, pred, eyes=(8, 36)), [np.sqrt(8) / np.hypot(20, 60)])
    # Missing true points are left out; a face with none is NaN and left out of the mean.
    three = KeypointLayout(("left_eye", "right_eye", "chin"), eyes=(("right_eye",), ("left_eye",)))
    kaggle = np.array([[60.0, 40, 30, 40, 45, 70], [np.nan] * 6])
    guess = np.array([[63.0, 44, 30, 40, np.nan, np.nan], [1.0] * 6])
    kaggle[0, 4:] = np.nan
    np.testing.assert_allclose(nme(kaggle, guess, layout=three), [5 / 2 / 30, np.nan])
    assert mean_nme(kaggle, guess, layout=three) == pytest.approx(5 / 60)
    with pytest.raises(ValueError, match="normalization. parameter of nme must be a str among"):
        nme(truth, pred, normalization="face")


def test_nme_takes_the_eyes_from_the_layout_never_from_the_count():
    from fkp_classic.metrics import nme

    # a user's 68-point scheme whose eyes are points 0 and 1: its own eyes, not iBUG's 36 and 45
    mine = KeypointLayout(tuple(f"m{i}" for i in range(68)), eyes=(("m0",), ("m1",)))
    truth = np.zeros((1, 136))
    truth[0, 2] = 10.0  # m1 10 px right of m0; iBUG's 36 and 45 coincide at the origin
    pred = truth + [3.0, 4.0] * 68
    np.testing.assert_allclose(nme(truth, pred, layout=mine), [0.5])
    with pytest.raises(ValueError, match="declares no eyes"):
        nme(truth, pred, layout=KeypointLayout(mine.names))
    with pytest.raises(ValueError, match="the 3-point layout declares no eyes"):
        nme(np.ones((1, 6)), np.zeros((1, 6)))  # once silently points 0 and 1
    with pytest.raises(ValueError, match="has 15 keypoints but y has 68"):
        nme(truth, pred, layout="kaggle15")
    corners = truth.copy()
    corners[0, 90] = 5.0  # iBUG's outer eye corners 36 and 45 now 5 px apart
    with pytest.warns(FutureWarning, match="ass layout='ibug68'"):  # the old count-based default, deprecated
        np.testing.assert_allclose(nme(corners, pred), nme(corners, pred, layout="ibug68"))
    assert np.isfinite(nme(truth, pred, normalization="diagonal")).all()  # needs no eyes


def test_ced_auc_and_failure_rate_hand_computed():
    from fkp_classic.metrics import ced, ced_auc, failure_rate

    errors = [0.02, 0.06, 0.09, np.inf, np.nan]  # a face not found (inf) counts; an unlabelled one (NaN) does not
    thresholds, fraction = ced(errors, thresholds=[0.0, 0.02, 0.05, 0.08, 0.1])
    np.testing.assert_allclose(fraction, [0, 0.25, 0.25, 0.5, 0.75])
    assert ced_auc(errors, threshold=0.08) == pytest.approx(((0.08 - 0.02) + (0.08 - 0.06)) / 4 / 0.08)
    assert ced_auc(errors, threshold=0.10) == pytest.approx((0.08 + 0.04 + 0.01) / 4 / 0.10)
    assert failure_rate(errors) == 0.25 and failure_rate(errors, threshold=0.05) == 0.75  # only inf is above 0.10
    grid, curve = ced([0.0, 0.05])
    assert len(grid) == 101 and curve[0] == 0.5 and curve[-1] == 1.0
    with pytest.raises(ValueError, match="non-negative"):
        ced_auc([-0.1])
    with pytest.raises(ValueError, match="all NaN"):
        failure_rate([np.nan])


def test_nme_and_auc_scorers_in_cross_validation(synthetic):
    from fkp_classic.metrics import auc_scorer, mean_nme, nme_scorer

    X, y = synthetic.data[:120], synthetic.target[:120]
    scores = cross_val_score(MeanKeypoints(layout="kaggle15"), X, y, cv=3, scoring=nme_scorer)
    model = MeanKeypoints(layout="kaggle15").fit(X[40:], y[40:])
    assert scores[0] == pytest.approx(-mean_nme(y[:40], model.predict(X[:40]), layout=model.layout_))
    assert (cross_val_score(MeanKeypoints(layout="kaggle15"), X, y, cv=3, scoring=auc_scorer) >= 0).all()


def test_metric_options_are_keyword_only_with_a_grace_period():
    from fkp_classic.metrics import ced_auc, nme

    truth = np.array([[60.0, 40, 30, 40]])
    with pytest.warns(FutureWarning, match="pass normalization='diagonal' as keyword arguments"):
        old = nme(truth, truth + 1, "diagonal")
    np.testing.assert_array_equal(old, nme(truth, truth + 1, normalization="diagonal"))
    with pytest.warns(FutureWarning, match="pass threshold=0.1"):
        assert ced_auc([0.05], 0.1) == ced_auc([0.05], threshold=0.1)
