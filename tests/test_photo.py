"""The photo path: gray conversion, crop geometry, face detectors, the pipeline object and its results."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data
from skimage.transform import rotate
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from conftest import FACES96, needs_faces96
from fkp_classic import HOGFeatures, KeypointRegressor, load_default_model
from fkp_classic.keypoints import KAGGLE_NAMES
from fkp_classic.metrics import nme
from fkp_classic.persistence import POINT_STD_LIMITS
from fkp_classic.photo import (
    CallableFaceDetector,
    Face,
    KeypointDetector,
    LBPFaceDetector,
    as_gray,
    as_gray8,
    box_frames,
    confirmed_boxes,
    crop_frames,
    detect_keypoints,
    frame_boxes,
    held_back,
    make_framing_verifier,
    reframe,
    to_crop,
    to_photo,
)
from fkp_classic.photo._boxes import DROPPED, FRONT
from fkp_classic.photo._verifier import fused_verifier


@pytest.fixture(scope="module")
def astronaut_faces():
    return KeypointDetector().detect(data.astronaut())


def her(faces):
    """The astronaut's own face: the best-scoring of the faces found (the detector also proposes her name
    patch and the shuttle model, which the verifier scores far lower)."""
    return max(faces, key=lambda face: face.score)


@pytest.fixture(scope="module")
def model68(faces96):
    """A quick 68-point HOG ridge fitted on 400 faces96 crops (the iBUG points of training_meta.csv)."""
    if not (FACES96 / "training_meta.csv").is_file():
        pytest.skip("faces96 data not found")
    X = faces96.data[:400]
    meta = pd.read_csv(FACES96 / "training_meta.csv", nrows=400)
    y = meta[[f"p{i}_{a}" for i in range(68) for a in "xy"]].to_numpy(float)
    return KeypointRegressor(pixels_per_cell=(12, 12), layout="ibug68").fit(X, y), X, y


def test_gray_is_scaled_by_dtype_not_values():
    dim = np.zeros((40, 40), np.uint8)
    dim[10, 10] = 1  # a uint8 photo whose brightest pixel is 1 is still 8-bit
    assert as_gray(dim).max() == pytest.approx(1 / 255)
    wide = (np.arange(1600, dtype=np.uint16).reshape(40, 40) * 40).astype(np.uint16)
    np.testing.assert_allclose(as_gray(wide), wide / 65535.0)
    rgb = data.astronaut()
    np.testing.assert_allclose(as_gray(rgb.astype(np.uint16) * 257), as_gray(rgb), atol=1e-12)
    np.testing.assert_allclose(as_gray(rgb.astype(np.int64)), as_gray(rgb))
    gray_alpha = np.dstack([rgb[..., 0], np.full(rgb.shape[:2], 255, np.uint8)])
    np.testing.assert_allclose(as_gray(gray_alpha), rgb[..., 0] / 255.0)
    with pytest.raises(ValueError, match=r"me\.png: float pixels must lie in \[0, 1\], got 0\.\.255"):
        as_gray(rgb.astype(float), "me.png")
    with pytest.raises(ValueError, match="me.png: expected a gray"):
        as_gray(np.zeros((4, 4, 5)), "me.png")


def test_crops_read_only_a_window_and_repeat_the_border():
    rng = np.random.default_rng(0)
    gray = rng.random((70, 90))
    frames = np.array([[-20.4, -10.0, 50.0], [60.0, 40.0, 140.0], [10.0, 10.0, 30.0]])
    crops, rounded = crop_frames(gray, frames)
    pad = 200
    padded = np.pad(gray, pad, mode="edge")
    for crop, (x0, y0, n) in zip(crops, rounded.astype(int)):
        region = padded[y0 + pad : y0 + pad + n, x0 + pad : x0 + pad + n]
        expected = Image.fromarray((region * 255).astype(np.float32)).resize((96, 96), Image.BILINEAR)
        np.testing.assert_array_equal(crop, np.clip(np.round(np.asarray(expected)), 0, 255).astype(np.uint8).ravel())
    # the same regions of the photo as 8-bit gray give the same crops, to rounding
    crops8, _ = crop_frames(np.round(gray * 255).astype(np.uint8), frames)
    assert np.abs(crops8.astype(int) - crops).max() <= 1


def test_a_turned_crop_samples_the_photo_where_to_photo_maps_its_pixels():
    # on a photo whose brightness is linear in x and y, resampling (bilinear, widened when shrinking) changes
    # nothing: each crop pixel must read the brightness at the photo point to_photo gives it
    height, width = 300, 320
    y, x = np.mgrid[:height, :width]
    gray = (10 + 0.25 * x + 0.4 * y) / 255.0
    frames = np.array([[80.0, 70.0, 120.0, 25.0], [100.0, 90.0, 70.0, -35.0], [60.0, 50.0, 150.0, 90.0]])
    crops, rounded = crop_frames(gray, frames)
    v, u = np.mgrid[:96, :96]
    grid = np.c_[u.ravel(), v.ravel()].ravel()[None]
    for crop, frame in zip(crops, rounded):
        px, py = to_photo(grid, frame[None]).reshape(-1, 2).T
        error = crop - (10 + 0.25 * px + 0.4 * py)
        assert np.abs(error).max() <= 0.75 and abs(error.mean()) < 0.02  # rounding to whole levels only, unbiased


def test_coordinate_maps_are_inverse():
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 96, (5, 30))
    frames = np.c_[rng.uniform(-50, 200, (5, 2)), rng.uniform(40, 300, 5)]
    np.testing.assert_allclose(to_crop(to_photo(points, frames), frames), points)
    boxes = np.c_[rng.uniform(0, 100, (5, 2)), np.repeat(rng.uniform(30, 90, 5)[:, None], 2, axis=1)]
    np.testing.assert_allclose(frame_boxes(box_frames(boxes, (1.2, 0.05, -0.03)), (1.2, 0.05, -0.03)), boxes)


def test_reframe_refuses_points_of_another_layout():
    with pytest.raises(ValueError, match="mean shape has 15 keypoints"):
        reframe(np.zeros((2, 136)), np.zeros((15, 2)))


def test_packaged_model_on_astronaut(astronaut_faces):
    face = her(astronaut_faces)
    x, y, w, h = face.box
    assert abs(x + w / 2 - 228) < 20 and abs(y + h / 2 - 120) < 20
    assert all(other.score < face.score - 0.5 for other in astronaut_faces if other is not face)
    k = face.keypoints
    x, y, w, h = face.box
    assert all(x - w / 2 < px < x + 1.5 * w and y - h / 2 < py < y + 1.5 * h for px, py in k.values())
    assert k["left_eye_center"][0] > k["right_eye_center"][0]  # subject's left on the image's right
    assert k["left_eye_center"][1] < k["nose_tip"][1] < k["mouth_center_top_lip"][1] < k["mouth_center_bottom_lip"][1]
    assert k["mouth_left_corner"][0] > k["mouth_right_corner"][0]
    assert face.names == KAGGLE_NAMES and face["keypoints"] == k  # 0.2's dict access still works


def test_face_serialises_to_json_with_its_score_and_error_scales(astronaut_faces):
    face = her(astronaut_faces)
    assert face.score > 0  # the verifier's score, kept
    record = json.loads(json.dumps(face.to_dict()))
    assert list(record) == ["box", "keypoints", "score", "point_std", "expected_nme", "track_id", "angle"]
    assert record["keypoints"]["nose_tip"] == list(face.keypoints["nose_tip"]) and abs(record["angle"]) < 10
    assert record["point_std"]["nose_tip"] == list(face.point_std["nose_tip"]) and record["track_id"] is None
    assert Face.from_dict(record).to_dict() == record
    tracked = Face(face.box, face.points, layout=face.layout, point_std=np.ones((15, 2)), track_id=3).to_dict()
    assert tracked["track_id"] == 3 and tracked["point_std"]["nose_tip"] == [1.0, 1.0]
    eyes = np.linalg.norm(face.points[0] - face.points[1])
    assert tracked["expected_nme"] == pytest.approx(np.sqrt(np.pi / 2) / eyes)  # sqrt(pi/4 * (1 + 1)) / eyes
    plain = Face(face.box, face.points, layout=face.layout).to_dict()
    assert list(plain) == list(record)
    assert plain["point_std"] is plain["expected_nme"] is plain["score"] is plain["angle"] is None
    assert Face.from_dict(plain).to_dict() == plain  # the same keys whatever is unknown


def test_every_per_point_value_is_by_name_with_its_array_beside_it():
    import pickle

    points, std = np.arange(30.0).reshape(15, 2), np.full((15, 2), 2.0)
    std[KAGGLE_NAMES.index("nose_tip")] = (3.0, 4.0)
    face = Face((0, 0, 50, 50), points, layout="kaggle15", point_std=std)
    assert face.point_std["nose_tip"] == (3.0, 4.0) and face.keypoints["nose_tip"] == tuple(points[10])
    assert list(face.point_std) == list(face.keypoints) == list(KAGGLE_NAMES)  # one shape for both
    np.testing.assert_array_equal(face.point_std_array, std)
    assert Face((0, 0, 50, 50), points, layout="kaggle15", point_std=face.point_std).point_std == face.point_std
    # the array uses of before 0.5 say where the array went
    with pytest.raises(KeyError, match=r"point_std is a dict by keypoint name .*face.point_std_array is the \(K, 2\) array"):
        face.point_std[10]
    with pytest.raises(AttributeError, match="face.point_std_array is the"):
        face.point_std.shape
    with pytest.raises(KeyError, match="face.points is the"):
        face.keypoints[0]
    with pytest.raises(ValueError, match="point_std names no value for 1 of the layout's keypoints"):
        Face((0, 0, 50, 50), points, layout="kaggle15", point_std={n: (1, 1) for n in KAGGLE_NAMES[:-1]})
    # a face pickled before 0.5 (point_std's array in its instance dict) loads with point_std by name
    old = Face.__new__(Face)
    old.__dict__.update(box=face.box, points=points, layout=face.layout, score=None, point_std=std, track_id=None,
                        analyses={})
    again = pickle.loads(pickle.dumps(old))
    assert again.point_std["nose_tip"] == (3.0, 4.0) and again.expected_nme == face.expected_nme
    assert type(pickle.loads(pickle.dumps(face.point_std))) is dict


def test_photo_error_scales_are_in_photo_pixels(astronaut_faces):
    face = her(astronaut_faces)
    assert face.point_std_array.shape == (15, 2) and (face.point_std_array > 0).all()
    assert face.point_std["nose_tip"] == tuple(face.point_std_array[KAGGLE_NAMES.index("nose_tip")])
    assert 0.02 < face.expected_nme < 0.15  # a clean frontal face: near the usual 0.05
    photo = data.astronaut()
    twice = np.asarray(Image.fromarray(photo).resize((1024, 1024), Image.BICUBIC))
    bigger = her(detect_keypoints(twice))
    assert 1.6 < np.median(bigger.point_std_array / face.point_std_array) < 2.4  # the same face twice the size
    assert bigger.expected_nme == pytest.approx(face.expected_nme, rel=0.25)  # scale-free


def test_verifier_score_decides_which_faces_stay(astronaut_faces):
    score = her(astronaut_faces).score
    assert KeypointDetector(min_score=score + 1).detect(data.astronaut()) == []
    assert [f.score for f in KeypointDetector(min_score=score - 0.01).detect(data.astronaut())] == [score]
    plain = KeypointDetector(verifier=None).detect(data.astronaut())
    assert len(plain) > len(astronaut_faces) and all(f.score is None for f in plain)
    same = [f for f in plain if np.allclose(f.box, her(astronaut_faces).box)]
    np.testing.assert_allclose(same[0].points, her(astronaut_faces).points)


def test_face_score_is_the_verifier_s_plus_a_share_of_the_detector_s():
    photo = as_gray8(data.astronaut())
    detector = KeypointDetector(min_score=-np.inf, detector_weight=0.5)
    hog = detector.face_detector
    frames, margins = detector.propose(photo)
    boxes, scores, angles = hog.detect(photo, return_scores=True, threshold=hog.threshold - detector.candidate_margin,
                                       return_angles=True)
    np.testing.assert_allclose(frames[:, :3], box_frames(boxes, hog.framing))
    np.testing.assert_allclose(frames[:, 3], angles)  # each crop turned as its face was found
    np.testing.assert_allclose(margins, scores - hog.threshold)  # how far each box clears the threshold
    assert (margins < 0).any() and margins.min() >= -detector.candidate_margin  # candidates below it too
    # the margin is below whatever threshold the detector is given
    strict = KeypointDetector(face_detector=copy.copy(hog).set_params(threshold=1.0), candidate_margin=0.25)
    assert strict.propose(photo)[1].min() >= -0.25 and len(strict.propose(photo)[0]) < len(boxes)
    plain = detector.fit_faces(photo, frames, passes=1)
    scored = detector.fit_faces(photo, frames, passes=1, detector_scores=margins)
    np.testing.assert_allclose([f.score for f in scored], [f.score for f in plain] + 0.5 * margins)
    # what detect gives (without retries): the same faces and scores, duplicates merged, surest first
    found = KeypointDetector(min_score=-np.inf, retry_scale=None).detect(photo)
    assert [f.score for f in found] == [f.score for f in detector.select(scored)]
    assert {round(f.score, 9) for f in found} <= {round(f.score, 9) for f in scored}
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
    assert [f.score for f in KeypointDetector(min_score=-np.inf, retry_scale=None, max_faces=2).detect(photo)] == [
        f.score for f in found[:2]]  # at most two, the surest
    # the verifier's part is the mean of its scores of each face's final crop and of the crop's mirror image,
    # from the fused verifier or the pipeline alike
    upright = reframe(np.stack([f.points.ravel() for f in plain]), detector.mean_shape, turn=True)  # turned upright
    crops, _ = crop_frames(photo, upright)
    mirrored = crops.reshape(-1, 96, 96)[:, :, ::-1].reshape(len(crops), -1)
    both = (detector.verifier.decision_function(crops) + detector.verifier.decision_function(mirrored)) / 2
    np.testing.assert_allclose([f.score for f in plain], both, atol=1e-6)
    np.testing.assert_allclose(detector.verify(photo, [f.points.ravel() for f in plain]), [f.score for f in plain])
    assert KeypointDetector(verifier=None).verify(photo, [f.points.ravel() for f in plain]) is None
    assert all(f.score is None for f in detector.fit_faces(photo, frames, verify=False))
    framing = make_framing_verifier()
    assert fused_verifier(framing) is framing  # another kind of verifier runs as it is


def test_a_doubtful_face_is_fitted_again_from_a_larger_box(faces96):
    """A turned faces96 face (row 2340) pasted at 90 px: started from a box 0.6x its square, the keypoints
    settle on too small a face (IoU < 0.5, a miss); retried from the box enlarged 1.4x they find it."""
    from fkp_classic.datasets import face_squares

    crops = faces96  # the session's, loaded once
    canvas = np.full((300, 300), 110, np.uint8)
    canvas[100:190, 100:190] = Image.fromarray(crops.data[2340].reshape(96, 96).astype(np.uint8)).resize((90, 90))
    truth = face_squares(to_photo(crops.target[2340][None], np.array([[100.0, 100.0, 90.0]])))[0]
    side = 0.6 * truth[2]
    small = np.r_[truth[:2] + (truth[2] - side) / 2, side, side]
    boxed = CallableFaceDetector(lambda gray: [small], framing=(1.0, 0.0, 0.0))

    def iou(face):
        x, y, w, _ = face.box
        inter = max(0, min(x + w, truth[0] + truth[2]) - max(x, truth[0])) * max(
            0, min(y + w, truth[1] + truth[2]) - max(y, truth[1]))
        return inter / (w * w + truth[2] ** 2 - inter)

    plain = KeypointDetector(face_detector=boxed, min_score=-np.inf, retry_scale=None)
    retried = KeypointDetector(face_detector=boxed, min_score=-np.inf)
    first, = plain.detect(canvas)
    better, = retried.detect(canvas)
    assert iou(first) < 0.5 < 0.9 < iou(better)
    assert retried.retry_scores[0] <= first.score < retried.retry_scores[1] < better.score
    # the retry is the fit from the enlarged box, kept because the verifier scores it higher
    enlarged = np.r_[truth[:2] + (truth[2] - 1.4 * side) / 2, 1.4 * side, 1.4 * side]
    again, = plain.from_boxes(canvas, enlarged[None])
    np.testing.assert_allclose(better.points, again.points)
    # a face scored outside retry_scores keeps its first fit
    sure, = KeypointDetector(face_detector=boxed, min_score=-np.inf, retry_scores=(2.0, 3.0)).detect(canvas)
    np.testing.assert_allclose(sure.points, first.points)
    # a pipeline without a verifier has no score to compare: nothing is retried
    unverified, = KeypointDetector(face_detector=boxed, verifier=None).detect(canvas)
    np.testing.assert_allclose(unverified.points, first.points)


class _Windows:
    """A scoring face detector that finds given windows, dropping (or, asked by the photo path, keeping) those
    inside better ones as the HOG detector does."""

    scores_faces = True
    holds_back = True
    framing = (1.0, 0.0, 0.0)
    threshold = 0.25

    def __init__(self, boxes, scores):
        self.boxes, self.scores = np.asarray(boxes, dtype=float), np.asarray(scores, dtype=float)

    def detect(self, gray, *, return_scores=False, threshold=None, return_held=False):
        behind = held_back(self.boxes, self.scores)
        keep = np.flatnonzero(behind != DROPPED if return_held else behind == FRONT)
        behind = np.where(behind[keep] >= 0, np.searchsorted(keep, behind[keep]), FRONT)
        out = (self.boxes[keep],) + ((self.scores[keep],) if return_scores else ()) + ((behind,) if return_held else ())
        return out if len(out) > 1 else out[0]

    def __call__(self, gray):
        return self.detect(gray)


def test_a_face_inside_a_larger_false_window_gets_a_second_look(astronaut_faces):
    """The astronaut's face window lies in the corner of a larger, better-scored window (as a tilted head's can
    in a window of the tilted filter's): the larger one's fit proves no face, and her face is found behind it."""
    photo = data.astronaut()
    face = her(astronaut_faces)
    x, y, w, _ = face.box
    large = [x - 1.6 * w, y - 0.3 * w, 2.8 * w, 2.8 * w]
    windows = _Windows([large, face.box], [2.0, 1.0])
    detector = KeypointDetector(face_detector=windows)
    assert len(detector.propose(as_gray8(photo))[0]) == 1  # the face's window is held back, not proposed
    assert detector.from_boxes(photo, np.array([large])) == []  # the larger window's fit is no face
    found, = detector.detect(photo)
    np.testing.assert_allclose(found.box, face.box, atol=0.02 * w)
    # in a batch with photos whose windows are all rejected, behind and in front alike: the same faces
    blank = np.full((300, 300, 3), 120, np.uint8)
    batch = detector.detect_batch([blank, photo, blank])
    assert [len(faces) for faces in batch] == [0, 1, 0]
    np.testing.assert_allclose(batch[1][0].points, found.points)
    # its score is its own: the verifier's plus a share of its window's
    alone, = KeypointDetector(face_detector=_Windows([face.box], [1.0])).detect(photo)
    assert found.score == pytest.approx(alone.score)
    # a detector that cannot hold windows back drops the face's, as before
    windows.holds_back = False
    assert KeypointDetector(face_detector=windows).detect(photo) == []


def _spread(face):
    """The error the keypoint model expects of a face's points, over its box's side (what ``max_point_std`` limits)."""
    return face.point_std_array.mean() / face.box[2]


def test_faces_the_keypoint_model_doubts_are_dropped_and_what_they_hid_is_looked_at(astronaut_faces):
    photo = data.astronaut()
    every = KeypointDetector(min_score=-np.inf, max_point_std=None).detect(photo)
    limit = 0.02  # her face's points are expected 0.015 of its side off; most of the suit's patterns', more
    doubted = [f for f in every if _spread(f) > limit]
    assert len(doubted) >= 5 and _spread(her(astronaut_faces)) < limit
    kept = KeypointDetector(min_score=-np.inf, max_point_std=limit).detect(photo)
    assert kept and all(_spread(f) <= limit for f in kept)
    assert not any(np.allclose(f.box, d.box) for f in kept for d in doubted)
    np.testing.assert_allclose(kept[0].points, her(astronaut_faces).points)
    # a doubted window is no face, as one scored below min_score is: the windows it held back get their look
    face = her(astronaut_faces)
    x, y, w, _ = face.box
    large = [x - 1.6 * w, y - 0.3 * w, 2.8 * w, 2.8 * w]
    windows = _Windows([large, face.box], [2.0, 1.0])
    trusting = KeypointDetector(face_detector=windows, min_score=-np.inf, max_point_std=None)
    assert _spread(trusting.from_boxes(photo, [large])[0]) > limit
    trusting = trusting.detect(photo)
    assert len(trusting) == 1 and not np.allclose(trusting[0].box, face.box, atol=0.02 * w)
    found, = KeypointDetector(face_detector=windows, min_score=-np.inf, max_point_std=limit).detect(photo)
    np.testing.assert_allclose(found.box, face.box, atol=0.02 * w)


def test_the_packaged_models_bring_their_own_point_std_limit(model68):
    assert KeypointDetector().max_point_std == POINT_STD_LIMITS["kaggle15"]
    packaged68 = load_default_model(layout="ibug68")
    assert packaged68.point_std_limit_ == POINT_STD_LIMITS["ibug68"] > POINT_STD_LIMITS["kaggle15"]
    assert KeypointDetector(packaged68).max_point_std == POINT_STD_LIMITS["ibug68"]
    # a model of one's own sets none unless told; a number given wins over the model's own
    model = model68[0]
    assert not hasattr(model, "point_std_limit_") and KeypointDetector(model).max_point_std is None
    assert KeypointDetector(packaged68, max_point_std=0.05).max_point_std == 0.05
    assert KeypointDetector(max_point_std=None).max_point_std is None
    # measured for the HOG detector's faces, judged by the verifier: not for other detectors', nor unverified faces
    assert KeypointDetector(face_detector="lbp").max_point_std is None
    assert KeypointDetector(verifier=None).max_point_std is None
    assert KeypointDetector(face_detector="lbp", max_point_std=0.03).max_point_std == 0.03
    with pytest.raises(ValueError, match="'max_point_std' parameter of KeypointDetector must be a float in the range"):
        KeypointDetector(max_point_std=0)


@pytest.mark.parametrize("params, message", [
    ({"candidate_margin": np.nan}, "'candidate_margin' parameter of KeypointDetector must be a float in the range"),
    ({"candidate_margin": -0.5}, "'candidate_margin' parameter of KeypointDetector must be a float in the range"),
    ({"candidate_margin": "low"}, "'candidate_margin' parameter of KeypointDetector must be a float in the range"),
    ({"retry_scale": 1}, "'retry_scale' parameter of KeypointDetector must be a float in the range \\(0.0, 1.0\\)"),
    ({"retry_scale": -1.4}, "'retry_scale' parameter of KeypointDetector must be a float"),
    ({"retry_scores": (1.0, -0.5)}, "retry_scores must be \\(lowest, highest\\), lowest first"),
    ({"retry_scores": 0.5}, "'retry_scores' parameter of KeypointDetector must be an instance of 'a tuple of 2"),
    ({"framing_stages": 1.5}, "'framing_stages' parameter of KeypointDetector must be an int in the range"),
    ({"model": "mine"}, "'model' parameter of KeypointDetector must be a str among {'default'} or an object implementing"),
])
def test_candidate_and_retry_parameters_are_checked(params, message):
    with pytest.raises(ValueError, match=message):
        KeypointDetector(**params)


def test_a_face_found_twice_is_one_face_boxed_by_its_points():
    photo = data.astronaut()
    x, y, w, _ = her(KeypointDetector(min_score=-np.inf).detect(photo)).box
    twice = CallableFaceDetector(lambda gray: [(x, y, w, w), (x + 0.06 * w, y - 0.05 * w, 1.05 * w, 1.05 * w)],
                                 framing=(1.0, 0.0, 0.0))
    faces = KeypointDetector(face_detector=twice, min_score=-np.inf).detect(photo)
    assert len(faces) == 1
    # the box is the square the final keypoints frame, not either detection
    x0, y0, side, _ = KeypointDetector().face_frames(faces[0].points.reshape(1, -1))[0]
    np.testing.assert_allclose(faces[0].box, [x0, y0, side, side])  # an upright face: the axis-aligned square


def test_the_framing_pass_runs_the_first_stages_only():
    photo = as_gray8(data.astronaut())
    detector = KeypointDetector(min_score=-np.inf, framing_stages=3)
    frames = [detector.propose(photo)[0]]
    # by hand: three stages frame the face, every stage predicts in the new crop
    crops, rounded = crop_frames(photo, frames[0])
    framed = to_photo(detector.model.staged_predict(crops, n_stages=3)[-1], rounded)
    crops, rounded = crop_frames(photo, detector.face_frames(framed))
    expected = to_photo(detector.model.predict(crops), rounded)
    faces = detector.fit_faces(photo, frames[0], passes=1)
    np.testing.assert_allclose([f.points.ravel() for f in faces], expected)
    # None runs every stage on every pass; the last pass always runs every stage
    every = KeypointDetector(min_score=-np.inf, framing_stages=None).fit_faces(photo, frames[0], passes=1)
    assert not np.allclose([f.points.ravel() for f in every], expected)
    assert her(faces).score > 1 and her(every).score > 1  # her face either way
    one_pass = KeypointDetector(min_score=-np.inf, framing_stages=1, reframe_passes=0)
    crops, rounded = crop_frames(photo, frames[0])
    np.testing.assert_allclose([f.points.ravel() for f in one_pass.fit_faces(photo, frames[0])],
                               to_photo(detector.model.predict(crops), rounded))


def test_packaged_parts_are_loaded_once():
    assert KeypointDetector().model is KeypointDetector().model
    assert KeypointDetector().verifier is KeypointDetector().verifier


def test_batch_equals_one_by_one(astronaut_faces):
    photos = [data.astronaut(), data.camera(), data.astronaut()[:, ::-1]]
    batch = KeypointDetector().detect_batch(photos)
    single = [KeypointDetector().detect(p) for p in photos]
    assert [len(b) for b in batch] == [len(s) for s in single]
    for b, s in zip(batch, single):
        for fb, fs in zip(b, s):
            np.testing.assert_allclose(fb.points, fs.points, atol=1e-9)
    np.testing.assert_allclose(her(batch[0]).points, her(astronaut_faces).points)


def test_batch_with_a_faceless_photo_equals_one_by_one_with_the_part_refiner():
    kd = KeypointDetector(load_default_model(layout="ibug68"))  # the packaged part refiner refits its faces
    assert kd.refiner is not None
    photos = [data.astronaut(), np.full((200, 300), 128, np.uint8), data.astronaut()[:, ::-1]]
    batch = kd.detect_batch(photos)
    single = [kd.detect(p) for p in photos]
    assert [len(b) for b in batch] == [len(s) for s in single] and not batch[1] and batch[0]
    for b, s in zip(batch, single):
        for fb, fs in zip(b, s):
            np.testing.assert_allclose(fb.points, fs.points, atol=1e-9)
            assert fb.score == pytest.approx(fs.score, abs=1e-9)


def test_a_plain_callable_plugs_in_as_detector(astronaut_faces):
    lbp_box = LBPFaceDetector()(as_gray8(data.astronaut()) / 255.0)  # the 8-bit gray the photo path works on
    # the same box, framed with the LBP detector's framing, gives the same face as the LBP detector
    framed = CallableFaceDetector(lambda gray: lbp_box, framing=LBPFaceDetector.framing)
    faces = KeypointDetector(face_detector=framed).detect(data.astronaut())
    lbp_faces = KeypointDetector(face_detector="lbp").detect(data.astronaut())
    np.testing.assert_allclose(faces[0].points, lbp_faces[0].points)
    # a bare function gets dlib's framing and still finds the face's points near the same places
    faces = detect_keypoints(data.astronaut(), face_detector=lambda gray: lbp_box)
    assert np.abs(faces[0].points - her(astronaut_faces).points).max() < 5
    with pytest.raises(ValueError, match="'face_detector' parameter of KeypointDetector must be a str among"):
        KeypointDetector(face_detector="haar")


def test_refine_from_given_points_stays_on_the_face(astronaut_faces):
    face = her(astronaut_faces)
    start = face.points + np.array([4.0, -3.0])  # the face moved a little since these points
    refined = KeypointDetector().refine(data.astronaut(), start.reshape(1, -1), passes=2)
    assert len(refined) == 1 and refined[0].score > 0
    assert np.abs(refined[0].points - face.points).max() < 2.0


def test_detect_faces_mirror_check_keeps_confirmed_boxes_averaged():
    boxes = np.array([[100.0, 50, 80, 80], [10, 10, 40, 40]])
    mirrored = np.array([[104.0, 54, 76, 76], [300, 300, 40, 40]])
    np.testing.assert_allclose(confirmed_boxes(boxes, mirrored), [[102, 52, 78, 78]])
    assert confirmed_boxes(boxes, np.zeros((0, 4))).shape == (0, 4)


@needs_faces96
def test_a_68_point_model_gives_68_named_points(model68):
    model, _, _ = model68
    assert model.layout_.names[:2] == ("p0", "p1") and model.mean_shape_.shape == (68, 2)
    faces = KeypointDetector(model, face_detector="lbp", verifier=None).detect(data.astronaut())
    assert len(faces) == 1 and len(faces[0].keypoints) == 68
    k = faces[0].keypoints
    assert k["p8"][1] > k["p57"][1] > k["p30"][1]  # chin below the lower lip below the nose tip


@needs_faces96
def test_a_model_without_layout_predicting_other_points_is_refused(model68):
    _, X, y = model68
    plain = make_pipeline(HOGFeatures(pixels_per_cell=(12, 12)), Ridge()).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="predicts 68 keypoints but its layout, assumed .* has 15"):
        KeypointDetector(plain, verifier=None).detect(data.astronaut())


@pytest.fixture(scope="module")
def frames_sample():
    frames = FACES96.parent / "frames"
    if not (frames / "frames.csv").is_file():
        pytest.skip(f"frames not found at {frames}")
    from fkp_classic.datasets import load_frames

    return load_frames(frames, limit=300)


def _crops_of(frames, rows, size):
    """Crops of ``size`` pixels framed from the true points as the photo path frames them, and their points."""
    from fkp_classic.photo import KAGGLE_MEAN_SHAPE

    mean = (KAGGLE_MEAN_SHAPE + 0.5) * (size / 96) - 0.5
    X, y = [], []
    for i in rows:
        square = reframe(frames.keypoints[i][None], mean, size=size)
        crop, rounded = crop_frames(frames.images[i], square, size=size)
        X.append(crop[0])
        y.append(to_crop(frames.keypoints[i][None], rounded, size=size)[0])
    return np.array(X), np.array(y)


def test_a_model_fitted_on_128_pixel_crops_runs_end_to_end(frames_sample):
    from fkp_classic.metrics import nme
    from fkp_classic.video import FaceTracker

    people = np.unique(frames_sample.groups)
    train = np.flatnonzero(np.isin(frames_sample.groups, people[: len(people) * 3 // 4]))
    test = np.setdiff1d(np.arange(len(frames_sample.groups)), train)[:12]
    model = KeypointRegressor(layout="kaggle15").fit(*_crops_of(frames_sample, train, 128))
    detector = KeypointDetector(model)
    assert (detector.crop_size, detector.verifier_size) == (128, 96)  # the verifier keeps its own size
    errors = []
    for i in test:
        best = max(detector.detect(frames_sample.images[i]), key=lambda f: f.score)
        errors.append(nme(frames_sample.keypoints[i][None], best.points.reshape(1, -1), layout="kaggle15")[0])
    # on the face, in photo pixels (a 96-pixel HOG ridge fitted alike scores a median 0.136 on these photos:
    # it learnt from crops framed by the true points, not by a detector's boxes)
    assert np.median(errors) < 0.16 and np.max(errors) < 0.3
    tracker = FaceTracker(model, min_score=0.3)  # the tracker crops at the model's size too
    photo = frames_sample.images[test[0]]
    tracks = [faces for _, _, faces in tracker.track([photo, np.roll(photo, 2, axis=1), np.roll(photo, 4, axis=1)])]
    assert [len(faces) for faces in tracks] == [1, 1, 1] and tracker.n_detections == 1


def test_a_model_for_oblong_images_is_refused():
    from fkp_classic.datasets import make_faces

    X, y = make_faces(40, random_state=0, return_X_y=True)
    oblong = X.reshape(-1, 96, 96)[:, :, ::2].reshape(40, -1)
    with pytest.raises(ValueError, match="fitted on 96x48 images; the photo path cuts square crops"):
        KeypointDetector(KeypointRegressor(layout="kaggle15", image_shape=(96, 48)).fit(oblong, y))


def test_old_detect_module_still_works(astronaut_faces):
    from fkp_classic import detect

    boxes = detect.detect_faces(data.astronaut())
    crops, frames = detect.crop_faces(data.astronaut(), boxes)
    assert crops.shape == (1, 9216) and frames.shape == (1, 3)
    assert len(detect.detect_keypoints(data.astronaut(), load_default_model())) == 1


def test_a_photo_without_faces_gives_no_faces_through_every_pass():
    detector = KeypointDetector(face_detector=lambda gray: [], verifier=None, reframe_passes=2)
    assert detector.detect(data.astronaut()) == []
    assert detector.detect_batch([data.astronaut(), data.camera()]) == [[], []]


class _EyeDistance:
    """A per-face analyser for the tests: each face's distance between its layout's eyes, and the photo's shape."""

    name = "eye_distance"

    def __init__(self):
        self.calls = 0

    def analyse(self, photo, faces):
        self.calls += 1
        out = []
        for face in faces:
            left, right = (face.points[list(side)].mean(axis=0) for side in face.layout.eye_indices())
            out.append({"pixels": np.float64(np.linalg.norm(left - right)), "photo": np.array(np.shape(photo)[:2])})
        return out


