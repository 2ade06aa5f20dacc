import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import FACES96, KAGGLE, needs_faces96
from fkp_classic.utils import atomic_write
from fkp_classic.datasets import (
    DataError,
    find_data,
    load_groups,
    load_kaggle,
    load_kaggle_test,
    load_lookup,
    make_faces,
    write_submission,
)
from fkp_classic.keypoints import KAGGLE_COLUMNS


def _training_frame(n=6, seed=0):
    X, y = make_faces(n, random_state=seed, return_X_y=True)
    y[1, 4:] = np.nan  # a partly labelled row, as in Kaggle
    frame = pd.DataFrame(y, columns=list(KAGGLE_COLUMNS))
    frame["Image"] = [" ".join(map(str, row)) for row in X]
    return frame, X, y


def _test_frame(n=4, seed=1):
    X, _ = make_faces(n, random_state=seed, return_X_y=True)
    return pd.DataFrame({"ImageId": np.arange(1, n + 1), "Image": [" ".join(map(str, r)) for r in X]}), X


def _zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def kaggle_files(tmp_path):
    """Every form a user's download may take, built from synthetic faces."""
    train, X, y = _training_frame()
    test, X_test = _test_frame()
    lookup = pd.DataFrame({"RowId": [1, 2, 3], "ImageId": [1, 1, 2], "FeatureName": ["nose_tip_x", "nose_tip_y", "left_eye_center_x"]})
    csv = {"training": train.to_csv(index=False), "test": test.to_csv(index=False), "IdLookupTable": lookup.to_csv(index=False)}
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "training.csv").write_text(csv["training"])
    (forms / "training.zip").write_bytes(_zip_bytes({"training.csv": csv["training"]}))
    (forms / "test.zip").write_bytes(_zip_bytes({"test.csv": csv["test"]}))
    archive = _zip_bytes(
        {
            "training.zip": _zip_bytes({"training.csv": csv["training"]}),
            "test.zip": _zip_bytes({"test.csv": csv["test"]}),
            "IdLookupTable.csv": csv["IdLookupTable"],
            "SampleSubmission.csv": "RowId,Location\n1,0\n",
        }
    )
    (forms / "facial-keypoints-detection.zip").write_bytes(archive)
    only_archive = tmp_path / "download"
    only_archive.mkdir()
    (only_archive / "facial-keypoints-detection.zip").write_bytes(archive)
    return dict(dir=forms, archive_dir=only_archive, X=X, y=y, X_test=X_test, lookup=lookup)


@pytest.mark.parametrize("form", ["training.csv", "training.zip", "facial-keypoints-detection.zip", ".", "archive_dir"])
def test_load_kaggle_every_form(kaggle_files, form):
    path = kaggle_files["archive_dir"] if form == "archive_dir" else kaggle_files["dir"] / form
    bunch = load_kaggle(path)
    np.testing.assert_array_equal(bunch.data, kaggle_files["X"])
    assert bunch.data.dtype == np.uint8 and bunch.images.shape == (6, 96, 96)
    np.testing.assert_allclose(bunch.target, kaggle_files["y"], atol=1e-6)
    assert np.isnan(bunch.target[1, 4:]).all()
    assert bunch.target_names == list(KAGGLE_COLUMNS)
    assert bunch.groups is None and "96x96" in bunch.DESCR
    X, y = load_kaggle(path, return_X_y=True)
    assert X.shape == (6, 9216) and y.shape == (6, 30)


@pytest.mark.parametrize("form", ["test.zip", "facial-keypoints-detection.zip", "."])
def test_load_kaggle_test_forms(kaggle_files, form):
    bunch = load_kaggle_test(kaggle_files["dir"] / form)
    np.testing.assert_array_equal(bunch.data, kaggle_files["X_test"])
    np.testing.assert_array_equal(bunch.image_ids, [1, 2, 3, 4])


def test_lookup_from_archive(kaggle_files):
    frame, _ = load_lookup(kaggle_files["dir"] / "facial-keypoints-detection.zip")
    assert list(frame["FeatureName"]) == ["nose_tip_x", "nose_tip_y", "left_eye_center_x"]


