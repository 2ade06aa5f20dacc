"""Training from annotated photos: crops framed as the photo path frames a face, mirrored and augmented."""

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from fkp_classic.datasets import PHOTO_LICENCE_NOTE, fit_from_photos, load_photo_points, photo_cascade, photo_training_crops
from fkp_classic.evaluation import eye_rotation, framing_errors
from fkp_classic.keypoints import get_layout
from fkp_classic.photo import KeypointDetector, reframe

LAYOUT = get_layout("ibug68")


@pytest.fixture(scope="module")
def mean68():
    """A 68-point mean shape in 96-pixel crops: the packaged model's."""
    from fkp_classic import load_default_model

    return load_default_model(layout="ibug68").mean_shape_.reshape(-1, 2)


def _dot_photos(tmp_path, mean68, n_photos=3, seed=0):
    """Photos of dark noise with one bright dot at each of a face's 68 points (a known answer for every crop)."""
    rng = np.random.RandomState(seed)
    rows = []
    for i in range(n_photos):
        h, w = 220 + 20 * i, 260
        photo = rng.randint(0, 40, (h, w)).astype(np.uint8)
        scale = rng.uniform(1.2, 1.8)
        pts = (mean68 - mean68.mean(0)) * scale + [w / 2 + rng.uniform(-20, 20), h / 2 + rng.uniform(-15, 15)]
        pts = np.round(pts)
        for x, y in pts.astype(int):
            photo[y - 1 : y + 2, x - 1 : x + 2] = 255
        path = tmp_path / f"photo{i}.png"
        Image.fromarray(photo).save(path)
        rows.append((path.name, pts))
    lines = ["file," + ",".join(f"{n}_x,{n}_y" for n in LAYOUT.names)]
    lines += [f"{name}," + ",".join(f"{v:g}" for v in pts.ravel()) for name, pts in rows]
    (tmp_path / "points.csv").write_text("\n".join(lines) + "\n")
    return load_photo_points(tmp_path / "points.csv")


def _brightness_at(crops, size):
    """Mean crop brightness at each crop's own points (bilinear), and elsewhere."""
    images = crops.data.reshape(-1, size, size).astype(float)
    pts = np.clip(crops.target.reshape(len(images), -1, 2), 0, size - 1)
    x, y = np.round(pts[..., 0]).astype(int), np.round(pts[..., 1]).astype(int)
    at = images[np.arange(len(images))[:, None], y, x]
    return at.mean(), images.mean()


def test_crops_are_framed_as_reframe_frames_them(tmp_path, mean68):
    photos = _dot_photos(tmp_path, mean68)
    crops = photo_training_crops(photos, size=96, mean_shape=mean68, n_perturbations=1, mirror=False, random_state=0)
    exact = ~crops.perturbed
    np.testing.assert_allclose(crops.frames[exact], reframe(photos.points[crops.face[exact]], mean68, size=96))
    # the exact crops' points have the mean shape's centroid and spread; a perturbed crop's frame moves
    pts = crops.target[exact].reshape(-1, 68, 2)
    np.testing.assert_allclose(pts.mean(axis=1), np.tile(mean68.mean(0), (len(pts), 1)), atol=0.6)
    shift, scale = framing_errors(crops.frames[crops.perturbed], photos.points[crops.face[crops.perturbed]], mean68,
                                  size=96)
    assert np.all(np.abs(scale - 1) + np.abs(shift).sum(axis=1) > 0)


def test_augmentation_keeps_points_on_the_face(tmp_path, mean68):
    photos = _dot_photos(tmp_path, mean68)
    crops = photo_training_crops(photos, size=64, mean_shape=(mean68 + 0.5) * 64 / 96 - 0.5, n_perturbations=3,
                                 rotation=20, framing_noise=(0.05, 0.08), contrast=0.2, brightness=5,
                                 jpeg_quality=(70, 95), random_state=0)
    assert crops.data.shape == (3 * 8, 64 * 64) and crops.mirrored.sum() == 12 and crops.perturbed.sum() == 18
    at, everywhere = _brightness_at(crops, 64)
    assert at > 150 and everywhere < 60  # every crop's points sit on the dots, turned and mirrored alike
    # turned crops: the eyes turn by the drawn angle, not by nothing
    assert np.abs(eye_rotation(crops.target[crops.perturbed], LAYOUT)).max() > 5


def test_a_mirrored_face_has_the_flipped_points(tmp_path, mean68):
    photos = _dot_photos(tmp_path, mean68, n_photos=1)
    crops = photo_training_crops(photos, size=96, mean_shape=mean68, n_perturbations=0, mirror=True)
    plain, mirrored = crops.target[~crops.mirrored][0], crops.target[crops.mirrored][0]
    # cut from the mirrored photo and framed from its points as any face: the flipped points, mirrored about
    # the mean shape's centre line (where reframe puts every face's centroid)
    axis = mean68[:, 0].mean()
    flipped = plain.reshape(-1, 2)[LAYOUT.flip_permutation] * [-1, 1] + [2 * axis, 0]
    np.testing.assert_allclose(mirrored.reshape(-1, 2), flipped, atol=0.6)
    at, everywhere = _brightness_at(crops, 96)
    assert at > 150 and everywhere < 60
    # the subject's right eye (points 36-41) stays on the image's left in both
    assert mirrored.reshape(-1, 2)[36:42, 0].mean() < mirrored.reshape(-1, 2)[42:48, 0].mean()


