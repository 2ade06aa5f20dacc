"""The photo benchmark: faces and keypoints found in full video frames, on people no model has seen.

    python benchmarks/photos.py --data ../shared/data [--folds 3] [--canvases 20] [--publish]
                                [--keep-parts DIR | --from-parts DIR]

The 3561 frames of ../shared/data/frames (one annotated face each) are split by person
(GroupKFold). For each fold, the HOG face detector is trained on the other people's frames, and the
keypoint model (CascadeRegressor) and framing verifier on the other people's faces96 crops; then every
pipeline runs on the fold's frames:

- ``detect_keypoints`` (HOG detector, keypoints, face verifier): the library's default, trained per fold
  as tools/train_face_detector.py trains the packaged parts;
- the 0.3 default: LBP cascade, mirror check and framing verifier;
- when dlib is installed (pip install -e ".[peers]"): dlib's HOG detector feeding our keypoint model,
  and dlib's HOG detector with dlib's own 68-point model (face-recognition-models), mapped to the 15
  Kaggle points and offset-corrected on the training people.

A face is found when a detection's crop square overlaps the true one with IoU >= 0.5; other detections
are false alarms. NME is the mean error of the 15 points over the true eye-centre distance; a failure is
a missed face or NME > 0.10. Times are seconds per frame in this process, the photos given as RGB
and the pipelines taking turns on each frame. Ours runs as a user runs it, and is also scored at other
face-score thresholds (min_score: the faces of a run that keeps them all); its false alarms at the default
are drawn in photos_false_alarms.jpg (each with a margin of context), so that anyone can see which are not
faces and which are faces the frames leave unannotated.
A multi-face check pastes 3-6 held-out faces96 faces (40-200 px) into enlarged frames: every one
must be found (its true square framed from its keypoints, as the frames' faces are); the same canvases
are scored again turned by 30 degrees.

Tilted heads: every ROTATION_EVERY-th test frame, padded by its own edge and turned about its face by
each of ROTATIONS degrees, goes through ours (the default upright search, and ``rotations="all"`` for
ANY_ANGLE_ROTATIONS too) and dlib's detector: faces found and NME, with times per frame of each search.

Photos in the wild: the detector and verifier of each fold also learn from the 300-W training photos of
LFPW and HELEN (300w/; tools/train_face_detector.py's wild_photos), never from AFW's 185 whole photos
(337 faces, several people per photo, only some annotated), which every fold's pipeline is then run on:
annotated faces found, NME of the 15 points mapped from iBUG's 68, and detections matching no annotated
face per photo, ours (at the default face-score threshold and at higher ones) and dlib's detector's, each
drawn in photos_wild_unannotated_*.jpg (ours with its score) so that anyone can see which are faces the
annotation left out.

Writes photos.json and photos.md to a run folder (benchmarks/runs/<time>/, or benchmarks/results/ with
--publish).
"""

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from skimage.transform import rotate
from sklearn.model_selection import GroupKFold
from sklearn.utils import Bunch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from fkp_classic import CascadeRegressor  # noqa: E402
from fkp_classic.datasets import face_squares, load_300w, load_backgrounds, load_frames, load_kaggle  # noqa: E402
from fkp_classic.evaluation import framing_examples, match_faces, multi_face_canvases  # noqa: E402
from fkp_classic.keypoints import ibug68_to_kaggle15  # noqa: E402
from fkp_classic.metrics import nme  # noqa: E402
from fkp_classic.persistence import POINT_STD_LIMITS, load_model, save_model  # noqa: E402
from fkp_classic.photo import (  # noqa: E402
    DLIB_FRAMING, CallableFaceDetector, KeypointDetector, LBPFaceDetector, as_gray, make_framing_verifier,
)
from fkp_classic.utils import atomic_write  # noqa: E402
from train_face_detector import train as train_photo_parts, wild_photos  # noqa: E402
from peers import dlib_status  # noqa: E402
from report import add_output_arguments, output_folder  # noqa: E402

