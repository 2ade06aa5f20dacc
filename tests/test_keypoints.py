import numpy as np
import pandas as pd
import pytest

from conftest import FACES96, needs_faces96
from fkp_classic.flip import flip_augment, flip_images, flip_keypoints
from fkp_classic.keypoints import IBUG_68, KAGGLE_15, KAGGLE_COLUMNS, KeypointLayout, ibug68_to_kaggle15


def test_kaggle_layout_matches_competition_columns():
    assert KAGGLE_COLUMNS[:4] == ("left_eye_center_x", "left_eye_center_y", "right_eye_center_x", "right_eye_center_y")
    assert KAGGLE_COLUMNS[-1] == "mouth_center_bottom_lip_y"
    assert len(KAGGLE_COLUMNS) == 30
    perm = KAGGLE_15.flip_permutation
    names = KAGGLE_15.names
    assert names[perm[names.index("left_eye_center")]] == "right_eye_center"
    assert names[perm[names.index("mouth_left_corner")]] == "mouth_right_corner"
    for fixed in ("nose_tip", "mouth_center_top_lip", "mouth_center_bottom_lip"):
        assert perm[names.index(fixed)] == names.index(fixed)
    assert (perm[perm] == np.arange(15)).all()


def test_ibug_layout_flip_is_an_involution():
    perm = IBUG_68.flip_permutation
    assert (perm[perm] == np.arange(68)).all()
    assert perm[36] == 45 and perm[30] == 30 and perm[8] == 8


def test_layout_rejects_bad_pairs():
    with pytest.raises(ValueError, match="unknown keypoint"):
        KeypointLayout(names=("a", "b"), flip_pairs=(("a", "c"),))
    with pytest.raises(ValueError, match="more than one"):
        KeypointLayout(names=("a", "b", "c"), flip_pairs=(("a", "b"), ("a", "c")))


def test_flip_of_flip_is_identity(synthetic):
    X, y = synthetic.data[:20], synthetic.target[:20]
    assert (flip_images(flip_images(X)) == X).all()
    np.testing.assert_allclose(flip_keypoints(flip_keypoints(y, width=96, layout="kaggle15"), width=96, layout="kaggle15"), y)


def test_flip_moves_points_with_pixels():
    # A single bright pixel at (x=10, y=20) labelled as the left eye centre.
    X = np.zeros((1, 96 * 96), dtype=np.uint8)
    X[0, 20 * 96 + 10] = 255
    y = np.full((1, 30), 50.0)
    y[0, :2] = (10, 20)
    Xf, yf = flip_images(X), flip_keypoints(y, width=96, layout="kaggle15")
    row, col = divmod(int(np.argmax(Xf[0])), 96)
    # The bright pixel moved to x = 95 - 10, and it is now the *right* eye.
    assert (col, row) == (85, 20)
    assert tuple(yf[0, 2:4]) == (85.0, 20.0)
    assert tuple(yf[0, :2]) == (95 - 50.0, 50.0)


def test_flip_about_another_axis():
    y = np.array([[40.0, 10.0] * 15])
    y[0, 0] = 60.0  # the left eye centre, which becomes the right eye centre
    about_centre, about_axis = flip_keypoints(y, width=96, layout="kaggle15"), flip_keypoints(y, width=96, layout="kaggle15", axis=49.0)
    assert about_centre[0, 2] == 95 - 60.0 and about_axis[0, 2] == 98 - 60.0  # x' = 2 * axis - x
    np.testing.assert_array_equal(about_axis[:, 1::2], about_centre[:, 1::2])  # y untouched
    np.testing.assert_array_equal(flip_keypoints(about_axis, width=96, layout="kaggle15", axis=49.0), y)
    np.testing.assert_array_equal(flip_keypoints(y, width=96, layout="kaggle15", axis=47.5), about_centre)
    X_aug, y_aug = flip_augment(np.zeros((1, 96 * 96)), y, layout="kaggle15", axis=49.0)
    np.testing.assert_array_equal(y_aug, np.vstack([y, about_axis]))