def test_find_data_uses_environment(kaggle_files, monkeypatch):
    monkeypatch.setenv("FKP_DATA", str(kaggle_files["dir"]))
    assert find_data() == kaggle_files["dir"]
    assert load_kaggle().data.shape == (6, 9216)
    monkeypatch.delenv("FKP_DATA")
    with pytest.raises(DataError, match="FKP_DATA"):
        find_data()
    with pytest.raises(DataError, match="does not exist"):
        find_data(kaggle_files["dir"] / "nope")


def _write(tmp_path, frame, name="training.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_bad_training_files_name_the_problem(tmp_path):
    frame, _, _ = _training_frame(4)
    with pytest.raises(DataError, match=r"lacks the expected column.*nose_tip_x"):
        load_kaggle(_write(tmp_path, frame.drop(columns=["nose_tip_x"])))
    short = frame.copy()
    short.loc[2, "Image"] = " ".join(short.loc[2, "Image"].split()[:-1])
    with pytest.raises(DataError, match=r"row 2 has an Image with 9215 values; expected 9216"):
        load_kaggle(_write(tmp_path, short))
    text = frame.copy()
    text.loc[3, "Image"] = text.loc[3, "Image"].replace(" ", " abc ", 1)
    with pytest.raises(DataError, match=r"row 3 has a non-numeric pixel value 'abc'"):
        load_kaggle(_write(tmp_path, text))
    text.loc[3, "Image"] = frame.loc[3, "Image"].replace(" ", " \u0663 ", 1)  # a digit, but not 0-9
    with pytest.raises(DataError, match="row 3 has a non-numeric pixel value '\u0663'"):
        load_kaggle(_write(tmp_path, text))
    big = frame.copy()
    big.loc[1, "Image"] = "300 " + " ".join(big.loc[1, "Image"].split()[1:])
    with pytest.raises(DataError, match=r"row 1 pixel 0 is 300; pixels must be 0..255"):
        load_kaggle(_write(tmp_path, big))
    big.loc[1, "Image"] = "1 " + "9" * 25 + " " + " ".join(big.loc[1, "Image"].split()[2:])  # beyond int64
    with pytest.raises(DataError, match=r"row 1 pixel 1 is 9{25}; pixels must be 0..255"):
        load_kaggle(_write(tmp_path, big))
    negative = frame.copy()
    negative.loc[0, "Image"] = "-4 " + " ".join(negative.loc[0, "Image"].split()[1:])
    with pytest.raises(DataError, match=r"row 0 has a non-integer or negative pixel value '-4'"):
        load_kaggle(_write(tmp_path, negative))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_kaggle(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(list(KAGGLE_COLUMNS) + ["Image"]) + "\n")
    with pytest.raises(DataError, match="has no rows"):
        load_kaggle(header_only)
    keypoints = frame.copy().astype({"nose_tip_x": object})
    keypoints.loc[0, "nose_tip_x"] = "left"
    with pytest.raises(DataError, match="row 0 column nose_tip_x is .left.; expected a finite number"):
        load_kaggle(_write(tmp_path, keypoints))
    with pytest.raises(DataError, match="holds no training.csv"):
        load_kaggle(_zip_only_test(tmp_path))


def _zip_only_test(tmp_path):
    path = tmp_path / "test.zip"
    path.write_bytes(_zip_bytes({"test.csv": "ImageId,Image\n"}))
    return path


def test_bad_test_file(tmp_path):
    frame, _ = _test_frame(2)
    with pytest.raises(DataError, match=r"lacks the expected column.*ImageId"):
        load_kaggle_test(_write(tmp_path, frame.drop(columns=["ImageId"]), "test.csv"))


def test_submission_round_trip_on_genuine_lookup(tmp_path):
    if not (KAGGLE / "IdLookupTable.csv").is_file():
        pytest.skip(f"genuine Kaggle files not found at {KAGGLE}")
    lookup = pd.read_csv(KAGGLE / "IdLookupTable.csv")
    sample = pd.read_csv(KAGGLE / "SampleSubmission.csv")
    ids = np.unique(lookup["ImageId"])
    assert len(lookup) == 27124 and len(ids) == 1783
    rng = np.random.default_rng(0)
    y_pred = rng.uniform(-5, 100, size=(len(ids), 30))
    order = rng.permutation(len(ids))  # predictions need not be in ImageId order
    out = tmp_path / "submission.csv"
    written = write_submission(y_pred[order], image_ids=ids[order], lookup=KAGGLE / "IdLookupTable.csv", path=out)
    back = pd.read_csv(out)
    assert list(back.columns) == list(sample.columns) == ["RowId", "Location"]
    np.testing.assert_array_equal(back["RowId"], sample["RowId"])
    col = {c: i for i, c in enumerate(KAGGLE_COLUMNS)}
    expected = np.clip(y_pred[lookup["ImageId"].to_numpy() - 1, lookup["FeatureName"].map(col).to_numpy()], 0, 95)
    np.testing.assert_allclose(back["Location"], expected, rtol=1e-12)
    assert back["Location"].between(0, 95).all()
    np.testing.assert_allclose(written["Location"], back["Location"])


def test_submission_rejects_unknown_ids_and_features(tmp_path):
    lookup = pd.DataFrame({"RowId": [1, 2], "ImageId": [1, 7], "FeatureName": ["nose_tip_x", "nose_tip_y"]})
    with pytest.raises(DataError, match=r"row 1 \(RowId 2\) names unknown ImageId 7"):
        write_submission(np.zeros((1, 30)), image_ids=[1], lookup=lookup, path=tmp_path / "s.csv")
    lookup = pd.DataFrame({"RowId": [1], "ImageId": [1], "FeatureName": ["chin_x"]})
    with pytest.raises(DataError, match=r"unknown FeatureName 'chin_x'"):
        write_submission(np.zeros((1, 30)), image_ids=[1], lookup=lookup, path=tmp_path / "s.csv")
    with pytest.raises(ValueError, match=r"y_pred must have shape"):
        write_submission(np.zeros((1, 29)), image_ids=[1], lookup=lookup, path=tmp_path / "s.csv")
    assert not (tmp_path / "s.csv").exists()


def test_failed_submission_leaves_existing_file_intact(tmp_path):
    out = tmp_path / "submission.csv"
    out.write_text("RowId,Location\n1,42\n")
    lookup = pd.DataFrame({"RowId": [1], "ImageId": [1], "FeatureName": ["nose_tip_x"]})
    with pytest.raises(ValueError, match="NaN"):
        write_submission(np.full((1, 30), np.nan), image_ids=[1], lookup=lookup, path=out)
    assert out.read_text() == "RowId,Location\n1,42\n"
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]


