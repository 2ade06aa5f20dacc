"""The fkp command line end to end."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from skimage import data, io, transform

from conftest import FACES96, needs_faces96
import fkp_classic
from fkp_classic import load_model
from fkp_classic.cli import main
from fkp_classic.keypoints import KAGGLE_15, KAGGLE_COLUMNS


@pytest.fixture(scope="module")
def small_training_csv(tmp_path_factory, faces96):
    folder = tmp_path_factory.mktemp("kaggle")
    frame = pd.DataFrame(faces96.target[:80], columns=list(KAGGLE_COLUMNS))
    frame.iloc[::3, 4:] = np.nan  # partial rows, as in Kaggle
    frame["Image"] = [" ".join(map(str, r)) for r in faces96.data[:80]]
    frame.to_csv(folder / "training.csv", index=False)
    return folder / "training.csv"


@needs_faces96
def test_fit_predict_submit_evaluate_show(tmp_path, small_training_csv, capsys):
    model = tmp_path / "model.joblib"
    assert main(["fit", str(small_training_csv), "-o", str(model), "--estimator", "KeypointRegressor",
                 "--param", "alpha=30", "--param", "pixels_per_cell=(12, 12)"]) == 0
    fitted = load_model(model)
    assert fitted.alpha == 30 and fitted.pixels_per_cell == (12, 12)
    assert main(["predict", str(model), str(FACES96 / "test.zip"), "-o", str(tmp_path / "pred.csv")]) == 0
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert list(pred.columns) == ["ImageId"] + list(KAGGLE_COLUMNS) and len(pred) == 647
    assert main(["submit", str(model), str(FACES96), str(FACES96 / "IdLookupTable.csv"), "-o", str(tmp_path / "sub.csv")]) == 0
    sub = pd.read_csv(tmp_path / "sub.csv")
    assert list(sub.columns) == ["RowId", "Location"] and len(sub) == len(pd.read_csv(FACES96 / "IdLookupTable.csv"))
    capsys.readouterr()
    assert main(["evaluate", str(model), str(small_training_csv)]) == 0
    out = capsys.readouterr().out
    assert "RMSE over 80 faces" in out and "| nose_tip |" in out and "AUC@0.08" in out and "failures (NME > 0.10)" in out
    assert main(["show", str(small_training_csv), "--model", str(model), "-n", "6", "-o", str(tmp_path / "grid.png")]) == 0
    assert io.imread(tmp_path / "grid.png").ndim == 3


def test_user_mistakes_are_one_line_errors(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "none.joblib"), str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    not_a_model = tmp_path / "notes.joblib"
    not_a_model.write_text("hello")
    assert main(["predict", str(not_a_model), str(tmp_path), "-o", str(tmp_path / "p.csv")]) == 2
    assert "not a readable fkp_classic model" in capsys.readouterr().err
    bad_csv = tmp_path / "training.csv"
    bad_csv.write_text("a,b\n1,2\n")
    assert main(["fit", str(bad_csv), "-o", str(tmp_path / "m.joblib")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fkp: error:") and "lacks the expected column" in err and "Traceback" not in err
    assert main(["fit", str(bad_csv), "-o", str(tmp_path / "m.joblib"), "--estimator", "Magic"]) == 2
    assert "--estimator must be one of" in capsys.readouterr().err
    assert not (tmp_path / "m.joblib").exists()


def test_fkp_detect_command_draws_and_writes_json(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    io.imsave(photo, data.astronaut())
    result = subprocess.run(
        [sys.executable, "-m", "fkp_classic", "detect", str(photo), "-o", str(tmp_path / "annotated.png"), "--json", str(tmp_path / "points.json")],
        capture_output=True, text=True, check=True,
    )
    record, = json.loads((tmp_path / "points.json").read_text())
    faces = record["faces"]
    assert record["photo"] == str(photo) and f"{len(faces)} face(s)" in result.stdout and all(len(f["keypoints"]) == 15 for f in faces)
    assert max(f["score"] for f in faces) > 1  # her face; the detector's doubtful others score lower
    assert all(len(f["point_std"]) == 15 and 0 < f["expected_nme"] < 1 for f in faces)
    assert main(["detect", str(photo), "--min-score", "1.75"]) == 0  # in this process: one start-up less
    assert "1 face(s)" in capsys.readouterr().out
    assert io.imread(tmp_path / "annotated.png").shape[0] > 100
    assert main(["detect", str(tmp_path / "nope.png")]) == 2  # in this process too: an exception would fail the test
    assert capsys.readouterr().err.startswith("fkp: error: cannot read photo")
    # every candidate: those the keypoint model doubts (the suit's patterns, mostly) go unless kept
    counts = []
    for extra in ([], ["--keep-doubted"]):
        assert main(["detect", str(photo), "--min-score", "-10", *extra]) == 0
        counts.append(int(re.search(r"(\d+) face\(s\)", capsys.readouterr().out).group(1)))
    assert 1 < counts[0] < counts[1]


def _red_marks(path):
    image = io.imread(path)[..., :3].astype(int)
    return int(((image[..., 0] > 180) & (image[..., 1] < 80) & (image[..., 2] < 80)).sum())


def _key_under_the_faces(path):
    """The faces' height in pixels, and the green and red pixels of the key under them."""
    image = io.imread(path)[..., :3].astype(int)
    gray = (np.ptp(image, axis=2) < 10) & (image.max(axis=2) < 250)  # the faces' pixels (and black text)
    rows = np.flatnonzero(gray.mean(axis=1) > 0.5)
    below = image[rows.max() + 1 :]
    green = ((below[..., 1] > 180) & (below[..., 0] < 100) & (below[..., 2] < 100)).sum()
    red = ((below[..., 0] > 180) & (below[..., 1] < 80) & (below[..., 2] < 80)).sum()
    return len(rows), green, red