def test_flip_keeps_missing_labels_missing(synthetic):
    y = synthetic.target[:5].copy()
    y[0, :2] = np.nan  # left eye missing -> right eye missing after flip
    yf = flip_keypoints(y, width=96, layout="kaggle15")
    assert np.isnan(yf[0, 2:4]).all() and not np.isnan(yf[0, :2]).any()
    Xa, ya = flip_augment(synthetic.data[:5], y, layout=synthetic.layout)
    assert Xa.shape == (10, 9216) and ya.shape == (10, 30)


@needs_faces96
def test_flipped_means_of_real_data_are_consistent(faces96):
    """Mirroring the data set maps each keypoint's mean near its partner's mean."""
    mean = faces96.target.mean(axis=0).reshape(15, 2)
    flipped = flip_keypoints(faces96.target, width=96, layout="kaggle15").mean(axis=0).reshape(15, 2)
    # y never changes; partners swap, so the mirrored eyes, eye corners and brows land within 1 px
    # of the originals (the crops' eye axis is 0.35 px right of the image centre), the mouth
    # corners within 2 px.
    np.testing.assert_allclose(flipped[:, 1], mean[KAGGLE_15.flip_permutation, 1])
    paired = KAGGLE_15.flip_permutation != np.arange(15)
    assert np.abs(flipped[:10, 0] - mean[:10, 0]).max() < 1.0
    assert np.abs(flipped[paired, 0] - mean[paired, 0]).max() < 2.0
    # Nose and mouth sit about 1 px right of the eye axis in faces96 (turned heads, detector
    # framing): mirroring moves them about 2.7 px, which is why flip augmentation is off by default.
    assert 2.0 < np.abs(flipped[~paired, 0] - mean[~paired, 0]).max() < 3.5
    left, right = KAGGLE_15.names.index("left_eye_center"), KAGGLE_15.names.index("right_eye_center")
    assert mean[left, 0] > mean[right, 0]  # subject's left is on the image's right


@needs_faces96
def test_ibug_mapping_reproduces_faces96_labels(faces96):
    meta = pd.read_csv(FACES96 / "training_meta.csv", nrows=200)
    points = meta[[f"p{i}_{a}" for i in range(68) for a in "xy"]].to_numpy()
    np.testing.assert_allclose(ibug68_to_kaggle15(points), faces96.target[:200], atol=1e-3)


def test_layouts_carry_what_is_known_of_their_scheme():
    from fkp_classic.keypoints import get_layout

    assert get_layout("ibug68") is IBUG_68 and get_layout(KAGGLE_15) is KAGGLE_15
    with pytest.raises(ValueError, match="one of \\['ibug68', 'kaggle15'\\]"):
        get_layout("wflw98")
    assert IBUG_68.eye_indices() == ((36,), (45,)) and IBUG_68.eye_indices("inter-pupil")[1] == tuple(range(42, 48))
    assert KAGGLE_15.eye_indices("inter-pupil") == KAGGLE_15.eye_indices() == ((0,), (1,))
    assert IBUG_68.regions[16:18] == ("jaw", "eyebrows") and KAGGLE_15.region_indices("mouth") == (11, 12, 13, 14)
    # every contour is a run of the scheme's own points; iBUG's eyes and lips close on themselves
    contours = dict((run[0], closed) for run, closed in IBUG_68.contour_indices())
    assert contours[36] and contours[48] and not contours[0]
    assert sorted(i for run, _ in IBUG_68.contour_indices() for i in run) == sorted(list(range(68)) + [30])
    # a user's scheme is one object; one without eyes says so where eyes are needed
    plain = KeypointLayout(("a", "b"))
    with pytest.raises(ValueError, match="declares no eyes"):
        plain.eye_indices()
    with pytest.raises(ValueError, match="eyes names unknown keypoint 'c'"):
        KeypointLayout(("a", "b"), eyes=("a", "c"))
    with pytest.raises(ValueError, match="regions must be among"):
        KeypointLayout(("a", "b"), regions=("eyes", "ears"))
    assert KeypointLayout.from_names(IBUG_68.names) is IBUG_68 and KeypointLayout.from_names(("a",)).eyes is None


