"""The HOG face detector: dense HOG, window scoring, suppression, training, and the packaged detector."""

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
from skimage import data, io
from skimage.transform import rotate

from conftest import FACES96
from fkp_classic.cli import main
from fkp_classic.datasets import DataError, HELD_OUT_BACKGROUNDS, face_squares, load_frames
from fkp_classic.evaluation import match_faces, multi_face_canvas, multi_face_canvases, turn_components
from fkp_classic.features import hog_batch, hog_map
from fkp_classic.metrics import nme
from fkp_classic.persistence import DEFAULT_FACE_DETECTOR, ModelVersionError, load_model
from fkp_classic.photo import (
    HOGFaceDetector,
    KeypointDetector,
    LBPFaceDetector,
    as_face_detector,
    CallableFaceDetector,
    as_gray,
    as_gray8,
    box_overlaps,
    detect_keypoints,
    held_back,
    non_max_suppression,
)
from fkp_classic.photo._boxes import DROPPED, FRONT
from fkp_classic.photo._hog_face_detector import _correlate, _gather_windows

FRAMES = Path(os.environ.get("FKP_FRAMES", FACES96.parent / "frames"))
needs_frames = pytest.mark.skipif(not (FRAMES / "frames.csv").is_file(), reason=f"frames not found at {FRAMES}")


@pytest.fixture(scope="module")
def hog():
    return as_face_detector("hog")


@pytest.fixture(scope="module")
def frames():
    if not (FRAMES / "frames.csv").is_file():
        pytest.skip(f"frames not found at {FRAMES}")
    return load_frames(FRAMES, limit=40)


def test_dense_hog_windows_are_the_windows_own_hog():
    image = np.random.default_rng(0).integers(0, 256, (72, 64)).astype(np.uint8)
    blocks = hog_map(image, pixels_per_cell=(4, 4))
    np.testing.assert_allclose(blocks.ravel(), hog_batch(image[None], pixels_per_cell=(4, 4))[0], rtol=1e-5, atol=1e-6)
    # A window with one cell of margin around it gives the map's blocks at its place.
    r, c, n = 3, 5, 9
    window = image[4 * r - 4 : 4 * (r + n + 1) + 4, 4 * c - 4 : 4 * (c + n + 1) + 4]
    np.testing.assert_allclose(hog_map(window, pixels_per_cell=(4, 4))[1 : 1 + n, 1 : 1 + n], blocks[r : r + n, c : c + n],
                               rtol=1e-5, atol=1e-6)


def test_every_window_is_scored_as_its_filter_product():
    rng = np.random.default_rng(1)
    blocks, coef = rng.normal(size=(14, 12, 5)), rng.normal(size=(3, 4, 4, 5))
    scores = _correlate(blocks, coef)
    assert scores.shape == (3, 11, 9)
    for r, c in [(0, 0), (10, 8), (4, 7)]:
        np.testing.assert_allclose(scores[:, r, c], np.einsum("ijd,kijd->k", blocks[r : r + 4, c : c + 4], coef))
    # the second stage's descriptors: each window's blocks in the filters' order, the last row and column too
    r, c = np.array([0, 10, 4, 10]), np.array([0, 8, 7, 0])
    windows = _gather_windows(blocks, r, c, 4)
    np.testing.assert_array_equal(windows, [blocks[i : i + 4, j : j + 4].ravel() for i, j in zip(r, c)])
    np.testing.assert_allclose(windows @ coef.reshape(3, -1).T, scores[:, r, c].T)


def test_suppression_keeps_the_best_of_each_face_and_drops_parts_inside():
    boxes = np.array([[10, 10, 50, 50], [14, 12, 50, 50], [100, 10, 50, 50], [20, 20, 15, 15]], float)
    kept = non_max_suppression(boxes, np.array([1.0, 2.0, 0.5, 0.9]))
    assert list(kept) == [1, 2]  # the shifted twin and the small box inside go
    iou, cover = box_overlaps(boxes[:1], boxes)
    assert iou[0, 0] == pytest.approx(1) and iou[0, 2] == 0 and cover[0, 3] == pytest.approx(1)