@needs_faces96
def test_show_with_the_default_model_draws_its_predictions(tmp_path, small_training_csv, capsys):
    assert main(["show", str(small_training_csv), "-n", "2", "-o", str(tmp_path / "truth.png")]) == 0
    assert "red" not in capsys.readouterr().out and _red_marks(tmp_path / "truth.png") == 0
    height, green, red = _key_under_the_faces(tmp_path / "truth.png")
    assert height > 230 and green > 10 and red == 0  # about 250 px a face, to see the points; the key in the image
    assert main(["show", str(small_training_csv), "--model", "default", "-n", "2", "-o", str(tmp_path / "pred.png")]) == 0
    assert "red: predicted" in capsys.readouterr().out
    assert _red_marks(tmp_path / "pred.png") > 10
    assert min(_key_under_the_faces(tmp_path / "pred.png")[1:]) > 10


def test_show_names_the_training_file_problem(tmp_path, capsys):
    bad = tmp_path / "training.csv"
    bad.write_text(",".join(KAGGLE_COLUMNS) + ",Image\n" + ",".join(["1"] * 30) + ",1 2 x\n")
    assert main(["show", str(bad), "-o", str(tmp_path / "grid.png")]) == 2
    err = capsys.readouterr().err
    assert "row 0 has a non-numeric pixel value 'x'" in err and "ImageId" not in err


def test_version_does_not_import_the_library():
    code = "import sys; from fkp_classic.cli import main; main(['--version'])"
    check = "; print(sorted(m for m in sys.modules if m.startswith(('sklearn', 'skimage', 'fkp_classic.estimators'))))"
    result = subprocess.run([sys.executable, "-c", f"try:\n    {code}\nexcept SystemExit:\n    pass\n{check[2:]}"], capture_output=True, text=True)
    assert result.stdout.startswith(f"fkp_classic {fkp_classic.__version__}") and result.stdout.strip().endswith("[]"), result.stdout + result.stderr


@needs_faces96
def test_fit_defaults_to_the_cascade_on_all_cores_and_evaluate_flags_in_sample(tmp_path, small_training_csv, faces96, capsys):
    model = tmp_path / "model.joblib"
    assert main(["fit", str(small_training_csv), "-o", str(model), "--param", "cell_sizes=(8,)", "--param", "n_perturbations=1"]) == 0
    fitted = load_model(model)
    assert type(fitted).__name__ == "CascadeRegressor" and fitted.n_jobs == -1
    capsys.readouterr()
    assert main(["evaluate", str(model), str(small_training_csv)]) == 0
    assert "80 of 80 faces were in the model's training set" in capsys.readouterr().err
    unseen = tmp_path / "unseen" / "training.csv"
    unseen.parent.mkdir()
    frame = pd.DataFrame(faces96.target[100:130], columns=list(KAGGLE_COLUMNS))
    frame["Image"] = [" ".join(map(str, r)) for r in faces96.data[100:130]]
    frame.to_csv(unseen, index=False)
    assert main(["evaluate", str(model), str(unseen)]) == 0
    assert "warning" not in capsys.readouterr().err


