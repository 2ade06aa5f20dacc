"""Bad input gives a clear error naming the file, row, parameter or photo, never a wrong answer or a traceback.

One test per mistake a new user made (issue 17); the messages are asserted.
"""

import errno
import os
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data

from conftest import FACES96, needs_faces96
from fkp_classic.cli import main
from fkp_classic.datasets import DataError, load_kaggle, load_kaggle_test, load_lookup, write_submission
from fkp_classic.keypoints import KAGGLE_COLUMNS
from fkp_classic.persistence import load_model, save_model
from fkp_classic.photo import KeypointDetector, PhotoError, as_gray, crop_frames, read_photo
from fkp_classic.utils import atomic_write, check_writable


@pytest.fixture(scope="module")
def kaggle_files(tmp_path_factory, faces96):
    """Small valid training (12 faces), test (4 faces) and lookup files of real faces96 rows."""
    folder = tmp_path_factory.mktemp("kaggle")
    training = pd.DataFrame(faces96.target[:12], columns=list(KAGGLE_COLUMNS))
    training["Image"] = [" ".join(map(str, r)) for r in faces96.data[:12]]
    test = pd.DataFrame({"ImageId": [1, 2, 3, 4], "Image": training["Image"][:4]})
    lookup = pd.DataFrame([(i, f) for i in (1, 2, 3, 4) for f in KAGGLE_COLUMNS[:4]], columns=["ImageId", "FeatureName"])
    lookup.insert(0, "RowId", np.arange(1, len(lookup) + 1))
    files = {"training": training, "test": test, "lookup": lookup}
    for name, frame in files.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder, files