FAILURE_NME = 0.10
OURS = "detect_keypoints (HOG detector + face verifier, ours)"
ROTATION_OURS = "ours (default search)"
ROTATION_ANY = 'ours, rotations="all"'
WILD_OURS = "detect_keypoints (ours)"
CANVAS_OURS = "detect_keypoints (ours)"
SWEEP = "ours, every face kept (scored at other thresholds)"
MIN_SCORES = (-0.25, 0.0, 0.25, 0.3, 0.35, 0.5, 0.75, 1.0)
DEFAULT_MIN_SCORE = KeypointDetector(verifier=None).min_score
"""Face-score thresholds our pipeline is scored at. The default (KeypointDetector's min_score) is the main row,
run as a user runs it; the others keep the faces of one run at ``min_score=-inf`` scoring at least the
threshold (that run gives no face a second look: :class:`KeypointDetector` looks behind a face only when it
scores below ``min_score``)."""
AFW_MIN_SCORES = (DEFAULT_MIN_SCORE, 0.5, 0.75, 1.0)
"""Face-score thresholds the photos in the wild are scored at (each a run of the pipeline as a user runs it)."""
THUMB = 96
"""Side of each false alarm's thumbnail in photos_false_alarms.jpg."""
ROTATIONS = (0, 15, 25, 35, 45)
"""In-plane turns (degrees) of the hidden frames in the tilted-heads rows."""
ANY_ANGLE_ROTATIONS = (90, 180)
"""Turns scored with ``rotations="all"`` only (the default search does not look there)."""
ROTATION_EVERY = 6
"""Every this many-th test frame is turned."""
CANVAS_TURN = 30
"""Degrees the multi-face canvases are turned by for their second check."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (frames/ and faces96/)")
    parser.add_argument("--folds", type=int, default=3, help="GroupKFold folds over people (default 3)")
    parser.add_argument("--canvases", type=int, default=20, help="multi-face canvases per fold (default 20)")
    parser.add_argument("--limit-folds", type=int, default=None, help="run only the first N folds (quick look)")
    parser.add_argument("--people", type=int, default=None, help="use only the first N people (quick look)")
    parser.add_argument("--wild-photos", type=int, default=None,
                        help="train on only the first N 300-W photos and score only the first N AFW faces (quick look)")
    parser.add_argument("--keep-parts", default=None, metavar="DIR",
                        help="also save each fold's keypoint model, detector and verifier in DIR (for a closer look)")
    parser.add_argument("--from-parts", default=None, metavar="DIR",
                        help="score each fold with the parts a --keep-parts run saved in DIR instead of training them "
                             "(the training is seeded: the same parts, an hour sooner)")
    add_output_arguments(parser)
    args = parser.parse_args()
    out = output_folder(args)
    data = Path(args.data)
    frames = load_frames(data / "frames", gray=False)
    if args.people:
        keep = np.flatnonzero(np.isin(frames.groups, sorted(set(frames.groups))[: args.people]))
        frames = Bunch(**{k: (v[keep] if isinstance(v, np.ndarray) else [v[i] for i in keep])
                          for k, v in frames.items()})
    grays = [np.round(as_gray(im) * 255).astype(np.uint8) for im in frames.images]
    crops = load_kaggle(data / "faces96")
    backgrounds = load_backgrounds()
    wild = None if args.from_parts else wild_photos(data / "300w", subsets=("lfpw_trainset", "helen_trainset"))
    every_photo = load_300w(data / "300w")
    afw = every_photo.take(np.flatnonzero(every_photo.subset == "afw"))
    if args.wild_photos:
        wild = None if wild is None else tuple(part[: args.wild_photos] for part in wild)
        afw = afw.take(np.arange(min(args.wild_photos, afw.n_faces)))
    use_dlib, why = dlib_status()
    peers = _dlib_parts() if use_dlib else None
    if not use_dlib:
        print(f"dlib rows skipped: {why}")
    folds = list(GroupKFold(args.folds).split(grays, groups=frames.groups))[: args.limit_folds]
    rows, canvas_rows, false_alarms = {}, {}, []
    rotation_rows, wild_rows, wild_sheets = {}, {}, {}
    for k, (train, test) in enumerate(folds):
        train_people = set(frames.groups[train])
        crop_train = np.flatnonzero(np.isin(crops.groups, list(train_people)))
        if set(frames.groups[test]) & set(crops.groups[crop_train]):
            raise RuntimeError("a test person is in the keypoint model's training set")
        if args.from_parts:
            model, detector, verifier = (load_model(Path(args.from_parts) / f"fold{k}_{name}.skops")
                                         for name in ("model", "detector", "verifier"))
            print(f"fold {k}: keypoint model, detector and verifier read from {args.from_parts}; {len(test)} test "
                  f"frames of {len(set(frames.groups[test]))} people", flush=True)
        else:
            model = CascadeRegressor(random_state=0, layout=crops.layout).fit(crops.data[crop_train],
                                                                              crops.target[crop_train])
            start = time.perf_counter()
            detector, verifier, n_false = train_photo_parts(
                [grays[i] for i in train], frames.boxes[train], frames.keypoints[train], crops.data[crop_train],
                crops.target[crop_train], model, backgrounds, random_state=k, wild=wild,
            )
            print(f"fold {k}: detector and verifier trained in {time.perf_counter() - start:.0f} s on {len(train)} "
                  f"frames ({n_false} false alarms for the verifier); {len(test)} test frames of "
                  f"{len(set(frames.groups[test]))} people", flush=True)
        model.point_std_limit_ = POINT_STD_LIMITS["kaggle15"]  # the packaged model's: the photo path as users run it
        if args.keep_parts and not args.from_parts:
            kept = Path(args.keep_parts)
            kept.mkdir(parents=True, exist_ok=True)
            for part, name in ((model, "model"), (detector, "detector"), (verifier, "verifier")):
                save_model(part, kept / f"fold{k}_{name}.skops")
        framing_verifier = make_framing_verifier().fit(*framing_examples(crops.data[crop_train], random_state=0))
        ours_default = KeypointDetector(model, face_detector=detector, verifier=verifier)
        ours = KeypointDetector(model, face_detector=detector, verifier=verifier, min_score=-np.inf)  # thresholds applied below
        pipelines = {
            OURS: (ours_default, detector.framing),
            SWEEP: (ours, detector.framing),
            "LBP cascade + mirror check + framing verifier (0.3 default)": (
                KeypointDetector(model, face_detector=LBPFaceDetector(), verifier=framing_verifier), LBPFaceDetector.framing),
        }
        if peers is not None:
            dlib_boxes = CallableFaceDetector(peers["boxes"], framing=DLIB_FRAMING)
            pipelines["dlib HOG boxes -> our crop + keypoint model"] = (
                KeypointDetector(model, face_detector=dlib_boxes, verifier=None), DLIB_FRAMING)
            offset = _dlib_offset(peers, [grays[i] for i in train], frames.keypoints[train], frames.boxes[train])
            pipelines["dlib HOG detector + dlib 68-point model"] = (_DlibPipeline(peers, offset), DLIB_FRAMING)
        test_photos = [frames.images[i] for i in test]
        results = _score_all(pipelines, test_photos, frames.keypoints[test], frames.boxes[test], false_alarms)
        for name, result in results.items():
            rows.setdefault(name, []).append(result)
            print(f"  {name}: {_summary(result)}", flush=True)
        canvases = _canvases(grays, frames.boxes, test, set(frames.groups[test]), crops, args.canvases, seed=k)
        found = {}
        for image, _, _ in canvases:  # ours as a user runs it, and once with every face kept, thresholds applied
            image = image / 255.0
            for label, kept in _variants(OURS, ours_default.detect(image)) + _variants(SWEEP, ours.detect(image)):
                found.setdefault(label, []).append([f.box for f in kept])
        canvas_boxes = {label.replace(OURS, CANVAS_OURS): (boxes, detector.framing) for label, boxes in found.items()}
        if peers is not None:
            canvas_boxes["dlib HOG detector"] = ([peers["boxes"](image / 255.0) for image, _, _ in canvases],
                                                 DLIB_FRAMING)
        turned = _turned_canvases(canvases, CANVAS_TURN)
        canvas_boxes[f"{CANVAS_OURS}, canvases turned {CANVAS_TURN} degrees"] = (
            [[f.box for f in ours_default.detect(image)] for image, _, _ in turned], detector.framing, turned)
        if peers is not None:
            canvas_boxes[f"dlib HOG detector, canvases turned {CANVAS_TURN} degrees"] = (
                [peers["boxes"](image / 255.0) for image, _, _ in turned], DLIB_FRAMING, turned)
        for name, (boxes, framing, *scored_on) in canvas_boxes.items():
            result = _score_canvases(boxes, framing, scored_on[0] if scored_on else canvases)
            canvas_rows.setdefault(name, []).append(result)
            print(f"  multi-face, {name}: {result['found']}/{result['faces']} faces, "
                  f"{result['complete']}/{result['canvases']} canvases complete", flush=True)
        every = test[::ROTATION_EVERY]
        for name, result in _score_rotations(model, detector, verifier, peers, [frames.images[i] for i in every],
                                             frames.keypoints[every]).items():
            rotation_rows.setdefault(name, []).append(result)
            print(f"  tilted heads, {name}: {_rotation_summary(result)}", flush=True)
        for name, (result, sheet) in _score_wild(model, detector, verifier, peers if k == 0 else None, afw).items():
            wild_rows.setdefault(name, []).append(result)
            if sheet is not None:
                wild_sheets.setdefault(name, []).extend(sheet)
            print(f"  AFW, {name}: {_wild_summary(result)}", flush=True)
    report = _report(rows, canvas_rows, len(folds), len(grays)) + _rotation_report(rotation_rows) + _wild_report(
        wild_rows, afw)
    print(report)
    with atomic_write(out / "photos.md", "w") as fh:
        fh.write(report)
    payload = {"rows": {k: _pooled(v) for k, v in rows.items()},
               "multi_face": {k: _pooled_canvases(v) for k, v in canvas_rows.items()},
               "tilted_heads": {k: _pooled_rotations(v) for k, v in rotation_rows.items()},
               "afw": {k: _pooled_wild(v) for k, v in wild_rows.items()},
               "folds": len(folds), "frames": len(grays), "dlib": use_dlib,
               "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with atomic_write(out / "photos.json", "w") as fh:
        json.dump(payload, fh, indent=1)
    with atomic_write(out / "photos_false_alarms.jpg", "wb") as fh:
        _contact_sheet(false_alarms).save(fh, format="JPEG", quality=85)
    for name, thumbnails in wild_sheets.items():
        with atomic_write(out / f"photos_wild_unannotated_{_slug(name)}.jpg", "wb") as fh:
            _contact_sheet(thumbnails).save(fh, format="JPEG", quality=85)
    print(f"wrote {out / 'photos.md'}, {out / 'photos.json'} and {out / 'photos_false_alarms.jpg'}")


def _score_all(pipelines, photos, keypoints, squares, false_alarms=None):
    """Recall, false alarms, NME and time of every pipeline on photos with one known face each.

    The pipelines take turns on each photo, so that the machine's load weighs on all alike. Ours runs
    as a user runs it, and once more keeping every face with its score, scored at each other threshold
    of ``MIN_SCORES``; a thumbnail of each of its false alarms at the default is appended to ``false_alarms``.
    """
    tallies = {}
    for photo, truth, square in zip(photos, keypoints, squares):
        for name, (pipeline, framing) in pipelines.items():
            start = time.perf_counter()
            faces = pipeline.detect(photo)
            seconds = time.perf_counter() - start
            for label, kept in _variants(name, faces):
                tally = tallies.setdefault(label, {"frames": 0, "found": 0, "false_alarms": 0, "nme_sum": 0.0,
                                                   "failures": 0, "seconds": 0.0})
                boxes = np.array([f.box for f in kept]).reshape(-1, 4)
                match = match_faces(boxes, framing, square[None])[0]
                tally["frames"] += 1
                tally["seconds"] += seconds
                tally["false_alarms"] += len(kept) - int(match >= 0)
                if label == OURS and false_alarms is not None:
                    false_alarms += [_thumbnail(photo, f.box) for i, f in enumerate(kept) if i != match]
                if match >= 0:
                    error = nme(truth[None], kept[match].points.reshape(1, -1), layout=kept[match].layout)[0]
                    tally["found"] += 1
                    tally["nme_sum"] += float(error)
                    tally["failures"] += int(error > FAILURE_NME)
                else:
                    tally["failures"] += 1
    return tallies


def _thumbnail(photo, box, margin=0.3, caption=None):
    """The box and ``margin`` of its side around it, ``THUMB`` pixels square (RGB), with a ``caption`` (e.g. the
    face's score) written in its corner."""
    x, y, w, h = box
    pad = margin * w
    image = Image.fromarray(np.asarray(photo)).convert("RGB")
    box = tuple(int(round(v)) for v in (x - pad, y - pad, x + w + pad, y + h + pad))
    thumb = image.crop(box).resize((THUMB, THUMB), Image.BILINEAR)  # black beyond the photo's edge
    if caption:
        draw = ImageDraw.Draw(thumb)
        left, top, right, bottom = draw.textbbox((2, 2), caption)
        draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill="black")
        draw.text((2, 2), caption, fill="yellow")
    return thumb


