"""The video benchmark: tracking against detecting every frame, on synthetic motion with exact truth and a real clip.

    python benchmarks/video.py --data ../shared/data [--sequences 24] [--frames 150] [--publish]

Synthetic sequences: a full frame of ../shared/data/frames of a person the keypoint model never saw
(faces96 is split by person; the CascadeRegressor is fitted on the other people), moved along a smooth
random path of translation (up to 12% of the frame), scale (+-15%), rotation (+-8 degrees) and
brightness (+-20%), with camera noise (3 grey levels), 25 frames per second; the true keypoints move
alike (fkp_classic.evaluation.moving_face_sequence). On each sequence, with that model:

- per-frame detection: the photo pipeline (KeypointDetector: HOG detector, keypoints, verifier) on every
  frame, as a user without tracking would run it;
- tracking: FaceTracker without smoothing (raw points);
- tracking + smoothing: FaceTracker's default (One Euro filter).

NME is the mean error of the 15 points over the true eye-centre distance, per frame, averaged over the
frames with a face; jitter is the RMS second difference in time of the error vector over the mean
eye-centre distance (how much the points shake around the truth). Frames before the face is first found
are counted apart from losses: a track is lost when, once found, the face is missing on a frame or
changes its id. The packaged face detector was trained on every frame of
../shared/data/frames (these people included): it only places the first crop.

The real clip (../shared/data/video, 320x240, a person never in faces96): the packaged model; frames with
a face, frames per second with decoding included (each method decodes the file itself; the best of 3
interleaved runs), and jitter of the points themselves (RMS second difference over the mean eye-centre
distance: real motion included). dlib's HOG detector + 68-point predictor run on every frame when
installed (pip install -e ".[peers]"), upsampled once (smallest face 40 px, as ours) and not upsampled.
Writes video.json and video.md to a run folder (benchmarks/runs/<time>/, or benchmarks/results/ with
--publish).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fkp_classic import CascadeRegressor  # noqa: E402
from fkp_classic.datasets import load_frames, load_kaggle  # noqa: E402
from fkp_classic.evaluation import moving_face_sequence, tracking_errors  # noqa: E402
from fkp_classic.keypoints import ibug68_to_kaggle15  # noqa: E402
from fkp_classic.photo import KeypointDetector  # noqa: E402
from fkp_classic.utils import atomic_write  # noqa: E402
from fkp_classic.video import FaceTracker, read_video  # noqa: E402
from peers import dlib_status  # noqa: E402
from report import add_output_arguments, output_folder  # noqa: E402

FPS = 25.0
CLIP = "video/0553_01_006_donald_trump.avi"
METHODS = ("per-frame detection", "tracking", "tracking + smoothing")


def _nearest(faces, truth):
    """The face whose keypoint centroid is nearest the truth's (None without faces), and its points."""
    if not faces:
        return None, np.full(truth.shape, np.nan)
    centre = truth.reshape(-1, 2).mean(axis=0)
    face = min(faces, key=lambda f: np.linalg.norm(f.points.mean(axis=0) - centre))
    return face, face.points.ravel()


def _run(method, frames, truth, model):
    """Points per frame (NaN where no face), track ids, and seconds, of one method on one sequence."""
    pred = np.full(truth.shape, np.nan)
    ids = []
    start = time.perf_counter()
    if method == "per-frame detection":
        detector = KeypointDetector(model)
        for i, frame in enumerate(frames):
            face, pred[i] = _nearest(detector.detect(frame), truth[i])
    else:
        tracker = FaceTracker(model, smooth=method == "tracking + smoothing")
        for i, _, faces in tracker.track(frames, fps=FPS):
            face, pred[i] = _nearest(faces, truth[i])
            ids.append(None if face is None else face.track_id)
    return pred, ids, time.perf_counter() - start


