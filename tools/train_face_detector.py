"""Build the packaged HOG face detector and the photo path's face verifier, from video frames and photos.

    python tools/train_face_detector.py --data ../shared/data

Deterministic (seeded); run it after tools/train_default.py (the verifier learns from the packaged
keypoint model's crops). The detector's positives are the faces of frames/ and of the 300-W training
photos in 300w/ (each boxed by its crop square, from its 15 Kaggle keypoints, iBUG's 68 mapped for
300-W; grouped by how far they turn), turned by each of ANGLES (filters for tilted heads), mirrored and
jittered (the jittered copies also turned a little); its negatives are mined over rounds from the rest
of every frame and photo and from scikit-image's face-free samples (also mirrored, turned and halved;
coffee, rocket and chelsea are kept out for the tests). Faces the 300-W annotation leaves out (found by
the packaged photo path at a score of UNANNOTATED_SCORE or more, away from every annotated face) are
ignored: neither faces nor background.
The verifier learns from faces96's crops, well and badly framed, and from the photo path's final crops on
the frames, the photos, collages (frames with 2-5 faces96 crops pasted in, as pictures in pictures) and
the face-free samples, with the detector at a lowered threshold to collect more false alarms. Writes
fkp_classic/models/face_detector.skops and face_verifier.skops (the safe model format).

The 300-W annotations are licensed for research and non-commercial use only: so are the parts trained
on them (fkp_classic/models/MODEL_CARD.md).
"""

import argparse
import copy
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fkp_classic import load_default_model, save_model
from fkp_classic.datasets import face_squares, load_300w, load_backgrounds, load_frames, load_kaggle
from fkp_classic.evaluation import (
    detection_examples, framing_examples, match_faces, multi_face_canvases, turn_components,
)
from fkp_classic.persistence import DEFAULT_FACE_DETECTOR, DEFAULT_VERIFIER, widen_verifier
from fkp_classic.photo import HOGFaceDetector, KeypointDetector, make_face_verifier

MINING_THRESHOLD = -0.5
"""Detector threshold at which false alarms are collected for the verifier."""

ANGLES = (-40, 0, 40)
"""In-plane angles the detector's filters are trained for (three upright filters by how far the face turns, one
for each tilt, as dlib's): with each face's jittered copies turned by up to ANGLE_JITTER degrees (TILTED_JITTER for
the tilted filters), they find heads tilted up to about 50 degrees."""

ANGLE_JITTER = 7.5
"""Degrees the jittered training copies of each face are turned by, at most, for the upright filters."""

TILTED_JITTER = 10.0
"""The same for the tilted filters: they cover 30 to 50 degrees. Jittering the upright filters as widely made them
blur: more misses and false alarms on upright frames (``benchmarks/results/photos_fold0/README.md``)."""

UNANNOTATED_SCORE = 2.0
"""Photo-path score from which a face found in a 300-W photo away from its annotated faces is taken as a face
the annotation left out (ignored in training) rather than a false alarm."""

COLLAGES = 300
"""Collages of frames and faces96 crops added to the training photos (:func:`collages`)."""