@needs_faces96
def test_evaluate_warns_that_the_packaged_model_saw_faces96(tmp_path, small_training_csv, capsys):
    assert main(["evaluate", "default", str(small_training_csv)]) == 0
    assert "80 of 80 faces were in the model's training set" in capsys.readouterr().err


def test_outputs_that_cannot_be_written_are_refused_before_work(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "missing.csv"), "-o", str(tmp_path)]) == 2
    assert f"model file {tmp_path} is a folder" in capsys.readouterr().err
    assert main(["show", str(tmp_path), "-n", "0", "-o", str(tmp_path / "g.png")]) == 2
    assert "-n must be at least 1" in capsys.readouterr().err
    assert main(["detect", "photo.png", "-o", str(tmp_path / "annotated.xyz")]) == 2
    assert "the suffix names no image format" in capsys.readouterr().err


def test_detect_draws_at_the_photo_size_in_the_named_format(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    io.imsave(photo, data.astronaut())
    assert main(["detect", str(photo), "-o", str(tmp_path / "annotated.jpg"), "--no-verifier", "--min-size", "60"]) == 0
    assert (tmp_path / "annotated.jpg").read_bytes()[:2] == b"\xff\xd8"  # JPEG bytes, as the name says
    assert io.imread(tmp_path / "annotated.jpg").shape == (512, 512, 3)


@needs_faces96
def test_predict_streams_in_chunks_and_resumes_a_stopped_run(tmp_path, capsys):
    import zipfile

    with zipfile.ZipFile(FACES96 / "test.zip") as zf:
        test = pd.read_csv(zf.open(zf.namelist()[0]), nrows=30)
    test.to_csv(tmp_path / "test.csv", index=False)
    whole = tmp_path / "whole.csv"
    assert main(["predict", "default", str(tmp_path / "test.csv"), "-o", str(whole), "--chunk-size", "7"]) == 0
    expected = pd.read_csv(whole)
    assert list(expected.ImageId) == list(test.ImageId) and list(expected.columns) == ["ImageId", *KAGGLE_COLUMNS]
    model = fkp_classic.load_default_model()
    pixels = np.array([r.split() for r in test.Image], dtype=np.uint8)
    np.testing.assert_allclose(expected.to_numpy()[:, 1:], model.predict(pixels), atol=1e-9)
    # A run stopped after 10 rows and in the middle of the 11th: --resume writes the other 20, once each.
    stopped = tmp_path / "stopped.csv"
    text = whole.read_text().splitlines(keepends=True)
    stopped.write_text("".join(text[:11]) + text[11][:25])
    assert main(["predict", "default", str(tmp_path / "test.csv"), "-o", str(stopped)]) == 2
    assert "exists: add --resume" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["predict", "default", str(tmp_path / "test.csv"), "-o", str(stopped), "--resume", "--chunk-size", "4"]) == 0
    said = capsys.readouterr().out
    assert "wrote keypoints of 20 faces" in said and "10 were already there" in said
    resumed = pd.read_csv(stopped)  # the same rows, once each (chunks of other sizes: equal to the last bits)
    assert list(resumed.ImageId) == list(expected.ImageId)
    np.testing.assert_allclose(resumed.to_numpy(), expected.to_numpy(), rtol=1e-12)
    other = tmp_path / "other.csv"
    other.write_text("ImageId,a,b\n1,2,3\n")
    assert main(["predict", "default", str(tmp_path / "test.csv"), "-o", str(other), "--resume"]) == 2
    assert "has the columns 'ImageId,a,b'" in capsys.readouterr().err
    # --std: each coordinate's predicted error scale after the keypoints.
    with_std = tmp_path / "std.csv"
    assert main(["predict", "default", str(tmp_path / "test.csv"), "-o", str(with_std), "--std"]) == 0
    written = pd.read_csv(with_std)
    assert list(written.columns) == ["ImageId", *KAGGLE_COLUMNS, *(f"{c}_std" for c in KAGGLE_COLUMNS)]
    pred, std = model.predict(pixels, return_std=True)
    np.testing.assert_allclose(written.to_numpy()[:, 1:], np.hstack([pred, std]), atol=1e-9)
    plain = tmp_path / "plain.joblib"
    fkp_classic.save_model(fkp_classic.KeypointRegressor(uncertainty=False, layout=KAGGLE_15).fit(pixels, pred), plain)
    assert main(["predict", str(plain), str(tmp_path / "test.csv"), "-o", str(tmp_path / "none.csv"), "--std"]) == 2
    assert "has no error model for --std" in capsys.readouterr().err
    assert not (tmp_path / "none.csv").exists()