def _contact_sheet(thumbnails, columns=12):
    """The thumbnails in rows of ``columns`` (an empty strip if there are none)."""
    rows = max(1, -(-len(thumbnails) // columns))
    sheet = Image.new("RGB", (columns * THUMB, rows * THUMB), "white")
    for i, thumb in enumerate(thumbnails):
        sheet.paste(thumb, ((i % columns) * THUMB, (i // columns) * THUMB))
    return sheet


def _variants(name, faces):
    """The faces a pipeline reports; the threshold sweep's once per face-score threshold of MIN_SCORES but the
    default (whose row is the default pipeline's own run)."""
    if name != SWEEP:
        return [(name, faces)]
    return [(_ours_at(t), [f for f in faces if f.score >= t]) for t in MIN_SCORES if t != DEFAULT_MIN_SCORE]


def _ours_at(min_score):
    return OURS if min_score == DEFAULT_MIN_SCORE else f"{OURS}, min_score={min_score:g}"


def _pooled(results):
    total = {key: sum(r[key] for r in results) for key in results[0]}
    n = total["frames"]
    return {"recall": total["found"] / n, "false_alarms_per_frame": total["false_alarms"] / n,
            "nme": total["nme_sum"] / max(total["found"], 1), "failure_rate": total["failures"] / n,
            "seconds_per_frame": total["seconds"] / n, "frames": n}


def _summary(result):
    p = _pooled([result])
    return (f"recall {p['recall']:.3f}, false alarms/frame {p['false_alarms_per_frame']:.3f}, NME {p['nme']:.4f}, "
            f"failures {p['failure_rate']:.3f}, {p['seconds_per_frame'] * 1000:.1f} ms/frame")


def _canvases(grays, squares, test, test_people, crops, n, seed):
    """``n`` enlarged test frames with 3-6 faces96 faces of the test people, 40-200 px, pasted in."""
    held_out = np.flatnonzero(np.isin(crops.groups, list(test_people)))
    return multi_face_canvases([grays[i] for i in test], squares[test], crops.data[held_out], crops.target[held_out],
                               n, random_state=1000 + seed)


def _score_canvases(boxes, framing, canvases):
    """Pasted faces found (and canvases with all of them found), given each canvas's detected boxes."""
    found = complete = faces = 0
    for detected, (_, squares, n_pasted) in zip(boxes, canvases):
        match = match_faces(np.asarray(detected, dtype=float).reshape(-1, 4), framing, squares)[:n_pasted]
        found += int((match >= 0).sum())
        faces += n_pasted
        complete += bool((match >= 0).all())
    return {"found": found, "faces": faces, "complete": complete, "canvases": len(canvases)}


def _pooled_canvases(results):
    return {key: sum(r[key] for r in results) for key in results[0]}


def _dlib_parts():
    import dlib

    parts = {"detector": dlib.get_frontal_face_detector()}

    def boxes(gray):
        rects = parts["detector"](np.round(gray * 255).astype(np.uint8), 1)
        return [(r.left(), r.top(), r.width(), r.height()) for r in rects]

    parts["boxes"] = boxes
    try:
        import face_recognition_models

        parts["shape"] = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    except ImportError:
        parts["shape"] = None
    return parts


def _dlib_points(peers, gray8, rect):
    import dlib

    shape = peers["shape"](gray8, dlib.rectangle(*rect))
    points68 = np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], dtype=float)
    return ibug68_to_kaggle15(points68.reshape(1, -1))[0]


def _dlib_offset(peers, grays, keypoints, squares):
    """Mean of (true - dlib) 15-point positions over the training frames, in units of the dlib box side."""
    if peers["shape"] is None:
        return None
    residuals = []
    for gray, truth, square in zip(grays, keypoints, squares):
        rects = peers["detector"](gray, 1)
        boxes = np.array([(r.left(), r.top(), r.width(), r.height()) for r in rects], dtype=float).reshape(-1, 4)
        match = match_faces(boxes, DLIB_FRAMING, square[None])[0]
        if match < 0:
            continue
        r = rects[int(match)]
        points = _dlib_points(peers, gray, (r.left(), r.top(), r.right(), r.bottom()))
        residuals.append((truth - points) / r.width())
    return np.mean(residuals, axis=0)


class _DlibPipeline:
    """dlib's detector and 68-point model, with the 15 Kaggle points offset-corrected."""

    def __init__(self, peers, offset):
        self.peers, self.offset = peers, offset

    def detect(self, photo):
        from fkp_classic.photo import Face
        from fkp_classic.keypoints import KAGGLE_15

        gray = np.asarray(Image.fromarray(photo).convert("L"))
        faces = []
        for r in self.peers["detector"](gray, 1):
            points = _dlib_points(self.peers, gray, (r.left(), r.top(), r.right(), r.bottom()))
            points = points + self.offset * r.width()
            faces.append(Face(np.array([r.left(), r.top(), r.width(), r.height()], float), points.reshape(-1, 2),
                              layout=KAGGLE_15))
        return faces


def _report(rows, canvas_rows, n_folds, n_frames):
    pooled = {k: _pooled(v) for k, v in rows.items()}
    lines = [
        f"## Photo benchmark: {n_frames} frames of ../shared/data/frames, {n_folds} folds by person",
        "",
        "Every model is trained on the other folds' people. Found: IoU >= 0.5 with the true crop square. "
        f"NME over the 15 points / true eye distance, on found faces. Failure: missed or NME > {FAILURE_NME}.",
        "",
        "| pipeline | faces found | false alarms / frame | NME on found faces | failures | s / frame |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in pooled.items():
        lines.append(f"| {name} | {p['recall']:.1%} | {p['false_alarms_per_frame']:.3f} | {p['nme']:.4f} | "
                     f"{p['failure_rate']:.1%} | {p['seconds_per_frame']:.4f} |")
    ours = pooled[OURS]
    dlib_row = pooled.get("dlib HOG detector + dlib 68-point model")
    lines += ["", "### Targets", ""]
    if dlib_row is not None:
        dlib_boxes = pooled["dlib HOG boxes -> our crop + keypoint model"]
        lines += [
            f"- recall {ours['recall']:.1%} against dlib's detector's {dlib_boxes['recall']:.1%} "
            f"(target: at least dlib's), false alarms {ours['false_alarms_per_frame']:.4f} / frame (target <= 0.01)",
            f"- failure rate {ours['failure_rate']:.1%} (target <= 5%)",
            f"- time {ours['seconds_per_frame'] / dlib_row['seconds_per_frame']:.2f}x dlib's detector + 68-point "
            f"model (target <= 1.0x)",
        ]
    else:
        lines += [f"- dlib not installed: recall {ours['recall']:.1%}, false alarms "
                  f"{ours['false_alarms_per_frame']:.3f} / frame, failures {ours['failure_rate']:.1%}"]
    canvases = _pooled_canvases(canvas_rows[CANVAS_OURS])
    lines.append(f"- multi-face: {canvases['found']}/{canvases['faces']} pasted faces found, "
                 f"{canvases['complete']}/{canvases['canvases']} canvases complete (target: every face, every canvas)")
    lines += ["", "### Multi-face canvases (3-6 pasted faces of 40-200 px per enlarged frame)", "",
              "| detector | pasted faces found | canvases with every face found |", "|---|---|---|"]
    for name, results in canvas_rows.items():
        p = _pooled_canvases(results)
        lines.append(f"| {name} | {p['found']}/{p['faces']} | {p['complete']}/{p['canvases']} |")
    return "\n".join(lines) + "\n"


def _slug(name):
    return "".join(c if c.isalnum() else "_" for c in name.split(" (")[0].lower()).strip("_")


def _turn_points(points, centre, degrees):
    """Points ``(n, 2)`` turned counterclockwise (as seen) about ``centre``, as skimage's rotate turns a photo."""
    theta = np.deg2rad(degrees)
    d = np.asarray(points, dtype=float).reshape(-1, 2) - centre
    return centre + np.c_[d[:, 0] * np.cos(theta) + d[:, 1] * np.sin(theta),
                          d[:, 1] * np.cos(theta) - d[:, 0] * np.sin(theta)]


def _turned_frame(image, keypoints, degrees, pad=0.25):
    """A frame padded by its own edge (a quarter of its larger side) and turned about its face's centre; the
    face's turned keypoints."""
    margin = int(round(pad * max(image.shape[:2])))
    widths = ((margin, margin), (margin, margin)) + (((0, 0),) if image.ndim == 3 else ())
    padded = np.pad(image, widths, mode="edge")
    points = np.asarray(keypoints, dtype=float).reshape(-1, 2) + margin
    centre = points.mean(axis=0)
    if degrees == 0:
        return padded, points.ravel()
    turned = rotate(padded, degrees, center=centre, mode="edge", preserve_range=True)
    return np.round(turned).astype(np.uint8), _turn_points(points, centre, degrees).ravel()


def _turned_canvases(canvases, degrees):
    """The canvases padded by their edge and turned about their centre, with their squares moved along."""
    out = []
    for image, squares, n_pasted in canvases:
        margin = int(round(0.3 * max(image.shape)))
        padded = np.pad(image, margin, mode="edge")
        centre = np.array([padded.shape[1] / 2 - 0.5, padded.shape[0] / 2 - 0.5])
        turned = np.round(rotate(padded, degrees, center=centre, mode="edge", preserve_range=True)).astype(np.uint8)
        squares = np.asarray(squares, dtype=float)
        moved = _turn_points(squares[:, :2] + squares[:, 2:] / 2 - 0.5 + margin, centre, degrees)
        out.append((turned, np.c_[moved - squares[:, 2:] / 2 + 0.5, squares[:, 2:]], n_pasted))
    return out


def _tally():
    return {"frames": 0, "found": 0, "nme_sum": 0.0, "nme_n": 0, "failures": 0, "seconds": 0.0}


def _score_rotations(model, detector, verifier, peers, images, keypoints):
    """Per search and turn: frames, faces found, NME on found faces (ours), failures, seconds."""
    upright = KeypointDetector(model, face_detector=detector, verifier=verifier)
    anywhere = KeypointDetector(model, face_detector=detector, verifier=verifier, rotations="all")
    searches = {ROTATION_OURS: (upright.detect, detector.framing, ROTATIONS),
                ROTATION_ANY: (anywhere.detect, detector.framing, ROTATIONS + ANY_ANGLE_ROTATIONS)}
    if peers is not None:
        searches["dlib HOG detector"] = (peers["boxes"], DLIB_FRAMING, ROTATIONS + ANY_ANGLE_ROTATIONS)
    tallies = {name: {a: _tally() for a in angles} for name, (_, _, angles) in searches.items()}
    for image, truth in zip(images, keypoints):
        for angle in ROTATIONS + ANY_ANGLE_ROTATIONS:
            turned, points = _turned_frame(image, truth, angle)
            square = face_squares(points[None])
            gray = as_gray(turned)
            for name, (search, framing, angles) in searches.items():
                if angle not in angles:
                    continue
                start = time.perf_counter()
                found = search(gray) if name == "dlib HOG detector" else search(turned)
                seconds = time.perf_counter() - start
                boxes = np.array([f.box for f in found] if name != "dlib HOG detector" else found, dtype=float)
                match = match_faces(boxes.reshape(-1, 4), framing, square)[0]
                t = tallies[name][angle]
                t["frames"] += 1
                t["seconds"] += seconds
                if match < 0:
                    t["failures"] += 1
                    continue
                t["found"] += 1
                if name != "dlib HOG detector":
                    error = float(nme(points[None], found[match].points.reshape(1, -1), layout="kaggle15")[0])
                    t["nme_sum"] += error
                    t["nme_n"] += 1
                    t["failures"] += int(error > FAILURE_NME)
    return tallies


def _pooled_rotations(results):
    pooled = {}
    for angle in results[0]:
        total = {key: sum(r[angle][key] for r in results) for key in results[0][angle]}
        n = max(total["frames"], 1)
        pooled[angle] = {"found": total["found"] / n, "frames": total["frames"],
                         "nme": total["nme_sum"] / total["nme_n"] if total["nme_n"] else None,
                         "failure_rate": total["failures"] / n, "seconds_per_frame": total["seconds"] / n}
    return pooled


def _rotation_summary(result):
    pooled = _pooled_rotations([result])
    return ", ".join(f"{a} deg {p['found']:.0%}" + (f" NME {p['nme']:.4f}" if p["nme"] is not None else "")
                     for a, p in pooled.items())


def _rotation_report(rotation_rows):
    if not rotation_rows:
        return ""
    pooled = {name: _pooled_rotations(results) for name, results in rotation_rows.items()}
    angles = ROTATIONS + ANY_ANGLE_ROTATIONS
    n = pooled[ROTATION_OURS][0]["frames"]
    lines = ["", f"### Tilted heads: {n} hidden frames (every {ROTATION_EVERY}th test frame) turned in-plane", "",
             "Each frame is padded by its own edge and turned about its face. Found: IoU >= 0.5 with the turned "
             "face's true crop square (axis-aligned); NME over the 15 points on found faces.", "",
             "| search | " + " | ".join(f"{a} deg" for a in angles) + " | s / frame (0 deg) |",
             "|---|" + "---|" * (len(angles) + 1)]
    for name, by_angle in pooled.items():
        cells = []
        for a in angles:
            p = by_angle.get(a)
            if p is None:
                cells.append("")
                continue
            cells.append(f"{p['found']:.1%}" + (f", NME {p['nme']:.4f}" if p["nme"] is not None else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {by_angle[0]['seconds_per_frame']:.4f} |")
    ours, anywhere = pooled[ROTATION_OURS], pooled[ROTATION_ANY]
    found = ours[45]["found"] / max(ours[0]["found"], 1e-9)
    error = ours[45]["nme"] / ours[0]["nme"] if ours[45]["nme"] and ours[0]["nme"] else float("nan")
    lines += ["", "Targets:", "",
              f"- 45 degrees, default search: {found:.1%} of the faces found upright (target >= 97%), NME "
              f"{error:.2f}x upright (target <= 1.1x)"]
    for a in ANY_ANGLE_ROTATIONS:
        lines.append(f"- {a} degrees, rotations=\"all\": {anywhere[a]['found'] / max(ours[0]['found'], 1e-9):.1%} of "
                     f"the faces found upright (target >= 95%)")
    lines.append(f"- time per frame, rotations=\"all\" against the default search: "
                 f"{anywhere[0]['seconds_per_frame'] / ours[0]['seconds_per_frame']:.2f}x (target <= 4x)")
    return "\n".join(lines) + "\n"


def _score_wild(model, detector, verifier, peers, afw):
    """AFW's whole photos through ours at each of ``AFW_MIN_SCORES`` (and dlib's detector when ``peers``): per
    pipeline a tally and the thumbnails of its detections that match no annotated face (ours at the default,
    each with its score, so that the sheet also shows which of them a higher threshold keeps; None for ours at
    the other thresholds)."""
    ours = {_wild_label(t): KeypointDetector(model, face_detector=detector, verifier=verifier, min_score=t)
            for t in AFW_MIN_SCORES}
    kaggle = afw.in_layout("kaggle15")
    names = list(ours) + (["dlib HOG detector"] if peers is not None else [])
    tallies = {name: {"photos": 0, "faces": 0, "found": 0, "nme_sum": 0.0, "nme_n": 0, "failures": 0,
                      "unmatched": 0, "seconds": 0.0} for name in names}
    sheets = {name: [] for name in (WILD_OURS, "dlib HOG detector") if name in names}  # other thresholds: not drawn
    for _, gray, faces in afw.iter_photos():
        truth = kaggle.points[faces]
        squares = face_squares(truth)
        for name in names:
            start = time.perf_counter()
            if name in ours:
                found = ours[name].detect_gray(gray)
                boxes, framing = np.array([f.box for f in found], dtype=float).reshape(-1, 4), detector.framing
            else:
                boxes, framing = np.array(peers["boxes"](gray / 255.0), dtype=float).reshape(-1, 4), DLIB_FRAMING
            t = tallies[name]
            t["seconds"] += time.perf_counter() - start
            match = match_faces(boxes, framing, squares)
            t["photos"] += 1
            t["faces"] += len(faces)
            t["found"] += int((match >= 0).sum())
            t["failures"] += int((match < 0).sum())
            unmatched = np.setdiff1d(np.arange(len(boxes)), match[match >= 0])
            t["unmatched"] += len(unmatched)
            if name in sheets:
                sheets[name] += [_thumbnail(np.stack([gray] * 3, axis=-1), boxes[i],
                                            caption=f"{found[i].score:.2f}" if name in ours else None)
                                 for i in unmatched]
            if name in ours:
                for j in np.flatnonzero(match >= 0):
                    error = float(nme(truth[j][None], found[match[j]].points.reshape(1, -1), layout="kaggle15")[0])
                    t["nme_sum"] += error
                    t["nme_n"] += 1
                    t["failures"] += int(error > FAILURE_NME)
    return {name: (tallies[name], sheets.get(name)) for name in names}


def _wild_label(min_score):
    return WILD_OURS if min_score == DEFAULT_MIN_SCORE else f"{WILD_OURS}, min_score={min_score:g}"


def _pooled_wild(results):
    total = {key: sum(r[key] for r in results) for key in results[0]}
    return {"found": total["found"] / max(total["faces"], 1), "faces": total["faces"], "photos": total["photos"],
            "nme": total["nme_sum"] / total["nme_n"] if total["nme_n"] else None,
            "failure_rate": total["failures"] / max(total["faces"], 1),
            "unmatched_per_photo": total["unmatched"] / max(total["photos"], 1),
            "seconds_per_photo": total["seconds"] / max(total["photos"], 1)}


def _wild_summary(result):
    p = _pooled_wild([result])
    nme_text = f", NME {p['nme']:.4f}" if p["nme"] is not None else ""
    return (f"found {p['found']:.1%}{nme_text}, unmatched detections/photo {p['unmatched_per_photo']:.3f}, "
            f"{p['seconds_per_photo']:.3f} s/photo")


def _wild_report(wild_rows, afw):
    if not wild_rows:
        return ""
    lines = ["", f"### Photos in the wild: AFW's {afw.n_photos} whole photos ({afw.n_faces} annotated faces)", "",
             "Never trained on (each fold's detector and verifier learn from LFPW's and HELEN's training photos, "
             "and the frames of its training people). Ours runs once per fold's parts (pooled); dlib's detector "
             "once. Found: IoU >= 0.5 with an annotated face's crop square. Unmatched: detections matching no "
             "annotated face: false alarms and faces the annotation leaves out, drawn in "
             "photos_wild_unannotated_*.jpg (ours at the default, each with its score: the rows at higher "
             "thresholds keep those scoring at least theirs, give or take a face found behind a rejected one).", "",
             "| pipeline | annotated faces found | NME (15 points) | failures | unmatched detections / photo | "
             "s / photo |", "|---|---|---|---|---|---|"]
    for name, results in wild_rows.items():
        p = _pooled_wild(results)
        nme_text = f"{p['nme']:.4f}" if p["nme"] is not None else ""
        lines.append(f"| {name} | {p['found']:.1%} | {nme_text} | {p['failure_rate']:.1%} | "
                     f"{p['unmatched_per_photo']:.3f} | {p['seconds_per_photo']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