def synthetic(data, n_sequences, n_frames, seed):
    crops = load_kaggle(data / "faces96")
    train, test = next(GroupKFold(5).split(crops.data, crops.target, crops.groups))
    unseen = set(crops.groups[test])
    print(f"fitting CascadeRegressor on {len(train)} faces96 faces of {len(set(crops.groups[train]))} people", flush=True)
    model = CascadeRegressor(layout=crops.layout).fit(crops.data[train], crops.target[train])
    frames = load_frames(data / "frames", gray=False)
    rng = np.random.default_rng(seed)
    people = sorted(p for p in set(frames.groups) if p in unseen)
    chosen = rng.choice(people, size=min(n_sequences, len(people)), replace=False)
    rows = {m: {"nme": [], "jitter": [], "lost": 0, "missing": 0, "before": 0, "frames": 0, "seconds": 0.0}
            for m in METHODS}
    for s, person in enumerate(chosen):
        index = rng.choice(np.flatnonzero(frames.groups == person))
        clip, truth = moving_face_sequence(frames.images[index], frames.keypoints[index], n_frames, random_state=rng)
        order = METHODS[s % 3:] + METHODS[: s % 3]  # the methods take turns going first
        for method in order:
            pred, ids, seconds = _run(method, clip, truth, model)
            nme, jitter = tracking_errors(truth, pred)
            row = rows[method]
            row["nme"].append(float(np.nanmean(nme)))
            row["jitter"].append(float(jitter))
            missing = np.isnan(nme)
            first = int(np.argmin(missing)) if not missing.all() else len(missing)
            row["missing"] += int(missing.sum())
            row["before"] += first
            row["lost"] += int(missing[first:].sum()) + sum(a != b for a, b in zip(ids, ids[1:]) if a is not None and b is not None)
            row["frames"] += len(clip)
            row["seconds"] += seconds
        print(f"sequence {s + 1}/{len(chosen)} ({person}): " + ", ".join(
            f"{m} NME {rows[m]['nme'][-1]:.4f} jitter {rows[m]['jitter'][-1]:.4f}" for m in METHODS), flush=True)
    return {m: {"nme": float(np.mean(r["nme"])), "jitter": float(np.mean(r["jitter"])), "lost": r["lost"],
                "missing_frames": r["missing"], "frames_before_found": r["before"], "frames": r["frames"],
                "fps": r["frames"] / r["seconds"]}
            for m, r in rows.items()}, len(chosen)


def _dlib_runner(upsample):
    import dlib
    import face_recognition_models

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())

    def run(frame):
        gray = np.asarray(np.rint(frame @ np.array([0.2125, 0.7154, 0.0721])), dtype=np.uint8)
        faces = []
        for rect in detector(gray, upsample):
            shape = predictor(gray, rect)
            faces.append(ibug68_to_kaggle15(np.array([[p.x, p.y] for p in shape.parts()], dtype=float).reshape(1, -1))[0])
        return faces

    return run