@needs_faces96
def test_detect_and_evaluate_with_the_packaged_68_point_model(tmp_path, capsys):
    import zipfile

    photo = tmp_path / "astronaut.png"
    io.imsave(photo, data.astronaut())
    assert main(["detect", str(photo), "--points", "68", "--min-score", "1.75",
                 "--json", str(tmp_path / "p.json"), "-o", str(tmp_path / "annotated.png")]) == 0
    face = max(json.loads((tmp_path / "p.json").read_text())[0]["faces"], key=lambda f: f["score"])  # hers
    points = face["keypoints"]
    assert sorted(points, key=lambda n: int(n[1:])) == [f"p{i}" for i in range(68)]
    chin, lower_lip, nose = points["p8"], points["p57"], points["p30"]  # dlib's numbering
    assert chin[1] > lower_lip[1] > nose[1]  # the jaw below the mouth, the mouth below the nose
    left, right = points["p36"], points["p45"]  # the outer eye corners, either side of the nose
    assert left[0] < nose[0] < right[0]
    jaw = np.array([points[f"p{i}"] for i in range(17)])
    assert np.all(np.diff(jaw[:9, 1]) > 0) and np.all(np.diff(jaw[8:, 1]) < 0)  # down to the chin, then up
    # --no-refine: the face model's own points. Her eyes are too small here for the part refiner (it refits
    # parts its crops show at 3/4 of their resolution or more): at twice the size it moves them and the jaw
    large = tmp_path / "large.png"
    io.imsave(large, transform.rescale(data.astronaut(), 2, channel_axis=-1, preserve_range=True).astype(np.uint8))
    found = {}
    for name, extra in (("refined", []), ("plain", ["--no-refine"])):
        assert main(["detect", str(large), "--points", "68", "--min-score", "1.75", "--json",
                     str(tmp_path / f"{name}.json")] + extra) == 0
        faces = json.loads((tmp_path / f"{name}.json").read_text())[0]["faces"]
        found[name] = max(faces, key=lambda f: f["score"])["keypoints"]
    for part in (range(17), range(36, 48)):  # the jaw, the eyes
        assert any(found["plain"][f"p{i}"] != found["refined"][f"p{i}"] for i in part)
    capsys.readouterr()
    assert main(["detect", str(photo), "--points", "68", "--model", "default68"]) == 2
    assert "--points picks a packaged model and --model names another" in capsys.readouterr().err
    small = tmp_path / "small"  # 40 faces with their 68 points beside them, as in faces96
    small.mkdir()
    with zipfile.ZipFile(FACES96 / "training.zip") as zf:
        pd.read_csv(zf.open(zf.namelist()[0]), nrows=40).to_csv(small / "training.csv", index=False)
    pd.read_csv(FACES96 / "training_meta.csv", nrows=40).to_csv(small / "training_meta.csv", index=False)
    assert main(["evaluate", "default68", str(small)]) == 0
    out, err = capsys.readouterr()
    assert "NME (over the eye distance: p36 to p45) over 40 faces" in out  # the outer eye corners
    assert "40 of 40 faces were in the model's training set" in err  # the packaged model was fitted on them
    with pytest.raises(ValueError, match="layout must be"):
        fkp_classic.load_default_model(layout="68")


def test_points_68_says_how_to_build_the_packaged_model_when_it_is_missing(tmp_path, capsys, monkeypatch):
    import fkp_classic.persistence as persistence

    monkeypatch.setattr(persistence, "IBUG68_MODEL", tmp_path / "ibug68.joblib")
    photo = tmp_path / "astronaut.png"
    io.imsave(photo, data.astronaut())
    assert main(["detect", str(photo), "--points", "68"]) == 2
    assert "build it with tools/train_wild.py --data ../shared/data/300w" in capsys.readouterr().err