def test_a_per_face_analyser_plugs_into_the_photo_path_and_the_tracker(astronaut_faces):
    from fkp_classic.video import FaceTracker

    analyser = _EyeDistance()
    detector = KeypointDetector(analysers=[analyser])
    faces = detector.detect(data.astronaut())
    assert analyser.calls == 1 and len(faces) == len(astronaut_faces)  # one call for all the photo's faces
    face = her(faces)
    left, right = face.keypoints["left_eye_center"], face.keypoints["right_eye_center"]
    assert face.eye_distance["pixels"] == pytest.approx(np.hypot(left[0] - right[0], left[1] - right[1]))
    record = json.loads(json.dumps(face.to_dict()))  # JSON-ready: numpy values became numbers and lists
    assert record["eye_distance"] == {"pixels": face.eye_distance["pixels"], "photo": [512, 512]}
    again = Face.from_dict(record)
    assert again.analyses == record_analyses(record) and again.layout == face.layout
    # the tracker runs them on the faces it gives out, every frame
    tracker = FaceTracker(min_score=1.75, analysers=[_EyeDistance()])
    tracked = [faces for _, _, faces in tracker.track([data.astronaut()] * 2)]
    assert all("eye_distance" in f.analyses for faces in tracked for f in faces) and tracker.analysers[0].calls == 2
    # what is not an analyser, or would overwrite a face's own field, is refused by name
    with pytest.raises(TypeError, match="is not an analyser"):
        KeypointDetector(analysers=[object()])
    taken = _EyeDistance()
    taken.name = "score"
    with pytest.raises(ValueError, match="the name 'score' is taken"):
        KeypointDetector(analysers=[taken])
    with pytest.raises(ValueError, match="two analysers are named 'eye_distance'"):
        KeypointDetector(analysers=[_EyeDistance(), _EyeDistance()])


