"""Build the packaged HOG face detector and the photo path's face verifier, from the dev people's frames.

    python tools/train_face_detector.py --data ../shared/data

Deterministic (seeded); run it after tools/train_default.py (the verifier learns from the packaged
keypoint model's crops). The detector's positives are the faces of frames/ (each boxed by its crop
square, from its 15 annotated keypoints; grouped by how far they turn), mirrored and jittered; its
negatives are mined over rounds from the rest of every frame and from scikit-image's face-free samples
(also mirrored, turned and halved; coffee, rocket and chelsea are kept out for the tests). The
verifier learns from faces96's crops, well and badly framed, and from the photo path's final crops on
the frames, on collages (frames with 2-5 faces96 crops pasted in, as pictures in pictures) and on the
face-free samples, with the detector at a lowered threshold to collect more false alarms. Writes
fkp_classic/models/face_detector.skops and face_verifier.skops (the safe model format).
"""

import argparse
import copy
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fkp_classic import load_default_model, save_model
from fkp_classic.datasets import load_backgrounds, load_frames, load_kaggle
from fkp_classic.evaluation import detection_examples, framing_examples, multi_face_canvases, turn_components
from fkp_classic.persistence import DEFAULT_FACE_DETECTOR, DEFAULT_VERIFIER, widen_verifier
from fkp_classic.photo import HOGFaceDetector, make_face_verifier

MINING_THRESHOLD = -0.5
"""Detector threshold at which false alarms are collected for the verifier."""

COLLAGES = 300
"""Collages of frames and faces96 crops added to the training photos (:func:`collages`)."""


def varied(photos):
    """Each face-free photo as it is, mirrored, turned a quarter, and at half size: more kinds of non-face."""
    out = []
    for photo in photos:
        half = Image.fromarray(photo).resize((photo.shape[1] // 2, photo.shape[0] // 2), Image.BILINEAR)
        out += [photo, np.ascontiguousarray(photo[:, ::-1]), np.ascontiguousarray(np.rot90(photo)), np.asarray(half)]
    return out


def train(grays, boxes, keypoints, crops, crop_keypoints, model, backgrounds, n_collages=COLLAGES, random_state=0):
    """The detector and the verifier for the given uint8 gray frames and faces96 crops (shared with
    benchmarks/photos.py): the detector learns from the frames, the verifier also from ``n_collages``
    :func:`collages` of frames and crops."""
    backgrounds = varied(backgrounds)
    detector = HOGFaceDetector().fit(grays, boxes[:, None], negative_photos=backgrounds,
                                     poses=turn_components(keypoints)[:, None])
    verifier, n_false = train_verifier(detector, grays, boxes, crops, crop_keypoints, model, backgrounds, n_collages,
                                       random_state)
    return detector, verifier, n_false


def train_verifier(detector, grays, boxes, crops, crop_keypoints, model, backgrounds, n_collages=COLLAGES,
                   random_state=0):
    """The face verifier, from faces96's crops well and badly framed, and from the photo path's final crops
    (the detector at a lowered threshold) on the frames, on collages and on the face-free photos; and how many
    of those crops are false alarms."""
    images, squares = collages(grays, boxes, crops, crop_keypoints, n_collages, random_state)
    photos = list(grays) + images + list(backgrounds)
    truth = list(boxes[:, None]) + squares + [np.zeros((0, 4))] * len(backgrounds)
    low = copy.copy(detector).set_params(threshold=MINING_THRESHOLD)  # shares the weights
    found_crops, found_labels = detection_examples(model, low, photos, truth)
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
    """Store the verifier compactly (under 2 MiB): PCA and scaling as float16, support vectors as float32.

    :func:`fkp_classic.persistence.load_default_verifier` widens them again on loading. Returns the
    largest score change this causes on ``crops``.
    """
    before = verifier.decision_function(crops)
    for step in verifier[1:-1]:
        for name in ("components_", "mean_", "scale_", "explained_variance_"):
            if hasattr(step, name):
                setattr(step, name, getattr(step, name).astype(np.float16))
    verifier[-1].support_vectors_ = verifier[-1].support_vectors_.astype(np.float32)
    after = widen_verifier(copy.deepcopy(verifier)).decision_function(crops)
    return float(np.abs(after - before).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (holding frames/ and faces96/)")
    parser.add_argument("--detector-output", default=str(DEFAULT_FACE_DETECTOR))
    parser.add_argument("--verifier-output", default=str(DEFAULT_VERIFIER))
    args = parser.parse_args()
    frames = load_frames(Path(args.data) / "frames")
    crops = load_kaggle(Path(args.data) / "faces96")
    start = time.perf_counter()
    detector, verifier, n_false = train(
        frames.images, frames.boxes, frames.keypoints, crops.data, crops.target, load_default_model(), load_backgrounds()
    )
    print(f"trained on {len(frames.images)} frames and {COLLAGES} collages in {time.perf_counter() - start:.0f} s: "
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