def test_atomic_write_interrupted_keeps_old_file(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half of the new cont")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


@needs_faces96
def test_faces96_with_groups(faces96):
    assert faces96.data.shape == (3416, 9216)
    assert not np.isnan(faces96.target).any()
    assert len(np.unique(faces96.groups)) == 291
    np.testing.assert_array_equal(load_groups(FACES96), faces96.groups)
    assert faces96.target.min() > -20 and faces96.target.max() < 116


@needs_faces96
def test_faces96_test_set_and_lookup():
    test = load_kaggle_test(FACES96)
    assert test.data.shape == (647, 9216)
    lookup, _ = load_lookup(FACES96)
    assert set(lookup["ImageId"]) <= set(test.image_ids)


@needs_faces96
def test_ibug68_layout_reads_the_68_points_beside_the_training_file(tmp_path, faces96, faces96_ibug68):
    from fkp_classic.keypoints import IBUG_68, ibug68_to_kaggle15

    faces = faces96_ibug68  # load_kaggle(FACES96, layout="ibug68"), loaded once for the suite
    assert faces.target.shape == (len(faces.data), 136) and faces.layout == IBUG_68
    assert faces.target_names[:2] == ["p0_x", "p0_y"] and faces.groups is not None
    # The 68 points agree with the file's 15 where they define them (eye centres = mean of six points, ...).
    fifteen = faces96.target  # load_kaggle(FACES96).target
    assert np.nanmedian(np.abs(ibug68_to_kaggle15(faces.target) - fifteen)) < 1.0
    # The jaw runs past the crop: below it on some faces, and that loads.
    assert np.nanmax(faces.target[:, 1::2]) > 120
    (tmp_path / "training.csv").write_text("Image\n" + " ".join(["0"] * 9216) + "\n")
    with pytest.raises(DataError, match="training_meta.csv beside"):
        load_kaggle(tmp_path / "training.csv", layout="ibug68")
    with pytest.raises(ValueError, match=r"layout must be a KeypointLayout or one of \['ibug68', 'kaggle15'\], got 'ibug'"):
        load_kaggle(FACES96, layout="ibug")
    assert "(n, 136)" in faces.DESCR and "(n, 30)" not in faces.DESCR


def test_load_kaggle_takes_a_users_layout_and_names_its_missing_columns(tmp_path):
    from fkp_classic.keypoints import KeypointLayout

    frame, _, y = _training_frame(4)
    path = _write(tmp_path, frame)
    eyes = KeypointLayout(("left_eye_center", "right_eye_center"), (("left_eye_center", "right_eye_center"),))
    data = load_kaggle(path, layout=eyes)
    assert data.layout is eyes and data.target_names == list(eyes.columns)
    np.testing.assert_array_equal(data.target, y[:, :4])
    with pytest.raises(DataError, match=r"lacks the expected column\(s\) \['chin_x', 'chin_y'\]"):
        load_kaggle(path, layout=KeypointLayout(("chin",)))
    with pytest.raises(ValueError, match="The 'layout' parameter of load_kaggle"):
        load_kaggle(path, layout=15)


def test_positional_options_still_work_for_a_version_with_a_warning(tmp_path):
    from fkp_classic.datasets import iter_kaggle_test

    frame, X, y = _training_frame(3)
    path = _write(tmp_path, frame)
    with pytest.warns(FutureWarning, match="pass return_X_y=True as keyword arguments: load_kaggle takes 1"):
        data, target = load_kaggle(path, True)
    np.testing.assert_array_equal(data, X)
    with pytest.raises(ValueError, match="The 'chunk_size' parameter of iter_kaggle_test must be an int in the range"):
        iter_kaggle_test(path, chunk_size=0)
    with pytest.raises(TypeError, match="multiple values for argument 'return_X_y'"):
        load_kaggle(path, True, return_X_y=True)


def test_a_users_landmark_csv_gives_its_own_layout(tmp_path):
    from fkp_classic.datasets import load_landmarks

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (4, 40 * 30))
    frame = pd.DataFrame({
        "subject": list("abcd"),
        "Image": [" ".join(map(str, p)) for p in pixels],
        "l_pupil_x": [10.0, 11, np.nan, 12], "l_pupil_y": [12.0, 12, np.nan, 13],
        "r_pupil_x": [25.0, 24, 26, 25], "r_pupil_y": [12.0, 13, 12, 12],
        "chin_x": [18.0, 18, 17, 19], "chin_y": [39.5, 38, 41, 37],  # a chin may sit past the image's edge
    })
    frame.to_csv(tmp_path / "mine.csv", index=False)
    faces = load_landmarks(tmp_path / "mine.csv", image_shape=(40, 30))
    assert faces.layout.names == ("l_pupil", "r_pupil", "chin")
    assert faces.layout.flip_pairs == (("l_pupil", "r_pupil"),)
    assert faces.images.shape == (4, 40, 30) and np.array_equal(faces.data, pixels)
    assert np.isnan(faces.target[2, :2]).all() and faces.target[0, 5] == 39.5
    assert list(faces.other.columns) == ["subject"]
    with pytest.raises(DataError, match="not a square image: give image_shape"):
        load_landmarks(tmp_path / "mine.csv")
    frame.loc[1, "chin_y"] = 900
    frame.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match="bad.csv: row 1 column chin_y is 900"):
        load_landmarks(tmp_path / "bad.csv", image_shape=(40, 30))
    frame.drop(columns=["chin_y"]).rename(columns=lambda c: c.replace("_x", "X")).to_csv(tmp_path / "none.csv")
    with pytest.raises(DataError, match="no <name>_x, <name>_y column pairs"):
        load_landmarks(tmp_path / "none.csv", image_shape=(40, 30))