@needs_faces96
def test_fit_tells_the_estimator_the_files_layout_and_only_user_errors_are_one_line(tmp_path, small_training_csv,
                                                                                  monkeypatch, capsys):
    import warnings

    from fkp_classic import plotting
    from fkp_classic.datasets import DataError

    model = tmp_path / "mean.joblib"
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no guess of the layout by the number of points
        assert main(["fit", str(small_training_csv), "-o", str(model), "--estimator", "MeanKeypoints"]) == 0
    assert load_model(model).layout_ == KAGGLE_15
    # A model of other faces than the data's is the user's mistake, said in one line
    small = fkp_classic.MeanKeypoints(layout=KAGGLE_15).fit(np.zeros((4, 48 * 48)), np.full((4, 30), 20.0))
    fkp_classic.save_model(small, tmp_path / "small.joblib")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "small.joblib"), str(small_training_csv)]) == 2
    assert "takes faces of 2304 pixels, but the data's faces have 9216 (96x96)" in capsys.readouterr().err
    # The library's own errors are the user's; anything else is a bug, and shows as one
    for error, status in ((DataError("the file is cut off"), 2), (ValueError("a bug"), None)):
        def broken(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(plotting, "face_grid", broken)
        command = ["show", str(small_training_csv), "-n", "2", "-o", str(tmp_path / "grid.png")]
        if status is None:
            with pytest.raises(ValueError, match="a bug"):
                main(command)
        else:
            assert main(command) == status and "fkp: error: the file is cut off" in capsys.readouterr().err


RECORD_KEYS = ["schema", "photo", "error", "frames_in_file", "faces"]
FACE_KEYS = ["box", "keypoints", "score", "point_std", "expected_nme", "track_id", "angle", "pose", "eyes", "mouth",
             "chip"]


def test_detect_json_and_jsonl_to_standard_output_have_one_schema_with_every_key(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a file named "-" would land
    photo, missing = tmp_path / "astronaut.png", tmp_path / "missing.png"
    io.imsave(photo, data.astronaut()[::2, ::2])  # her face at 256 x 256 pixels: quick
    assert main(["detect", str(photo), "--json", "-", "--analyse", "pose"]) == 0
    out, err = capsys.readouterr()
    verified, = json.loads(out)  # standard output holds the JSON alone; the photo's line went to stderr
    assert list(verified) == RECORD_KEYS and verified["schema"] == 2 and verified["error"] is None
    assert f"{photo}: {len(verified['faces'])} face(s)" in err and verified["frames_in_file"] == 1
    her = max(verified["faces"], key=lambda face: face["score"])
    assert list(her) == FACE_KEYS and her["score"] > 1 and her["point_std"]["nose_tip"][0] > 0
    assert abs(her["pose"]["yaw"]) < 30 and her["eyes"] is her["mouth"] is her["chip"] is her["track_id"] is None
    # --jsonl -: one line per photo as it is done, the same keys without the verifier and for a photo not read
    assert main(["detect", str(photo), str(missing), "--jsonl", "-", "--no-verifier"]) == 2
    out, err = capsys.readouterr()
    unverified, failed = (json.loads(line) for line in out.splitlines())
    assert list(unverified) == list(failed) == RECORD_KEYS and unverified["photo"] == str(photo)
    assert all(list(face) == FACE_KEYS and face["score"] is None for face in unverified["faces"])
    assert len(unverified["faces"]) >= len(verified["faces"])  # every detected face kept, unscored
    assert "no such file" in failed["error"] and failed["faces"] is failed["frames_in_file"] is None
    assert err.count("fkp: error:") == 1 and "2 photo(s) done (1 failed) and written to standard output" in err
    assert not (tmp_path / "-").exists()  # no file named "-"
    with pytest.raises(SystemExit):
        main(["detect", "--help"])
    assert '{"schema": 2, "photo": PATH, "error": null' in capsys.readouterr().out  # the records, documented
    for argv, message in ((["--json", "-", "--jsonl", "-"], "--json and --jsonl both name standard output (-)"),
                          (["--jsonl", "-", "--resume"], "--jsonl - writes to standard output: give --jsonl FILE")):
        assert main(["detect", str(photo), *argv]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("fkp: error:") and message in err and err.count("\n") == 1