def test_windows_inside_better_ones_are_held_back_behind_them():
    # a large window; a face-sized one in its corner and a shifted twin of that; a small one inside both; one
    # beside; one half inside the large one
    boxes = np.array([[0, 0, 100, 100], [60, 60, 35, 35], [62, 61, 35, 35], [65, 65, 10, 10], [150, 0, 40, 40],
                      [80, 10, 40, 40]], float)
    scores = np.array([2.0, 1.0, 0.9, 1.5, 0.5, 0.8])
    # suppression keeps the large window, the one beside and the half-inside one; of those inside the large
    # one, the best of the twins and the small one are held back behind it, the lesser twin repeats the better
    behind = held_back(boxes, scores)
    assert list(behind) == [FRONT, 0, DROPPED, 0, FRONT, FRONT]
    assert list(non_max_suppression(boxes, scores)) == [0, 5, 4]  # the kept ones, best first
    assert list(held_back(boxes, scores, cover=1.0)) == [FRONT, FRONT, DROPPED, FRONT, FRONT, FRONT]
    # once the face's window scores best, the large window around it is held behind it (the rule takes the
    # smaller window's share), and its twin repeats it
    assert list(held_back(boxes[:3], np.array([0.5, 1.0, 0.9]))) == [1, FRONT, DROPPED]
    assert held_back(np.zeros((0, 4)), np.zeros(0)).shape == (0,)


def test_the_detector_holds_back_the_windows_inside_better_ones_on_request(hog):
    gray = as_gray8(data.astronaut())
    boxes, scores, angles = hog.detect(gray, return_scores=True, threshold=-0.25, return_angles=True)
    every, every_scores, every_angles, behind = hog.detect(gray, return_scores=True, threshold=-0.25,
                                                           return_angles=True, return_held=True)
    front = behind == FRONT
    assert (~front).any() and (behind < len(every)).all()  # windows held back, each behind a found one
    np.testing.assert_allclose(every[front], boxes)  # the faces found are those found without
    np.testing.assert_allclose(every_scores[front], scores)
    np.testing.assert_allclose(every_angles[front], angles)
    assert (behind[~front] >= 0).all() and front[behind[~front]].all()
    assert (every_scores[~front] <= every_scores[behind[~front]]).all()  # behind a better one
    assert (box_overlaps(every[~front], every[behind[~front]])[1].diagonal() > hog.cover).all()  # inside it
    assert list(every_scores) == sorted(every_scores, reverse=True)  # best scored first, as ever
    # the photo turned by every quarter: each turn's windows held behind that turn's own
    anyway = copy.copy(hog).set_params(rotations="all")
    every, _, every_angles, behind = anyway.detect(gray, return_scores=True, threshold=-0.25, return_angles=True,
                                                   return_held=True)
    turn = np.round(every_angles / 90) % 4
    assert (turn[behind >= 0] == turn[behind[behind >= 0]]).all() and len(np.unique(turn)) > 1
    with pytest.raises(ValueError, match="'cover' parameter of HOGFaceDetector must be a float in the range"):
        copy.copy(hog).set_params(cover=1.5).detect(gray)


def test_packaged_detector_finds_the_astronaut_as_a_crop_square(hog):
    boxes, scores = hog.detect(as_gray(data.astronaut()), return_scores=True)
    assert (scores >= hog.threshold).all() and list(scores) == sorted(scores, reverse=True)  # best scored first
    centre = boxes[:, :2] + boxes[:, 2:] / 2
    face = (np.abs(centre - (228, 120)).max(axis=1) < 20) & (np.abs(boxes[:, 2] - 100) < 25)
    assert face.sum() == 1  # her face, once, boxed as the square of its 96x96 crop
    assert boxes[face, 2] == pytest.approx(boxes[face, 3], rel=0.02) and hog.framing == (1.0, 0.0, 0.0)
    # a lower threshold for one call (the photo path's candidates) adds boxes and leaves the detector as it was
    more, low = hog.detect(as_gray(data.astronaut()), return_scores=True, threshold=-0.25)
    assert len(more) > len(boxes) and low.min() >= -0.25 and (low < hog.threshold).any() and hog.threshold == 0.25
    for bad in (np.nan, "low", True):
        with pytest.raises(ValueError, match="threshold must be a finite number"):
            hog.detect(as_gray(data.astronaut()), threshold=bad)


@pytest.mark.parametrize("name", HELD_OUT_BACKGROUNDS)
def test_no_face_in_face_free_photos_never_trained_on(name):
    photo = getattr(data, name)()
    assert detect_keypoints(photo) == []
    # nothing close: the best candidate of the photo path scores far below its threshold
    assert max(f.score for f in KeypointDetector(min_score=-np.inf).detect(photo)) < -0.5