def real_clip(data, repeats=3):
    path = data / CLIP
    methods = {"per-frame detection": None, "tracking + smoothing": None}
    available, reason = dlib_status()
    if available:
        methods["dlib HOG (upsampled once) + dlib 68, every frame"] = _dlib_runner(1)
        methods["dlib HOG (no upsampling) + dlib 68, every frame"] = _dlib_runner(0)
    best = {m: np.inf for m in methods}
    points = {}
    for _ in range(repeats):  # interleaved: each method decodes the file and runs once per round
        for method, runner in methods.items():
            start = time.perf_counter()
            video = read_video(path)
            if method == "per-frame detection":
                detector = KeypointDetector()
                found = [[f.points.ravel() for f in detector.detect(frame)] for frame in video]
            elif method == "tracking + smoothing":
                found = [[f.points.ravel() for f in faces] for _, _, faces in FaceTracker().track(video)]
            else:
                found = [runner(frame) for frame in video]
            best[method] = min(best[method], time.perf_counter() - start)
            points[method] = found
    n_frames = len(points["per-frame detection"])
    out = {}
    for method, found in points.items():
        first = np.array([f[0] if f else np.full(30, np.nan) for f in found])
        _, jitter = tracking_errors(first, first)  # zero error: use the points' own second difference
        pts = first.reshape(len(first), -1, 2)
        second = pts[2:] - 2 * pts[1:-1] + pts[:-2]
        ok = np.isfinite(second).all(axis=(1, 2))
        iod = np.nanmean(np.linalg.norm(pts[:, 0] - pts[:, 1], axis=1))
        out[method] = {"with_face": float(np.mean([len(f) > 0 for f in found])),
                       "fps": n_frames / best[method],
                       "jitter": float(np.sqrt((second[ok] ** 2).sum(axis=2).mean()) / iod)}
    return out, n_frames, (None if available else reason)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (faces96/, frames/, video/)")
    parser.add_argument("--sequences", type=int, default=24, help="synthetic sequences (default 24)")
    parser.add_argument("--frames", type=int, default=150, help="frames per synthetic sequence (default 150)")
    parser.add_argument("--seed", type=int, default=0)
    add_output_arguments(parser)
    args = parser.parse_args()
    out = output_folder(args)
    data = Path(args.data)
    started = time.perf_counter()
    clip, n_clip, dlib_missing = real_clip(data)
    seq, n_seq = synthetic(data, args.sequences, args.frames, args.seed)
    detect, track, smooth = (seq[m] for m in METHODS)
    lines = [
        "# Video benchmark", "",
        f"`python benchmarks/video.py --data ../shared/data --sequences {args.sequences} --frames {args.frames}` "
        f"({time.perf_counter() - started:.0f} s; one run, this machine).", "",
        f"## Synthetic motion, {n_seq} sequences of {args.frames} frames, people the keypoint model never saw", "",
        "| method | NME | jitter | frames without the face | of them before it was first found | "
        "frames lost or id changes after | frames / s |", "|---|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        r = seq[method]
        lines.append(f"| {method} | {r['nme']:.4f} | {r['jitter']:.4f} | {r['missing_frames']} of {r['frames']} | "
                     f"{r['frames_before_found']} | {r['lost']} | {r['fps']:.1f} |")
    lines += ["", "Ratios (tracking + smoothing / per-frame detection): "
              f"NME {smooth['nme'] / detect['nme']:.2f}x, jitter {smooth['jitter'] / detect['jitter']:.2f}x, "
              f"frames per second {smooth['fps'] / detect['fps']:.1f}x.", "",
              f"## The real clip ({CLIP}, {n_clip} frames, decoding included, best of 3 interleaved runs)", "",
              "| method | frames with a face | frames / s | jitter of the points |", "|---|---|---|---|"]
    for method, r in clip.items():
        lines.append(f"| {method} | {r['with_face']:.1%} | {r['fps']:.1f} | {r['jitter']:.4f} |")
    ours = clip["tracking + smoothing"]["fps"]
    ratios = [f"tracking + smoothing runs at {ours / clip['per-frame detection']['fps']:.1f}x the frames per second "
              f"of per-frame detection"]
    for method in clip:
        if method.startswith("dlib"):
            ratios.append(f"{ours / clip[method]['fps']:.1f}x {method}")
    lines += ["", "On the real clip " + "; ".join(ratios) + "."]
    if dlib_missing:
        lines += ["", f"dlib rows skipped: {dlib_missing}"]
    text = "\n".join(lines) + "\n"
    print(text)
    with atomic_write(out / "video.md", "w") as fh:
        fh.write(text)
    with atomic_write(out / "video.json", "w") as fh:
        json.dump({"synthetic": seq, "clip": clip, "sequences": n_seq, "frames": args.frames}, fh, indent=1)
    print(f"wrote {out / 'video.md'} and video.json")


if __name__ == "__main__":
    main()