def _err(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err and len([l for l in err.splitlines() if l.startswith("fkp: error:")]) == 1, err
    return err


# --- the eight silent wrong answers ------------------------------------------------------------------------------

@needs_faces96
@pytest.mark.parametrize("value", [1e9, -40.0])
def test_keypoints_far_outside_the_face_are_refused_with_file_row_and_column(kaggle_files, tmp_path, value, capsys):
    folder, files = kaggle_files
    bad = files["training"].copy()
    bad.loc[5, "nose_tip_x"] = value
    bad.to_csv(tmp_path / "training.csv", index=False)
    with pytest.raises(DataError, match=re.escape(f"training.csv: row 5 column nose_tip_x is {value:g}, outside the 96-pixel face")):
        load_kaggle(tmp_path / "training.csv")
    assert main(["fit", str(tmp_path / "training.csv"), "-o", str(tmp_path / "m.joblib")]) == 2
    assert "row 5 column nose_tip_x" in _err(capsys) and not (tmp_path / "m.joblib").exists()
    bad.loc[5, "nose_tip_x"] = 110.4  # real labels reach a little past the frame (faces96's chins)
    bad.to_csv(tmp_path / "training.csv", index=False)
    assert load_kaggle(tmp_path / "training.csv").target[5, 20] == 110.4


@needs_faces96
def test_repeated_image_ids_are_refused_naming_them(kaggle_files, tmp_path, capsys):
    folder, files = kaggle_files
    pd.concat([files["test"], files["test"].iloc[[2]]]).to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(DataError, match="test.csv: ImageId 3 appears on rows \\[2, 4\\]"):
        load_kaggle_test(tmp_path / "test.csv")
    assert main(["predict", "default", str(tmp_path / "test.csv"), "-o", str(tmp_path / "p.csv")]) == 2
    assert "ImageId 3 appears on rows" in _err(capsys) and not (tmp_path / "p.csv").exists()
    with pytest.raises(ValueError, match="image_ids contain duplicates \\(ImageId 2\\)"):
        write_submission(np.zeros((3, 30)), image_ids=[1, 2, 2], lookup=folder / "lookup.csv", path=tmp_path / "s.csv")


@needs_faces96
def test_repeated_row_ids_and_header_only_lookup_tables_are_refused(kaggle_files, tmp_path, capsys):
    folder, files = kaggle_files
    lookup = files["lookup"]
    pd.concat([lookup, lookup.iloc[[3]]]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(DataError, match="dup.csv: RowId 4 appears on rows \\[3, 16\\]"):
        load_lookup(tmp_path / "dup.csv")
    again = lookup.copy()
    again.loc[1, "FeatureName"] = again.loc[0, "FeatureName"]
    again.to_csv(tmp_path / "again.csv", index=False)
    with pytest.raises(DataError, match="again.csv: row 1 asks again for ImageId 1 left_eye_center_x"):
        load_lookup(tmp_path / "again.csv")
    lookup.head(0).to_csv(tmp_path / "empty.csv", index=False)
    assert main(["submit", "default", str(folder / "test.csv"), str(tmp_path / "empty.csv"), "-o", str(tmp_path / "s.csv")]) == 2
    assert "empty.csv has a header but no rows" in _err(capsys) and not (tmp_path / "s.csv").exists()


@needs_faces96
def test_cli_parameters_are_checked_before_any_data_is_read(tmp_path, capsys):
    missing = tmp_path / "no-such-training.csv"  # never reached: the parameter is refused first
    assert main(["fit", str(missing), "-o", str(tmp_path / "m.joblib"), "--param", "n_jobs=abc"]) == 2
    assert "The 'n_jobs' parameter of CascadeRegressor must be an instance of 'int' or None" in _err(capsys)
    for param, name in (("pixels_per_cell=8", "pixels_per_cell"), ("orientations=-2", "orientations"),
                        ("patch_size=0", "patch_size"), ("alpha=abc", "alpha")):
        assert main(["fit", str(missing), "-o", str(tmp_path / "m.joblib"), "--estimator", "KeypointRegressor",
                     "--param", param]) == 2
        assert f"--param: The '{name}' parameter of KeypointRegressor must be" in _err(capsys)
    assert main(["fit", str(missing), "-o", str(tmp_path / "m.joblib"), "--param", "cell_sizes=abc"]) == 2
    assert "The 'cell_sizes' parameter of CascadeRegressor must be an instance of 'a tuple" in _err(capsys)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """The astronaut as CMYK JPEG, 16-bit gray PNG, gray+alpha PNG, palette PNG, an animated GIF and a non-photo."""
    folder = tmp_path_factory.mktemp("photos")
    rgb = Image.fromarray(data.astronaut())
    rgb.convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    gray = np.asarray(rgb.convert("L"))
    Image.fromarray(gray.astype(np.uint16) * 257).save(folder / "gray16.png")
    rgb.convert("LA").save(folder / "gray_alpha.png")
    rgb.convert("P").save(folder / "palette.png")
    rgb.save(folder / "animated.gif", save_all=True, append_images=[Image.fromarray(data.camera()).convert("RGB")])
    (folder / "notes.png").write_text("not a photo")
    exif = Image.Exif()
    exif[0x0112] = 6  # taken turned: rotate 90 degrees clockwise to view
    rgb.transpose(Image.Transpose.ROTATE_90).save(folder / "turned.jpg", exif=exif, quality=95)
    return folder, np.asarray(rgb), gray


def test_one_photo_loader_reads_every_pillow_mode_correctly(photos):
    folder, rgb, gray = photos
    cmyk, _ = read_photo(folder / "cmyk.jpg")  # the K channel is ink, not alpha
    assert cmyk.shape == (512, 512, 3) and np.abs(cmyk.astype(float) - rgb).mean() < 4
    wide, _ = read_photo(folder / "gray16.png")
    assert wide.dtype == np.uint16 and np.array_equal(wide, gray.astype(np.uint16) * 257)
    np.testing.assert_array_equal(read_photo(folder / "gray_alpha.png")[0], gray)
    assert read_photo(folder / "palette.png")[0].shape == (512, 512, 3)
    first, n_frames = read_photo(folder / "animated.gif")
    assert n_frames == 2 and np.abs(first.astype(float) - rgb).mean() < 12  # the GIF palette costs a little
    upright, _ = read_photo(folder / "turned.jpg")
    assert upright.shape == (512, 512, 3) and np.abs(upright.astype(float) - rgb).mean() < 4
    with pytest.raises(PhotoError, match="notes.png is not a photo Pillow can read"):
        read_photo(folder / "notes.png")
    with pytest.raises(PhotoError, match="cmyk.jpg: 512x512 is 0 megapixels, above the limit"):
        read_photo(folder / "cmyk.jpg", max_pixels=1000)
    with pytest.raises(PhotoError, match="cannot read photo .*: it is a folder"):
        read_photo(folder)


def test_a_cmyk_photo_gives_the_face_the_rgb_photo_gives(photos):
    folder, rgb, _ = photos
    detector = KeypointDetector()
    best = max(detector.detect(folder / "cmyk.jpg"), key=lambda face: face.score)
    truth = max(detector.detect(rgb), key=lambda face: face.score)
    assert best.score > 1 and np.abs(np.subtract(best.box, truth.box)).max() < 6


def test_annotated_output_is_written_in_the_format_its_name_says(photos, tmp_path):
    folder, _, _ = photos
    assert main(["detect", str(folder / "gray_alpha.png"), "-o", str(tmp_path / "out.jpg"), "--no-verifier"]) == 0
    assert (tmp_path / "out.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert Image.open(tmp_path / "out.jpg").format == "JPEG"


def test_uint16_photos_are_scaled_once_by_their_dtype(photos):
    _, rgb, gray = photos
    wide = gray.astype(np.uint16) * 257
    np.testing.assert_allclose(as_gray(wide), gray / 255.0, atol=1e-12)
    frames = np.array([[150.0, 40.0, 140.0], [0.0, 0.0, 512.0]])
    narrow_crops, _ = crop_frames(as_gray(gray), frames)
    for photo in (wide, as_gray(wide)):  # a raw uint16 photo straight into crop_frames, too
        crops, _ = crop_frames(photo, frames)
        np.testing.assert_array_equal(crops, narrow_crops)
    assert (narrow_crops == 255).mean() < 0.01


# --- the unclear errors -------------------------------------------------------------------------------------------

@needs_faces96
def test_cut_off_or_corrupt_zips_are_named(kaggle_files, tmp_path, capsys):
    whole = (FACES96 / "training.zip").read_bytes()
    (tmp_path / "training.zip").write_bytes(whole[:50_000])
    with pytest.raises(DataError, match="training.zip is not a readable zip archive \\(cut off or corrupt"):
        load_kaggle(tmp_path / "training.zip")
    assert main(["fit", str(tmp_path), "-o", str(tmp_path / "m.joblib")]) == 2  # through the folder
    assert "training.zip is not a readable zip archive" in _err(capsys)
    archive = zipfile.ZipFile(FACES96 / "test.zip")
    test_bytes = bytearray((FACES96 / "test.zip").read_bytes())
    info = archive.infolist()[0]
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    test_bytes[start + 1000:start + 1100] = b"\0" * 100  # deflate data damaged, directory intact
    (tmp_path / "test.zip").write_bytes(bytes(test_bytes))
    with pytest.raises(DataError, match="test.zip: member .* cannot be extracted"):
        load_kaggle_test(tmp_path / "test.zip")


@needs_faces96
def test_unwritable_outputs_name_the_users_path(kaggle_files, tmp_path, monkeypatch, capsys):
    import tempfile

    folder, _ = kaggle_files
    target = tmp_path / "submission.csv"
    target.write_text("the old submission\n")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=f"cannot write output {target}: the disk is full; nothing was written"):
        with atomic_write(target, "w") as fh:
            fh.write("x" * 10)
            monkeypatch.setattr(os, "fsync", disk_full)
    monkeypatch.undo()
    assert target.read_text() == "the old submission\n" and sorted(p.name for p in tmp_path.iterdir()) == ["submission.csv"]

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(OSError, match=f"cannot write model file {tmp_path / 'm.joblib'}: Read-only file system"):
        check_writable(tmp_path / "m.joblib", "model file")
    assert main(["fit", str(folder), "-o", str(tmp_path / "m.joblib")]) == 2  # before the fit, not after
    assert "Read-only file system" in _err(capsys)


@needs_faces96
def test_string_image_ids_are_a_type_mismatch(kaggle_files, tmp_path):
    folder, _ = kaggle_files
    with pytest.raises(ValueError, match="image_ids must be whole numbers.*got dtype <U1 \\(first id np.str_\\('1'\\)\\)"):
        write_submission(np.zeros((4, 30)), image_ids=["1", "2", "3", "4"], lookup=folder / "lookup.csv", path=tmp_path / "s.csv")
    sub = write_submission(np.ones((4, 30)), image_ids=np.array([1.0, 2.0, 3.0, 4.0]), lookup=folder / "lookup.csv", path=tmp_path / "s.csv")
    assert len(sub) == 16


@needs_faces96
def test_model_files_that_hold_no_keypoint_model_are_named(kaggle_files, tmp_path, capsys):
    from sklearn.linear_model import LogisticRegression

    folder, _ = kaggle_files
    save_model("hello", tmp_path / "text.joblib")
    with pytest.raises(ValueError, match="text.joblib holds a str, not a fitted model"):
        load_model(tmp_path / "text.joblib")
    rng = np.random.default_rng(0)
    save_model(LogisticRegression().fit(rng.random((10, 9216)), [0, 1] * 5), tmp_path / "classifier.joblib")
    assert main(["predict", str(tmp_path / "classifier.joblib"), str(folder / "test.csv"), "-o", str(tmp_path / "p.csv")]) == 2
    assert "(LogisticRegression) predicts an array of shape (4,) for 4 faces, not keypoints" in _err(capsys)
    assert main(["predict", str(tmp_path), str(folder / "test.csv"), "-o", str(tmp_path / "p.csv")]) == 2
    assert "is a folder, not a model file" in _err(capsys)


def test_large_photos_are_searched_downscaled_and_cropped_at_full_resolution():
    photo = np.asarray(Image.fromarray(data.astronaut()).resize((2048, 2048)))  # 4 megapixels
    small = max(KeypointDetector().detect(data.astronaut()), key=lambda face: face.score)
    big = max(KeypointDetector(max_detect_pixels=300_000).detect(photo), key=lambda face: face.score)
    assert big.score > 1  # the box is the detector's coarse pyramid level; the keypoints agree closely
    for name in ("nose_tip", "left_eye_center", "right_eye_center", "mouth_center_bottom_lip"):
        np.testing.assert_allclose(np.array(big.keypoints[name]) / 4, small.keypoints[name], atol=2)


def test_bad_photos_are_reported_and_the_others_still_done(photos, tmp_path, capsys):
    import json

    folder, _, _ = photos
    args = [str(folder / "gray_alpha.png"), str(folder / "notes.png"), str(folder / "animated.gif")]
    assert main(["detect", *args, "--json", str(tmp_path / "faces.json"), "--no-verifier"]) == 2
    out, err = capsys.readouterr()
    assert "notes.png: not processed: " in out and "animated.gif: " in out and "(first of its 2 frames)" in out
    assert err.count("fkp: error:") == 1 and "1 of 3 photo(s) could not be processed" in err
    written = {record["photo"]: record for record in json.loads((tmp_path / "faces.json").read_text())}
    assert list(written) == args and written[args[2]]["frames_in_file"] == 2
    assert "not a photo Pillow can read" in written[args[1]]["error"] and len(written[args[0]]["faces"]) >= 1


@needs_faces96
def test_show_names_counts_and_the_real_training_problem(kaggle_files, tmp_path, capsys):
    folder, files = kaggle_files
    for n in ("0", "-3"):
        assert main(["show", str(folder / "training.csv"), "-n", n, "-o", str(tmp_path / "g.png")]) == 2
        assert f"-n must be at least 1, got {n}" in _err(capsys)
    bad = files["training"].copy()
    bad.loc[2, "Image"] = "1 2 3"
    bad.to_csv(tmp_path / "training.csv", index=False)
    assert main(["show", str(tmp_path / "training.csv"), "-o", str(tmp_path / "g.png")]) == 2
    assert "row 2 has an Image with 3 values" in _err(capsys)