def test_bad_input_is_named(tmp_path, mean68):
    photos = _dot_photos(tmp_path, mean68, n_photos=1)
    with pytest.raises(ValueError, match="mean_shape has 15 points"):
        photo_training_crops(photos, mean_shape=np.zeros((15, 2)))
    with pytest.raises(ValueError, match="framing_noise"):
        photo_training_crops(photos, mean_shape=mean68, framing_noise=(0.1,))
    with pytest.raises(ValueError, match="n_perturbations"):
        photo_training_crops(photos, mean_shape=mean68, n_perturbations=-1)


def test_model_fitted_from_photos_at_128_runs_end_to_end(tmp_path, mean68):
    photos = _dot_photos(tmp_path, mean68, n_photos=4)
    photos = replace(photos, subset=np.full(photos.n_faces, "lfpw_trainset", dtype=object))  # as 300-W names it
    estimator = photo_cascade(128, photos.layout, cell_sizes=(16, 10), cv=0, uncertainty=False, verbose=0)
    model = fit_from_photos(photos, estimator=estimator, size=128, mean_shape=(mean68 + 0.5) * 128 / 96 - 0.5,
                            n_perturbations=2)
    assert model.image_shape_ == (128, 128) and "4 annotated faces" in model.training_note_
    assert PHOTO_LICENCE_NOTE in model.training_note_  # a model fitted on 300-W says its licence
    detector = KeypointDetector(model, verifier=None)
    assert detector.crop_size == 128
    gray = photos.read_photo(0)
    truth = photos.points[photos.faces_of(0)]
    faces = detector.fit_faces(gray, reframe(truth, model.mean_shape_, size=128) * [1, 1, 1.05])
    points = np.array([face.points for face in faces], dtype=float).reshape(1, -1)
    assert np.abs(points - truth).mean() < 4  # on the dots, whole photo in, photo pixels out


def test_fkp_fit_from_photos(tmp_path, mean68, capsys):
    from fkp_classic import load_model
    from fkp_classic.cli import main

    _dot_photos(tmp_path, mean68, n_photos=4)
    quick = ["--param", "cell_sizes=(8, 5)", "--param", "cv=0", "--param", "uncertainty=False"]
    out = tmp_path / "m68.skops"
    assert main(["fit", "--photos", str(tmp_path / "points.csv"), "--size", "64", "-o", str(out), *quick]) == 0
    model = load_model(out)
    assert model.image_shape_ == (64, 64) and model.layout_.name == "ibug68" and model.flip is False
    assert "4 annotated faces" in capsys.readouterr().out
    # --points 15: iBUG's 68 mapped to Kaggle's 15, the crops framed from them
    out15 = tmp_path / "m15.skops"
    assert main(["fit", "--photos", str(tmp_path / "points.csv"), "--points", "15", "--size", "64", "-o", str(out15),
                 *quick]) == 0
    model15 = load_model(out15)
    assert model15.layout_.name == "kaggle15" and model15.n_features_in_ == 64 * 64
    photos = load_photo_points(tmp_path / "points.csv")
    detector = KeypointDetector(model, verifier=None)
    faces = detector.fit_faces(photos.read_photo(0), reframe(photos.points[:1], model.mean_shape_, size=64))
    assert np.abs(np.asarray(faces[0].points, dtype=float).ravel() - photos.points[0]).mean() < 5


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--size", "64"], "--size is an option of training from annotated photos"),
        (["--seed", "3"], "--seed is an option of training from annotated photos"),
        ([], "give the training data"),
        (["--photos", "nowhere.csv"], "--photos nowhere.csv: no such file or folder"),
        (["--photos", "points.txt"], "expected a folder of photos and .pts files"),
    ],
)
def test_fkp_fit_from_photos_names_mistakes(tmp_path, monkeypatch, capsys, argv, message):
    from fkp_classic.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "points.txt").write_text("x")
    data = [] if "--photos" in argv or not argv else ["training.csv"]
    assert main(["fit", *data, *argv, "-o", "m.skops"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_annotated_photos_in_another_layout(tmp_path, mean68):
    from fkp_classic.datasets import DataError
    from fkp_classic.keypoints import KeypointLayout, ibug68_to_kaggle15

    photos = _dot_photos(tmp_path, mean68, n_photos=2)
    assert photos.in_layout("ibug68") is photos
    kaggle = photos.in_layout("kaggle15")
    assert kaggle.layout.name == "kaggle15" and kaggle.n_faces == photos.n_faces
    np.testing.assert_array_equal(kaggle.points, ibug68_to_kaggle15(photos.points))
    with pytest.raises(DataError, match="annotated with 15 points \\(kaggle15\\), which do not map to ibug68"):
        kaggle.in_layout("ibug68")
    with pytest.raises(DataError, match="do not map to the 3-point layout"):
        photos.in_layout(KeypointLayout(("a", "b", "c")))
