"""The photo benchmark: faces and keypoints found in full video frames, on people no model has seen.

    python benchmarks/photos.py --data ../shared/data [--folds 3] [--canvases 20] [--publish]

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
and the pipelines taking turns on each frame; ours is also scored at other face-score thresholds (min_score),
and its false alarms at the default are drawn in photos_false_alarms.jpg (each with a margin of context), so
that anyone can see which are not faces and which are faces the frames leave unannotated.
A multi-face check pastes 3-6 held-out faces96 faces (40-200 px) into enlarged frames: every one
must be found (its true square framed from its keypoints, as the frames' faces are). Writes
photos.json and photos.md to a run folder (benchmarks/runs/<time>/, or
benchmarks/results/ with --publish).
"""

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.model_selection import GroupKFold
from sklearn.utils import Bunch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from fkp_classic import CascadeRegressor  # noqa: E402
from fkp_classic.datasets import load_backgrounds, load_frames, load_kaggle  # noqa: E402
from fkp_classic.evaluation import framing_examples, match_faces, multi_face_canvases  # noqa: E402
from fkp_classic.keypoints import ibug68_to_kaggle15  # noqa: E402
from fkp_classic.metrics import nme  # noqa: E402
from fkp_classic.photo import (  # noqa: E402
    DLIB_FRAMING, CallableFaceDetector, KeypointDetector, LBPFaceDetector, as_gray, make_framing_verifier,
)
from fkp_classic.utils import atomic_write  # noqa: E402
from train_face_detector import train as train_photo_parts  # noqa: E402
from peers import dlib_status  # noqa: E402
from report import add_output_arguments, output_folder  # noqa: E402

FAILURE_NME = 0.10
OURS = "detect_keypoints (HOG detector + face verifier, ours)"
CANVAS_OURS = "detect_keypoints (ours)"
MIN_SCORES = (-0.25, 0.0, 0.25, 0.3, 0.35, 0.5)
"""Face-score thresholds our pipeline is scored at (the default, KeypointDetector's min_score, is the main row)."""
THUMB = 96
"""Side of each false alarm's thumbnail in photos_false_alarms.jpg."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (frames/ and faces96/)")
    parser.add_argument("--folds", type=int, default=3, help="GroupKFold folds over people (default 3)")
    parser.add_argument("--canvases", type=int, default=20, help="multi-face canvases per fold (default 20)")
    parser.add_argument("--limit-folds", type=int, default=None, help="run only the first N folds (quick look)")
    parser.add_argument("--people", type=int, default=None, help="use only the first N people (quick look)")
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
    use_dlib, why = dlib_status()
    peers = _dlib_parts() if use_dlib else None
    if not use_dlib:
        print(f"dlib rows skipped: {why}")
    folds = list(GroupKFold(args.folds).split(grays, groups=frames.groups))[: args.limit_folds]
    rows, canvas_rows, false_alarms = {}, {}, []
    for k, (train, test) in enumerate(folds):
        train_people = set(frames.groups[train])
        crop_train = np.flatnonzero(np.isin(crops.groups, list(train_people)))
        if set(frames.groups[test]) & set(crops.groups[crop_train]):
            raise RuntimeError("a test person is in the keypoint model's training set")
        model = CascadeRegressor(random_state=0, layout=crops.layout).fit(crops.data[crop_train], crops.target[crop_train])
        start = time.perf_counter()
        detector, verifier, n_false = train_photo_parts(
            [grays[i] for i in train], frames.boxes[train], frames.keypoints[train], crops.data[crop_train],
            crops.target[crop_train], model, backgrounds, random_state=k,
        )
        print(f"fold {k}: detector and verifier trained in {time.perf_counter() - start:.0f} s on {len(train)} "
              f"frames ({n_false} false alarms for the verifier); {len(test)} test frames of "
              f"{len(set(frames.groups[test]))} people", flush=True)
        framing_verifier = make_framing_verifier().fit(*framing_examples(crops.data[crop_train], random_state=0))
        ours = KeypointDetector(model, face_detector=detector, verifier=verifier, min_score=-np.inf)  # thresholds applied below
        pipelines = {
            OURS: (ours, detector.framing),
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
        for image, _, _ in canvases:  # ours once, every face with its verifier score; thresholds applied below
            for label, kept in _variants(OURS, ours.detect(image / 255.0)):
                found.setdefault(label, []).append([f.box for f in kept])
        canvas_boxes = {label.replace(OURS, CANVAS_OURS): (boxes, detector.framing) for label, boxes in found.items()}
        if peers is not None:
            canvas_boxes["dlib HOG detector"] = ([peers["boxes"](image / 255.0) for image, _, _ in canvases],
                                                 DLIB_FRAMING)
        for name, (boxes, framing) in canvas_boxes.items():
            result = _score_canvases(boxes, framing, canvases)
            canvas_rows.setdefault(name, []).append(result)
            print(f"  multi-face, {name}: {result['found']}/{result['faces']} faces, "
                  f"{result['complete']}/{result['canvases']} canvases complete", flush=True)
    report = _report(rows, canvas_rows, len(folds), len(grays))
    print(report)
    with atomic_write(out / "photos.md", "w") as fh:
        fh.write(report)
    payload = {"rows": {k: _pooled(v) for k, v in rows.items()},
               "multi_face": {k: _pooled_canvases(v) for k, v in canvas_rows.items()},
               "folds": len(folds), "frames": len(grays), "dlib": use_dlib,
               "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with atomic_write(out / "photos.json", "w") as fh:
        json.dump(payload, fh, indent=1)
    with atomic_write(out / "photos_false_alarms.jpg", "wb") as fh:
        _contact_sheet(false_alarms).save(fh, format="JPEG", quality=85)
    print(f"wrote {out / 'photos.md'}, {out / 'photos.json'} and {out / 'photos_false_alarms.jpg'}")


def _score_all(pipelines, photos, keypoints, squares, false_alarms=None):
    """Recall, false alarms, NME and time of every pipeline on photos with one known face each.

    The pipelines take turns on each photo, so that the machine's load weighs on all alike. Ours
    keeps every face with its verifier score, and is scored at each of ``MIN_SCORES``; a thumbnail
    of each of its false alarms at the default threshold is appended to ``false_alarms``.
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


def _thumbnail(photo, box, margin=0.3):
    """The box and ``margin`` of its side around it, ``THUMB`` pixels square (RGB)."""
    x, y, w, h = box
    pad = margin * w
    image = Image.fromarray(np.asarray(photo)).convert("RGB")
    box = tuple(int(round(v)) for v in (x - pad, y - pad, x + w + pad, y + h + pad))
    return image.crop(box).resize((THUMB, THUMB), Image.BILINEAR)  # black beyond the photo's edge


def _contact_sheet(thumbnails, columns=12):
    """The thumbnails in rows of ``columns`` (an empty strip if there are none)."""
    rows = max(1, -(-len(thumbnails) // columns))
    sheet = Image.new("RGB", (columns * THUMB, rows * THUMB), "white")
    for i, thumb in enumerate(thumbnails):
        sheet.paste(thumb, ((i % columns) * THUMB, (i // columns) * THUMB))
    return sheet


def _variants(name, faces):
    """The faces a pipeline reports; ours once per face-score threshold (MIN_SCORES)."""
    if name != OURS:
        return [(name, faces)]
    return [(_ours_at(t), [f for f in faces if f.score >= t]) for t in MIN_SCORES]


def _ours_at(min_score):
    default = min_score == KeypointDetector(verifier=None).min_score
    return OURS if default else f"{OURS}, min_score={min_score:g}"


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


if __name__ == "__main__":
    main()