def test_boxes_do_not_depend_on_how_the_photo_is_stored(hog):
    rgb = data.astronaut()[:320, 80:400]
    gray8 = np.round(as_gray(rgb) * 255).astype(np.uint8)
    reference = hog(as_gray(rgb))
    for photo in (rgb, gray8, gray8 / 255.0, gray8.astype(np.uint16) * 257, rgb.astype(np.float32) / 255):
        np.testing.assert_allclose(hog.detect(photo), reference, atol=1e-6)


def test_every_pasted_face_is_found_whatever_the_largest(faces96):
    rng = np.random.default_rng(5)
    background = np.round(as_gray(data.coffee()) * 255).astype(np.uint8)
    sizes = [180, 110, 70, 45]
    faces = faces96.data[rng.choice(len(faces96.data), len(sizes), replace=False)]
    canvas, squares, _ = multi_face_canvas(background, faces, sizes, rng, canvas=(900, 600))
    found = detect_keypoints(canvas)
    match = match_faces(np.array([f.box for f in found]), (1.0, 0.0, 0.0), squares)
    assert (match >= 0).all(), f"missed pasted faces of sizes {np.array(sizes)[match < 0]}"
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)  # surest first


def test_packaged_detector_file_is_version_checked(tmp_path):
    detector = load_model(DEFAULT_FACE_DETECTOR)
    assert isinstance(detector, HOGFaceDetector) and detector.coef_.shape[0] == len(detector.filter_angles_)
    stale = tmp_path / "old.joblib"
    import joblib

    joblib.dump({"format": "fkp_classic-model", "fkp_classic_version": "0.1.0", "model": detector}, stale)
    with pytest.raises(ModelVersionError, match="0.1.0"):
        load_model(stale, trusted=True)  # a pickle: read only when trusted


def test_scanning_settings_change_and_learnt_ones_are_refused():
    assert as_face_detector("hog", min_size=80).min_size == 80
    assert as_face_detector("hog").min_size == 40  # the packaged one is never changed
    with pytest.raises(ValueError, match="fixed by its training"):
        as_face_detector("hog", window=32)
    with pytest.raises(ValueError, match="min_size"):
        as_face_detector("hog", min_size=2)
    with pytest.raises(ValueError, match="lbp"):
        as_face_detector("lbp", threshold=1)


def test_photo_path_defaults_to_the_hog_detector_and_keeps_lbp_by_name():
    assert isinstance(KeypointDetector().face_detector, HOGFaceDetector)
    assert isinstance(KeypointDetector(face_detector="lbp").face_detector, LBPFaceDetector)
    faces = detect_keypoints(data.astronaut(), detector=lambda gray: [(180, 70, 110, 110)])
    assert len(faces) == 1
    with pytest.raises(ValueError, match="not both"):
        detect_keypoints(data.astronaut(), face_detector="lbp", detector=lambda gray: [])