def record_analyses(record):
    return {k: v for k, v in record.items()
            if k not in ("box", "keypoints", "score", "point_std", "expected_nme", "track_id", "angle")}


def test_face_fields_after_the_points_are_keyword_only_and_its_repr_is_short(astronaut_faces):
    face = her(astronaut_faces)
    with pytest.raises(TypeError):
        Face(face.box, face.points, face.layout)  # the layout by keyword
    by_names = Face(face.box, face.points, layout=KAGGLE_NAMES)
    assert by_names.layout == face.layout and by_names.names == KAGGLE_NAMES
    assert repr(face).startswith("Face(box=(") and "15 points (kaggle15)" in repr(face) and len(repr(face)) < 150
    with pytest.raises(ValueError, match="15 points but the layout has 68 names"):
        Face(face.box, face.points, layout="ibug68")
    with pytest.raises(AttributeError, match="no attribute 'pose'"):
        face.pose


def test_the_photo_path_asks_the_model_what_it_can_do(astronaut_faces):
    from fkp_classic.estimators import RETURN_STD, STAGED_PREDICT, keypoint_capabilities

    packaged = load_default_model()
    assert keypoint_capabilities(packaged) == {RETURN_STD, STAGED_PREDICT}

    class Plain:  # a user's model: predict only, nothing declared
        def __init__(self, model):
            self.model, self.calls = model, 0

        def predict(self, X):
            self.calls += 1
            return self.model.predict(X)

    plain = Plain(packaged)
    assert keypoint_capabilities(plain) == frozenset()
    faces = KeypointDetector(plain, framing_stages=None).detect(data.astronaut())
    assert plain.calls > 0 and all(f.point_std is None for f in faces)  # no std asked of a model that declares none
    np.testing.assert_allclose(her(faces).points, her(KeypointDetector(framing_stages=None).detect(data.astronaut())).points)