def varied(photos):
    """Each face-free photo as it is, mirrored, turned a quarter, and at half size: more kinds of non-face."""
    out = []
    for photo in photos:
        half = Image.fromarray(photo).resize((photo.shape[1] // 2, photo.shape[0] // 2), Image.BILINEAR)
        out += [photo, np.ascontiguousarray(photo[:, ::-1]), np.ascontiguousarray(np.rot90(photo)), np.asarray(half)]
    return out


def wild_photos(path, subsets=None, log=print):
    """The 300-W training photos for the detector and verifier: uint8 gray photos, and per photo its faces'
    crop squares and turn components (from the 68 points mapped to Kaggle's 15), and the faces its annotation
    leaves out (the packaged photo path's faces scoring at least UNANNOTATED_SCORE away from the annotated).
    ``subsets`` (e.g. ``("lfpw_trainset", "helen_trainset")``) keeps only those folders' photos."""
    photos = load_300w(path)
    if subsets is not None:
        photos = photos.take(np.flatnonzero(np.isin(photos.subset, list(subsets))))
    kaggle = photos.in_layout("kaggle15")
    finder = KeypointDetector(min_score=UNANNOTATED_SCORE, max_point_std=None)  # a doubted real face is no negative
    grays, squares, poses, ignored = [], [], [], []
    for i, gray, faces in photos.iter_photos():
        points = kaggle.points[faces]
        boxes = face_squares(points)
        found = finder.detect_gray(gray)
        left_out = np.zeros((0, 4))
        if found:
            found_boxes = np.array([f.box for f in found])
            match = match_faces(found_boxes, finder.face_detector.framing, boxes)
            left_out = found_boxes[np.setdiff1d(np.arange(len(found)), match[match >= 0])]
        grays.append(gray), squares.append(boxes), poses.append(turn_components(points)), ignored.append(left_out)
    log(f"300-W: {len(grays)} photos, {sum(map(len, squares))} faces, {sum(map(len, ignored))} faces left out of "
        f"the annotation (ignored)")
    return grays, squares, poses, ignored


def train(grays, boxes, keypoints, crops, crop_keypoints, model, backgrounds, n_collages=COLLAGES, random_state=0,
          wild=None):
    """The detector and the verifier for the given uint8 gray frames and faces96 crops (shared with
    benchmarks/photos.py): the detector learns from the frames and the ``wild`` photos (:func:`wild_photos`),
    the verifier also from ``n_collages`` :func:`collages` of frames and crops."""
    backgrounds = varied(backgrounds)
    photos, squares = list(grays), list(boxes[:, None])
    poses, ignored = list(turn_components(keypoints)[:, None]), [np.zeros((0, 4))] * len(grays)
    if wild is not None:
        photos, squares, poses, ignored = (a + list(b) for a, b in zip((photos, squares, poses, ignored), wild))
    detector = HOGFaceDetector(angles=ANGLES, tilted_components=1, angle_jitter=ANGLE_JITTER,
                               tilted_jitter=TILTED_JITTER)
    detector.fit(photos, squares, negative_photos=backgrounds, poses=poses, ignored=ignored)
    verifier, n_false = train_verifier(detector, grays, boxes, crops, crop_keypoints, model, backgrounds, n_collages,
                                       random_state, wild)
    return detector, verifier, n_false


def train_verifier(detector, grays, boxes, crops, crop_keypoints, model, backgrounds, n_collages=COLLAGES,
                   random_state=0, wild=None):
    """The face verifier, from faces96's crops well and badly framed, and from the photo path's final crops
    (the detector at a lowered threshold) on the frames, the ``wild`` photos, collages and the face-free
    photos; and how many of those crops are false alarms."""
    images, squares = collages(grays, boxes, crops, crop_keypoints, n_collages, random_state)
    photos = list(grays) + images + list(backgrounds)
    truth = list(boxes[:, None]) + squares + [np.zeros((0, 4))] * len(backgrounds)
    ignored = [np.zeros((0, 4))] * len(photos)
    if wild is not None:
        photos, truth, ignored = photos + list(wild[0]), truth + list(wild[1]), ignored + list(wild[3])
    low = copy.copy(detector).set_params(threshold=MINING_THRESHOLD)  # shares the weights
    found_crops, found_labels = detection_examples(model, low, photos, truth, ignored=ignored)
    framed_crops, framed_labels = framing_examples(crops, random_state=0)
    verifier = make_face_verifier().fit(
        np.concatenate([framed_crops, found_crops]), np.r_[framed_labels, found_labels]
    )
    return verifier, int((found_labels == 0).sum())


def collages(grays, boxes, crops, crop_keypoints, n, random_state=0):
    """Frames enlarged to 640x480 with 2-5 faces96 crops of 40-200 px pasted in (as in collages, pictures in
    pictures and photos of photos): the photos and every face's crop square (the pasted faces' framed from their
    keypoints, then the frame's own; :func:`fkp_classic.evaluation.multi_face_canvases`)."""
    made = multi_face_canvases(grays, boxes, crops, crop_keypoints, n, n_faces=(2, 5), canvas=(640, 480),
                               random_state=random_state)
    return [image for image, _, _ in made], [squares for _, squares, _ in made]


def shrink(verifier, crops):
    """Store the verifier compactly (under 2 MiB): PCA, scaling and support vectors as float16 (trained on the
    photos too, it keeps 3605 support vectors: as float32 they made a 2.5 MB file).

    :func:`fkp_classic.persistence.load_default_verifier` widens them again on loading. Returns the
    largest score change this causes on ``crops``.
    """
    before = verifier.decision_function(crops)
    for step in verifier[1:-1]:
        for name in ("components_", "mean_", "scale_", "explained_variance_"):
            if hasattr(step, name):
                setattr(step, name, getattr(step, name).astype(np.float16))
    verifier[-1].support_vectors_ = verifier[-1].support_vectors_.astype(np.float16)
    after = widen_verifier(copy.deepcopy(verifier)).decision_function(crops)
    return float(np.abs(after - before).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (holding frames/, faces96/ and 300w/)")
    parser.add_argument("--detector-output", default=str(DEFAULT_FACE_DETECTOR))
    parser.add_argument("--verifier-output", default=str(DEFAULT_VERIFIER))
    args = parser.parse_args()
    frames = load_frames(Path(args.data) / "frames")
    crops = load_kaggle(Path(args.data) / "faces96")
    start = time.perf_counter()
    wild = wild_photos(Path(args.data) / "300w")
    detector, verifier, n_false = train(
        frames.images, frames.boxes, frames.keypoints, crops.data, crops.target, load_default_model(), load_backgrounds(),
        wild=wild,
    )
    print(f"trained on {len(frames.images)} frames, {len(wild[0])} 300-W photos and {COLLAGES} collages in "
          f"{time.perf_counter() - start:.0f} s: "
          f"{detector.n_positives_} face windows, {detector.n_negatives_} negative windows, "
          f"{n_false} false alarms for the verifier")
    for entry in detector.mining_log_:
        print("  ", entry)
    print(f"compact verifier storage moves its scores by at most {shrink(verifier, crops.data[:300]):.1e}")
    save_model(detector, args.detector_output)
    save_model(verifier, args.verifier_output)
    print(f"saved to {args.detector_output} and {args.verifier_output}")


if __name__ == "__main__":
    main()