def test_fkp_detect_uses_the_hog_detector(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    io.imsave(photo, data.astronaut())
    assert main(["detect", str(photo), "--json", str(tmp_path / "hog.json")]) == 0
    assert main(["detect", str(photo), "--json", str(tmp_path / "lbp.json"), "--face-detector", "lbp"]) == 0
    hog_face = json.loads((tmp_path / "hog.json").read_text())[0]["faces"][0]
    expected = KeypointDetector().detect(data.astronaut())[0]
    np.testing.assert_allclose(hog_face["box"], expected.box, atol=1e-6)
    lbp_face = json.loads((tmp_path / "lbp.json").read_text())[0]["faces"][0]
    assert not np.allclose(hog_face["box"], lbp_face["box"])
    assert main(["detect", str(photo), "--min-size", "3"]) == 2
    assert "--min-size must be at least 8" in capsys.readouterr().err


@needs_frames
def test_fit_learns_faces_from_a_few_frames(frames):
    detector = HOGFaceDetector(window=24, cell=4, n_components=1, mining_rounds=1, n_jitter=0, threshold=0.0)
    assert detector.fit(frames.images[:30], frames.boxes[:30, None]) is detector
    assert detector.coef_.shape == (1, 5, 5, 36) and len(detector.mining_log_) == 2
    assert detector.n_positives_ == 60  # each face and its mirror
    found = sum((match_faces(detector(image / 255.0), detector.framing, box[None]) >= 0).all()
                for image, box in zip(frames.images[:30], frames.boxes[:30]))
    assert found >= 24  # its own training faces, at IoU >= 0.5
    # The root filter only screens: the faces found and their scores are those of all the windows scored
    assert detector.root_coef_.shape == (1, 5, 5, 36) and np.isfinite(detector.root_margin_).all()
    screened = [detector.detect(image, return_scores=True) for image in frames.images[:10]]
    unscreened = copy.copy(detector)
    del unscreened.root_coef_
    for (boxes, scores), image in zip(screened, frames.images[:10]):
        every_boxes, every_scores = unscreened.detect(image, return_scores=True)
        np.testing.assert_allclose(boxes, every_boxes)
        np.testing.assert_allclose(scores, every_scores, atol=1e-5)


@needs_frames
def test_filters_trained_for_turned_faces_find_them_and_say_their_angle(frames):
    detector = HOGFaceDetector(window=24, cell=4, n_components=1, angles=(-30, 0, 30), mining_rounds=1, n_jitter=0,
                               threshold=0.0)
    detector.fit(frames.images[:30], frames.boxes[:30, None])
    assert detector.coef_.shape == (3, 5, 5, 36) and list(detector.filter_angles_) == [-30, 0, 30]
    assert detector.root_coef_.shape == (3, 5, 5, 36) and detector.n_positives_ == 180  # 30 faces, 3 turns, mirrored
    hits = []
    for image, (x, y, w, _) in zip(frames.images[:30], frames.boxes[:30]):
        centre = (x + w / 2 - 0.5, y + w / 2 - 0.5)
        turned = np.round(rotate(image / 255.0, 30, center=centre, mode="edge") * 255).astype(np.uint8)
        boxes, scores, angles = detector.detect(turned, return_scores=True, return_angles=True)
        match = match_faces(boxes, detector.framing, np.array([[x, y, w, w]]))[0]
        hits.append(angles[match] if match >= 0 else np.nan)
    hits = np.array(hits)
    assert np.isfinite(hits).mean() >= 0.8 and (hits[np.isfinite(hits)] == 30).mean() >= 0.8  # found, turned by 30
    with pytest.raises(ValueError, match="symmetric about 0"):
        HOGFaceDetector(angles=(0, 30)).fit(frames.images[:2], frames.boxes[:2, None])


@needs_frames
def test_each_jitter_turns_only_its_own_filters_training_faces(frames):
    # mining off: the negatives are the same random windows, so each filter depends on its own positives only
    settings = dict(window=24, cell=4, n_components=1, angles=(-30, 0, 30), mining_rounds=0, n_jitter=2)
    images, boxes = frames.images[:30], frames.boxes[:30, None]
    tilted_only = HOGFaceDetector(**settings, angle_jitter=0.0, tilted_jitter=15.0).fit(images, boxes)
    everywhere = HOGFaceDetector(**settings, angle_jitter=15.0).fit(images, boxes)  # tilted_jitter None: the same
    narrow = HOGFaceDetector(**settings, angle_jitter=0.0, tilted_jitter=1.0).fit(images, boxes)
    upright, tilted = [1], [0, 2]  # filter_angles_ -30, 0, 30
    np.testing.assert_allclose(tilted_only.coef_[tilted], everywhere.coef_[tilted], atol=1e-5)
    np.testing.assert_allclose(tilted_only.coef_[upright], narrow.coef_[upright], atol=1e-5)
    assert np.abs(tilted_only.coef_[upright] - everywhere.coef_[upright]).max() > 1e-3
    assert np.abs(tilted_only.coef_[tilted] - narrow.coef_[tilted]).max() > 1e-3


def test_any_angle_search_finds_a_face_upside_down_and_sideways(hog):
    photo = as_gray8(data.astronaut())
    height, width = photo.shape
    anywhere = copy.copy(hog).set_params(rotations="all")
    x, y = 228, 120  # her face's centre, upright
    # np.rot90 turns the photo counterclockwise: her face is then turned by 90 and 180 degrees
    for k, expected, (cx, cy) in ((1, 90, (y, width - 1 - x)), (2, 180, (width - 1 - x, height - 1 - y))):
        turned = np.ascontiguousarray(np.rot90(photo, k))
        boxes, angles = anywhere.detect(turned, return_angles=True)
        centres = boxes[:, :2] + boxes[:, 2:] / 2 - 0.5
        hers = (np.abs(centres - (cx, cy)).max(axis=1) < 20) & (np.abs(boxes[:, 2] - 100) < 25)
        assert hers.sum() == 1 and abs((angles[hers][0] - expected + 180) % 360 - 180) < 1e-9
        upright_boxes = hog.detect(turned)  # the upright search misses her
        upright_centres = upright_boxes[:, :2] + upright_boxes[:, 2:] / 2 - 0.5
        assert not (np.abs(upright_centres - (cx, cy)).max(axis=1, initial=np.inf) < 20).any()


@needs_frames
def test_fit_checks_its_input(frames):
    detector = HOGFaceDetector(window=24, cell=4, n_components=3, mining_rounds=0)
    with pytest.raises(ValueError, match="2 photos but 1 box"):
        detector.fit(frames.images[:2], frames.boxes[:1, None])
    with pytest.raises(ValueError, match="poses must lie in 0..2"):
        detector.fit(frames.images[:2], frames.boxes[:2, None], poses=[[0], [3]])
    with pytest.raises(ValueError, match="multiple of cell"):
        HOGFaceDetector(window=26, cell=4).fit(frames.images[:2], frames.boxes[:2, None])
    with pytest.raises(ValueError, match="boxes of photo 1"):
        detector.fit(frames.images[:2], [frames.boxes[0], np.ones((2, 3))])


@needs_frames
def test_frames_load_with_their_crop_squares(frames, tmp_path):
    assert len(frames.images) == 40 and frames.images[0].dtype == np.uint8 and frames.keypoints.shape == (40, 30)
    np.testing.assert_allclose(frames.boxes, face_squares(frames.keypoints))
    assert (frames.boxes[:, 2] > 20).all()
    bad = tmp_path / "frames.csv"
    bad.write_text("file,person\nx.jpg,someone\n")
    with pytest.raises(DataError, match="missing columns"):
        load_frames(tmp_path)
    header = (FRAMES / "frames.csv").read_text().splitlines()[0]
    row = "missing.jpg,someone," + ",".join(["10"] * (len(header.split(",")) - 2))
    bad.write_text(header + "\n" + row + "\n")
    with pytest.raises(DataError, match="row 2: cannot read missing.jpg"):
        load_frames(bad)


@needs_frames
def test_turn_components_mirror_into_each_other(frames):
    components = turn_components(frames.keypoints)
    mirrored = frames.keypoints.copy().reshape(-1, 15, 2)
    mirrored[..., 0] = 500 - mirrored[..., 0]
    assert set(components) == {0, 1, 2}
    np.testing.assert_array_equal(turn_components(mirrored.reshape(-1, 30)), 2 - components)


def test_faces_match_their_detection_once_and_nme_scales_with_the_eyes():
    truth = np.array([[0, 0, 100, 100], [300, 0, 100, 100]], float)
    boxes = np.array([[5, 5, 100, 100], [8, 0, 100, 100], [600, 0, 50, 50]], float)
    np.testing.assert_array_equal(match_faces(boxes, (1.0, 0.0, 0.0), truth), [1, -1])
    small = np.array([[60.0, 40, 30, 40]])
    eyes = (0, 1)
    assert nme(small, small + 3, eyes=eyes)[0] == pytest.approx(nme(small * 2, small * 2 + 6, eyes=eyes)[0])
    with pytest.raises(ValueError, match="coincide"):
        nme(np.zeros((1, 4)), np.zeros((1, 4)), eyes=eyes)


@needs_frames
def test_multi_face_canvases_box_every_face(faces96):
    """The canvases of the photo benchmark and the verifier's training collages: each pasted face's square frames
    its keypoints, in the photo; the photo's own face last."""
    frames = load_frames(FRAMES, limit=4)
    made = multi_face_canvases(frames.images, frames.boxes, faces96.data[:40], faces96.target[:40], 3, n_faces=(2, 5),
                               canvas=(640, 480), random_state=1)
    assert len(made) == 3
    for image, boxes, n_pasted in made:
        assert image.shape == (480, 640) and image.dtype == np.uint8
        assert 2 <= n_pasted <= 5 and len(boxes) == n_pasted + 1  # the pasted faces and the frame's own
        assert (boxes[:-1, 2] == boxes[:-1, 3]).all() and (boxes[:-1, 2] > 30).all()  # pasted faces: squares
        iou, _ = box_overlaps(boxes, boxes)
        assert (iou[~np.eye(len(boxes), dtype=bool)] < 0.3).all()  # the faces do not overlap
        # the frame's own face last, stretched with its frame to the canvas
        assert any(np.allclose(boxes[-1], box * np.tile([640 / im.shape[1], 480 / im.shape[0]], 2))
                   for box, im in zip(frames.boxes, frames.images))
    again = multi_face_canvases(frames.images, frames.boxes, faces96.data[:40], faces96.target[:40], 3,
                                n_faces=(2, 5), canvas=(640, 480), random_state=1)
    assert all((a[0] == b[0]).all() for a, b in zip(made, again))  # seeded


@needs_frames
def test_detection_examples_are_mined_at_the_detector_s_own_threshold(frames, hog):
    """The verifier's false alarms come from the detector at the threshold its trainer lowered it to, not from the
    photo path's candidate margin below it, and all of them, those the keypoint model doubts too."""
    from fkp_classic import load_default_model
    from fkp_classic.evaluation import detection_examples

    model = load_default_model()
    photos, squares = frames.images[:30], frames.boxes[:30]
    low = copy.copy(hog).set_params(threshold=-0.5)
    crops, labels = detection_examples(model, low, photos, squares)
    at_default, _ = detection_examples(model, hog, photos, squares)
    pipeline = KeypointDetector(model, face_detector=low, verifier=None, candidate_margin=0, max_point_std=None)
    assert len(crops) == sum(len(pipeline.detect(photo)) for photo in photos) > len(at_default)
    # every candidate, the ones the keypoint model doubts too (the photo path drops those)
    doubting = KeypointDetector(model, face_detector=low, verifier=None, candidate_margin=0,
                                max_point_std=model.point_std_limit_)
    assert sum(len(doubting.detect(photo)) for photo in photos) < len(crops)
    assert labels.sum() <= len(photos) and (labels == 0).any()


@needs_frames
def test_the_detector_scans_the_same_8_bit_gray_as_the_photo_path(hog):
    # One conversion to 8-bit gray: given an RGB photo, the detector scores what the photo path gives it.
    # (Two used to disagree by one level on a few pixels, moving this photo's score by 0.015.)
    rgb = io.imread(FRAMES / "images" / "test__Agbani_Darego_21.jpg")
    boxes, scores = hog.detect(rgb, return_scores=True)
    same_boxes, same_scores = hog.detect(as_gray8(rgb), return_scores=True)
    assert len(boxes) and np.array_equal(boxes, same_boxes) and np.array_equal(scores, same_scores)


def test_fused_verifier_gives_the_pipelines_scores_from_public_attributes(synthetic):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from fkp_classic.features import HOGFeatures
    from fkp_classic.persistence import load_default_verifier
    from fkp_classic.photo._verifier import fused_verifier

    crops = synthetic.data[:60]
    packaged = load_default_verifier()  # its PCA stored in float16: gamma is matched to the SVC's own scores
    np.testing.assert_allclose(fused_verifier(packaged).decision_function(crops), packaged.decision_function(crops),
                               rtol=1e-8, atol=1e-8)
    labels = np.arange(60) % 2
    for whiten, gamma in ((False, "scale"), (True, "scale"), (False, "auto"), (False, 0.01)):
        verifier = make_pipeline(HOGFeatures(), StandardScaler(), PCA(5, whiten=whiten, random_state=0),
                                 SVC(gamma=gamma)).fit(crops, labels)
        fused = fused_verifier(verifier)
        assert fused is not verifier
        np.testing.assert_allclose(fused.decision_function(crops), verifier.decision_function(crops),
                                   rtol=1e-8, atol=1e-8)


def test_detector_parameters_are_declared_and_positional_options_still_work_with_a_warning(hog):
    for make, name in ((lambda: LBPFaceDetector(min_size=0), "min_size"),
                       (lambda: LBPFaceDetector(min_relative_size=2.0), "min_relative_size"),
                       (lambda: CallableFaceDetector(len, framing=(1.0, 0.0)), "framing"),
                       (lambda: CallableFaceDetector("boxes"), "function")):
        with pytest.raises(ValueError, match=f"The '{name}' parameter of (LBP|Callable)FaceDetector must be"):
            make()
    with pytest.raises(TypeError, match="The 'detector' parameter of as_face_detector"):
        as_face_detector(3)
    with pytest.warns(FutureWarning, match="pass min_size=60 as keyword arguments: LBPFaceDetector takes 0"):
        assert LBPFaceDetector(60).min_size == 60
    with pytest.warns(FutureWarning, match="pass window=24, cell=4 as keyword arguments: HOGFaceDetector"):
        assert HOGFaceDetector(24, 4).get_params()["cell"] == 4
    photo = as_gray8(data.astronaut())
    with pytest.warns(FutureWarning, match="pass return_scores=True as keyword arguments"):
        boxes, scores = hog.detect(photo, True)
    np.testing.assert_array_equal(scores, hog.detect(photo, return_scores=True)[1])