def _turned(photo, degrees, centre):
    """The photo turned counterclockwise about ``centre`` (skimage's rotate), as uint8, and the map of its points."""
    turned = np.round(rotate(photo / 255.0, degrees, center=centre, mode="edge") * 255).astype(np.uint8)
    theta = np.deg2rad(degrees)

    def move(points):
        d = np.asarray(points, dtype=float).reshape(-1, 2) - centre
        return centre + np.c_[d[:, 0] * np.cos(theta) + d[:, 1] * np.sin(theta),
                              d[:, 1] * np.cos(theta) - d[:, 0] * np.sin(theta)]
    return turned, move


def test_a_face_turned_40_degrees_is_found_upright_in_its_crop_and_says_its_angle(frames_sample):
    detector = KeypointDetector()
    errors, turns = [], []
    rows = [0, 100, 200, 299]  # four people
    for image, truth in zip([frames_sample.images[i] for i in rows], frames_sample.keypoints[rows]):
        photo = np.pad(image, 80, mode="edge")  # room to turn the face in
        truth = truth.reshape(-1, 2) + 80
        centre = truth.mean(axis=0)
        turned, move = _turned(photo, 40, centre)
        faces = {}
        for name, picture, true in (("upright", photo, truth), ("turned", turned, move(truth))):
            found = detector.detect(picture)
            best = min(found, key=lambda f: np.abs(f.points.mean(axis=0) - true.mean(axis=0)).max())
            assert np.abs(best.points.mean(axis=0) - true.mean(axis=0)).max() < 10  # this face, found
            faces[name] = (best, nme(true.reshape(1, -1), best.points.reshape(1, -1), layout="kaggle15")[0])
        errors.append((faces["upright"][1], faces["turned"][1]))
        turns.append(faces["turned"][0].angle - faces["upright"][0].angle)
    upright, turned = np.array(errors).T
    assert turned.mean() <= 1.2 * upright.mean() + 0.005, (upright, turned)  # within the upright error
    np.testing.assert_allclose(turns, 40, atol=3)  # Face.angle follows the turn


def test_the_astronaut_gives_one_face_hers_at_the_default_settings(astronaut_faces):
    # her suit's patches and the shuttle scored 0.31-0.49 on their crops alone; their mirror images do not look
    # like faces, so the mean of the two falls below min_score
    assert len(astronaut_faces) == 1 and np.abs(np.array(astronaut_faces[0].box[:2]) - (168, 57)).max() < 15
    faces = detect_keypoints(data.astronaut(), model=load_default_model(layout="ibug68"))
    assert len(faces) == 1 and np.abs(np.array(faces[0].box[:2]) - (168, 57)).max() < 15