def test_a_layout_pickled_before_its_new_fields_gains_them():
    import pickle

    old = KeypointLayout(IBUG_68.names, IBUG_68.flip_pairs)
    state = {"names": old.names, "flip_pairs": old.flip_pairs}  # what fkp_classic 0.4 pickled
    restored = pickle.loads(pickle.dumps(old))
    object.__setattr__(restored, "__dict__", {})
    restored.__setstate__(dict(state))
    assert restored == IBUG_68 and restored.eye_indices() == ((36,), (45,))
    unknown = KeypointLayout(("a", "b"))
    unknown.__setstate__({"names": ("a", "b"), "flip_pairs": ()})
    assert unknown.eyes is None and unknown.regions == ("other", "other")

def test_no_layout_is_a_plain_one_and_the_guess_by_count_is_deprecated(synthetic):
    from fkp_classic.utils import resolve_layout

    plain = resolve_layout(None, 7)
    assert plain.names == tuple(f"k{i}" for i in range(7)) and plain.flip_pairs == () and plain.eyes is None
    assert resolve_layout("ibug68", 68) is IBUG_68 and resolve_layout(KAGGLE_15, 15) is KAGGLE_15
    for known in (KAGGLE_15, IBUG_68):
        with pytest.warns(FutureWarning, match=f"Pass layout='{known.name}'"):
            assert resolve_layout(None, known.n_keypoints) is known
    with pytest.raises(ValueError, match="layout 'kaggle15' has 15 keypoints but y has 7"):
        resolve_layout("kaggle15", 7)
    # a layout given by name flips as the layout itself; a plain one swaps nothing
    y = synthetic.target[:3]
    np.testing.assert_array_equal(flip_keypoints(y, width=96, layout="kaggle15"),
                                  flip_keypoints(y, width=96, layout=KAGGLE_15))
    seven = np.arange(14.0)[None]
    np.testing.assert_array_equal(flip_keypoints(seven, width=96)[0, 0::2], 95 - seven[0, 0::2])
    with pytest.warns(FutureWarning, match="pass width=96 as keyword arguments: flip_keypoints takes 1"):
        flip_keypoints(seven, 96)
    with pytest.raises(ValueError, match="The 'width' parameter of flip_keypoints"):
        flip_keypoints(seven, width=0)


def test_a_registered_layout_is_saved_by_its_name_and_loads_as_the_scheme():
    import pickle

    ibug = IBUG_68
    assert pickle.loads(pickle.dumps(ibug)) == ibug and len(pickle.dumps(ibug)) < 200  # not its 68 names and pairs
    own = KeypointLayout(("a", "b", "c"), (("a", "b"),), eyes=(("a",), ("b",)), contours=((("a", "b", "c"), True),))
    again = pickle.loads(pickle.dumps(own))  # any other layout field by field, tuples as tuples
    assert again == own and again.contours == ((("a", "b", "c"), True),) and again.eye_indices() == ((0,), (1,))
    with pytest.raises(ValueError, match="names the scheme 'ibug99'"):
        KeypointLayout.__new__(KeypointLayout).__setstate__({"registered": "ibug99"})


@pytest.mark.parametrize("name", ["MeanKeypoints", "KeypointRidge", "KeypointRegressor", "CascadeRegressor"])
def test_every_estimator_takes_the_layout_name_its_warning_asks_for(name, synthetic):
    import re
    import warnings

    import fkp_classic

    X, y = synthetic.data[:60], synthetic.target[:60]
    if name == "KeypointRidge":
        X = X[:, ::40] / 255.0
    small = {"cell_sizes": (8,), "n_perturbations": 1, "uncertainty": False} if name == "CascadeRegressor" else {}
    Estimator = getattr(fkp_classic, name)
    with pytest.warns(FutureWarning, match="Pass layout=") as caught:
        Estimator(**small).fit(X, y)
    asked = re.search(r"Pass layout='(\w+)'", str(caught[0].message)).group(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        fitted = Estimator(layout=asked, **small).fit(X, y)
    assert fitted.layout_ is KAGGLE_15 and fitted.get_params()["layout"] == asked
    with pytest.raises(ValueError, match="'layout' parameter"):
        Estimator(layout="ibug99", **small).fit(X, y)
