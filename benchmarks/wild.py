"""The in-the-wild benchmark on the 300-W training part: framing noise, and 68 points by cross-validation.

    python benchmarks/wild.py framing --data ../shared/data/300w [--every 3]
    python benchmarks/wild.py cv --data ../shared/data/300w [--folds 5] [--run-folds 0 1] [--size 128] ...
    python benchmarks/wild.py time --data ../shared/data/300w [--photos 120] [--repeats 2]

``framing`` measures the face detector's box noise: on each photo the packaged HOG detector proposes crop
frames (``KeypointDetector.propose``), each true face is matched to one (IoU >= 0.5 of the crop squares; its
true square is ``reframe(true_points, mean_shape_)``), and the frame's centre offset (over the true side) and
scale (its side over the true side) are summarised, with the in-plane rotation of the true eyes; then the
frame the photo path feeds the model after its re-crop pass (the first crop's prediction, ``framing_stages``
stages, reframed) is measured the same way.

``cv`` cross-validates the 68-point cascade (``CascadeRegressor(**DENSE_LAYOUT_PARAMS)``) trained on crops
cut from the training folds' photos (``fkp_classic.datasets.photo_training_crops``), grouped by photo
(GroupKFold on ``groups``), scored (i) on crops framed from the true points and (ii) end to end through the
photo path on the test photos (a face is found when a proposal's final crop square overlaps the true one
with IoU >= 0.5; a miss is a failure). Peers in the same run: dlib's shape predictor trained on the same
folds' faces from dlib's own detector boxes, and dlib's packaged 68-point model (trained on all of 300-W:
a reference, not a peer). NME by the outer eye corners and by the pupils, AUC@0.08, failures at 0.08,
seconds per photo; CED figure. With ``--refine`` each fold's part refiner refits the parts, and the refit's
share by region is measured on the same faces.

``time`` times the packaged photo path (as ``fkp detect --points 68`` runs it, with and without the part
refiner) against dlib's detector with dlib's packaged 68-point model, the three in turn on every photo: on a
shared, noisy machine only a ratio taken this way is a fair one.

The 300-W annotations are licensed for research and non-commercial use only: so is every model fitted here.
"""

import argparse
import ast
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fkp_classic import load_default_model  # noqa: E402
from fkp_classic.datasets import load_300w  # noqa: E402
from fkp_classic.evaluation import eye_rotation, framing_errors, match_faces  # noqa: E402
from fkp_classic.photo import KeypointDetector, crop_frames, reframe, to_photo  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "wild"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _summary(values):
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std()),
            **{f"q{int(q * 100):02d}": float(np.quantile(values, q)) for q in QUANTILES}}


def measure_framing(photos, model, *, every=1, log=print):
    """Framing errors of the detector's proposals and of the re-crop pass, per matched face."""
    detector = KeypointDetector(model, refiner=None)  # framing is the face model's alone
    size, mean = detector.crop_size, detector.mean_shape
    out = {"found": [], "shift": [], "scale": [], "shift2": [], "scale2": [], "rotation": [], "subset": []}
    clock = time.perf_counter()
    for n, (i, gray, faces) in enumerate(photos.iter_photos()):
        if n % every:
            continue
        true = photos.points[faces]
        truth = reframe(true, mean, size=size)
        frames, _ = detector.propose(gray)
        match = match_faces(np.c_[frames, frames[:, 2]], (1.0, 0.0, 0.0), np.c_[truth, truth[:, 2]])
        found = match >= 0
        out["found"].extend(found)
        out["subset"].extend(photos.subset[faces])
        out["rotation"].extend(eye_rotation(true, photos.layout))
        if not found.any():
            continue
        first = frames[match[found]]
        shift, scale = framing_errors(first, true[found], mean, size=size)
        crops, rounded = crop_frames(gray, first, size=size)
        pred = model.staged_predict(crops, n_stages=detector.framing_stages, check_input=False)[-1]
        second = reframe(to_photo(pred, rounded, size=size), mean, size=size)
        shift2, scale2 = framing_errors(second, true[found], mean, size=size)
        out["shift"].extend(shift), out["scale"].extend(scale)
        out["shift2"].extend(shift2), out["scale2"].extend(scale2)
        if n % (50 * every) == 0:
            log(f"photo {n}/{photos.n_photos}: {time.perf_counter() - clock:.0f} s")
    return {k: np.asarray(v) for k, v in out.items()}


def framing_report(m):
    found = m["found"].astype(bool)
    lines = ["# Face detector box noise on the 300-W training photos", "",
             f"Faces: {len(found)}; proposed (IoU >= 0.5 of crop squares): {found.mean():.1%}", ""]
    per_subset = {s: float(m["found"][m["subset"] == s].mean()) for s in np.unique(m["subset"])}
    lines.append("Found per subset: " + ", ".join(f"{s} {v:.1%}" for s, v in per_subset.items()))
    lines += ["", "| quantity | mean | std | 5% | 25% | 50% | 75% | 95% |", "|---|---|---|---|---|---|---|---|"]
    payload = {"found": float(found.mean()), "found_per_subset": per_subset}
    rows = [
        ("detector frame: centre dx / true side", m["shift"][:, 0]),
        ("detector frame: centre dy / true side", m["shift"][:, 1]),
        ("detector frame: log(side / true side)", np.log(m["scale"])),
        ("re-crop frame: centre dx / true side", m["shift2"][:, 0]),
        ("re-crop frame: centre dy / true side", m["shift2"][:, 1]),
        ("re-crop frame: log(side / true side)", np.log(m["scale2"])),
        ("true eyes' in-plane rotation (degrees)", m["rotation"]),
    ]
    for name, values in rows:
        s = _summary(values)
        payload[name] = s
        lines.append(f"| {name} | {s['mean']:+.4f} | {s['std']:.4f} | " + " | ".join(
            f"{s[f'q{int(q * 100):02d}']:+.4f}" for q in QUANTILES) + " |")
    return "\n".join(lines) + "\n", payload


# -- cross-validation -------------------------------------------------------------------------------------------

FAILURE = 0.08


def _squares(points, mean, size):
    frames = reframe(points, mean, size=size)
    return np.c_[frames, frames[:, 2]]


def _match(pred_points, true_points, mean, size):
    """Each true face's prediction (its row in ``pred_points``) or -1: IoU >= 0.5 of the squares reframe gives."""
    if len(pred_points) == 0:
        return np.full(len(true_points), -1)
    return match_faces(_squares(pred_points, mean, size), (1.0, 0.0, 0.0), _squares(true_points, mean, size))


def _scores(true, pred, layout):
    """NME per face: 68 points by the outer eye corners and by the pupils, and the 15 Kaggle points mapped from
    the 68 by the eye centres; NaN rows of ``pred`` (missed faces) are inf."""
    from fkp_classic.keypoints import get_layout, ibug68_to_kaggle15
    from fkp_classic.metrics import nme

    missed = np.isnan(pred).any(axis=1)
    kaggle = get_layout("kaggle15")
    out = {}
    for name, norm in (("nme", "inter-ocular"), ("nme_pupils", "inter-pupil"), ("nme15", "inter-ocular")):
        e = np.full(len(true), np.inf)
        if (~missed).any():
            t, q = true[~missed], pred[~missed]
            if name == "nme15":
                e[~missed] = nme(ibug68_to_kaggle15(t), ibug68_to_kaggle15(q), normalization=norm, layout=kaggle)
            else:
                e[~missed] = nme(t, q, normalization=norm, layout=layout)
        out[name] = e
    return out


def _summarise(errors):
    from fkp_classic.metrics import ced_auc, failure_rate

    e, p, e15 = errors["nme"], errors["nme_pupils"], errors["nme15"]
    found = np.isfinite(e)
    return {"faces": int(len(e)), "found": float(found.mean()), "nme": float(e[found].mean()),
            "nme_pupils": float(p[found].mean()), "auc08": float(ced_auc(e, threshold=FAILURE)),
            "failures08": float(failure_rate(e, threshold=FAILURE)), "nme15": float(e15[found].mean()),
            "failures15": float(failure_rate(e15, threshold=FAILURE))}


def _dlib_regions(gray, boxes, points, margin=1.0):
    """Regions of a photo around dlib boxes (each side widened by ``margin`` box widths), with the box and the
    points moved into each: the photo's neighbourhood is all dlib's trees read."""
    out = []
    h, w = gray.shape
    for (x, y, bw, bh), pts in zip(boxes, points):
        x0, y0 = int(max(0, np.floor(x - margin * bw))), int(max(0, np.floor(y - margin * bh)))
        x1, y1 = int(min(w, np.ceil(x + bw + margin * bw))), int(min(h, np.ceil(y + bh + margin * bh)))
        out.append((np.ascontiguousarray(gray[y0:y1, x0:x1]), (x - x0, y - y0, bw, bh),
                    None if pts is None else pts.reshape(-1, 2) - [x0, y0]))
    return out


def _dlib_boxes(detector, gray):
    rects = detector(gray, 1)
    return np.array([(r.left(), r.top(), r.width(), r.height()) for r in rects], dtype=float).reshape(-1, 4)


def _dlib_rect(box):
    import dlib

    x, y, w, h = box
    return dlib.rectangle(int(round(x)), int(round(y)), int(round(x + w - 1)), int(round(y + h - 1)))


def train_dlib(photos, mean, size, *, threads=2, log=print):
    """dlib's shape predictor (default options) on the faces dlib's own detector finds (IoU >= 0.5), and how many."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    images, objects = [], []
    for _, gray, faces in photos.iter_photos():
        true = photos.points[faces]
        boxes = _dlib_boxes(detector, gray)
        # a dlib box is matched through its crop square (dlib's framing, as the photo path frames dlib boxes)
        from fkp_classic.photo import DLIB_FRAMING, box_frames

        frames = box_frames(boxes, DLIB_FRAMING)
        match = match_faces(np.c_[frames, frames[:, 2]], (1.0, 0.0, 0.0), _squares(true, mean, size))
        found = match >= 0
        for image, box, pts in _dlib_regions(gray, boxes[match[found]], true[found]):
            parts = [dlib.point(int(round(px)), int(round(py))) for px, py in pts]
            images.append(image)
            objects.append([dlib.full_object_detection(_dlib_rect(box), parts)])
    options = dlib.shape_predictor_training_options()
    options.num_threads = threads
    log(f"dlib: training its shape predictor on {len(images)} of {photos.n_faces} faces (its detector's boxes)")
    return dlib.train_shape_predictor(images, objects, options), len(images)


def dlib_photo_path(predictor, photos, *, log=print):
    """dlib's detector and a shape predictor on each photo: predicted points per face found, and seconds per photo."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    out, seconds = [], []
    for i, gray, faces in photos.iter_photos():
        clock = time.perf_counter()
        boxes = _dlib_boxes(detector, gray)
        pts = np.array([[(p.x, p.y) for p in predictor(gray, _dlib_rect(b)).parts()] for b in boxes],
                       dtype=float).reshape(len(boxes), photos.points.shape[1])
        seconds.append(time.perf_counter() - clock)
        out.append((faces, pts))
    return out, float(np.mean(seconds))


def our_photo_path(model, photos, *, face_detector="hog", verifier="default", refiner=None):
    """The photo path on each photo: points per face found, and seconds per photo. ``refiner`` None by default:
    the packaged part refiner learnt from every 300-W training photo, so a fold passes its own (``--refine``)."""
    detector = KeypointDetector(model, face_detector=face_detector, verifier=verifier, refiner=refiner)
    out, seconds = [], []
    for i, gray, faces in photos.iter_photos():
        clock = time.perf_counter()
        found = detector.detect_gray(gray)
        seconds.append(time.perf_counter() - clock)
        out.append((faces, np.array([f.points.ravel() for f in found], dtype=float).reshape(len(found), -1)
                    if found else np.empty((0, photos.points.shape[1]))))
    return out, float(np.mean(seconds))


def matched_points(results, photos, mean, size):
    """Predictions per true face (NaN where missed) from per-photo predictions."""
    pred = np.full(photos.points.shape, np.nan)
    for faces, pts in results:
        match = _match(pts, photos.points[faces], mean, size)
        pred[faces[match >= 0]] = pts[match[match >= 0]]
    return pred


def true_framed(model, photos, refiner=None):
    """The model's points on crops framed from the true points (no detector), their parts refitted by ``refiner``."""
    size, mean = model.image_shape_[0], model.mean_shape_
    pred = np.empty(photos.points.shape)
    for i, gray, faces in photos.iter_photos():
        crops, rounded = crop_frames(gray, reframe(photos.points[faces], mean, size=size), size=size)
        pred[faces] = to_photo(model.predict(crops), rounded, size=size)
        if refiner is not None:
            pred[faces] = refiner.refine(gray, pred[faces]).reshape(len(faces), -1)
    return pred


def faces96_nme(model, X, y, layout):
    """68-point NME (outer eye corners) on faces96 crops (resampled to the model's size, points mapped back)."""
    from fkp_classic.datasets import resize_crops
    from fkp_classic.metrics import nme

    size = model.image_shape_[0]
    Xs, _ = resize_crops(X, y, size)
    pred = (model.predict(Xs) + 0.5) * (96 / size) - 0.5
    return float(nme(y, pred, layout=layout).mean())


def photo_folds(photos, n_folds=5):
    """The folds ``cv`` runs: ``(train, test)`` face indices of the 300-W photos, GroupKFold by photo."""
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(n_folds).split(photos.points, groups=photos.groups))


def faces96_folds(faces96):
    """faces96's folds, GroupKFold(5) by person: ``cv --faces96`` adds fold ``k % 5``'s training people to fold k."""
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(5).split(faces96.data, groups=faces96.groups))


def fold_refiner(photos, cache=None, *, log=print):
    """The part refiner ``tools/train_part_refiner.py`` builds, fitted on a fold's training ``photos``; read from the
    joblib file ``cache`` if it exists, else fitted and written there (when given)."""
    import joblib

    from fkp_classic.photo import PartRefiner

    if cache is not None and Path(cache).is_file():
        # our own cache; ``share`` only weighs refine's output, so a refiner cached before it existed is the recipe's
        return joblib.load(cache).set_params(share=PartRefiner().share)
    clock = time.perf_counter()
    refiner = PartRefiner(random_state=0).fit(photos)
    log(f"part refiner fitted in {time.perf_counter() - clock:.0f} s")
    if cache is not None:
        joblib.dump(refiner, cache)
    return refiner


SHARE_GRID = np.round(np.linspace(0, 1, 21), 2)
"""The shares of the part refiner's refit tried by ``cv --refine`` (``PartRefiner(share=)``)."""


def share_errors(refiner, photos, plain):
    """Per refitted region: the summed error of its points (over the outer eye corners' distance) at each share of
    :data:`SHARE_GRID`, the face model's points ``plain`` (one row per face of ``photos``, NaN if missed) moved that
    share of the way to the refiner's refit of them; and the number of points summed."""
    import copy

    whole = copy.copy(refiner).set_params(share=1.0)
    refit = plain.copy()
    for _, gray, faces in photos.iter_photos():
        ok = faces[~np.isnan(plain[faces]).any(axis=1)]
        if len(ok):
            refit[ok] = whole.refine(gray, plain[ok]).reshape(len(ok), -1)
    layout = photos.layout
    ok = ~np.isnan(plain).any(axis=1)
    t, p, r = (a[ok].reshape(ok.sum(), -1, 2) for a in (photos.points, plain, refit))
    left, right = (list(e) for e in layout.eye_indices("inter-ocular"))
    iod = np.linalg.norm(t[:, right].mean(axis=1) - t[:, left].mean(axis=1), axis=1)[:, None]
    out = {}
    for part in refiner.parts_:
        idx = list(layout.region_indices(part["region"]))
        out[part["region"]] = (np.array([(np.linalg.norm(p[:, idx] + w * (r[:, idx] - p[:, idx]) - t[:, idx], axis=2)
                                          / iod).sum() for w in SHARE_GRID]), ok.sum() * len(idx))
    return out


def run_cv(args, log=print):
    from fkp_classic.datasets import fit_from_photos, load_kaggle, photo_cascade

    photos = load_300w(args.data)
    layout = photos.layout
    folds = photo_folds(photos, args.folds)
    for k, (_, test) in enumerate(folds):
        held = sorted(set(photos.subset[test]))
        if len(held) < 3:
            log(f"warning: fold {k} holds only {held}")
    faces96 = f96_folds = None
    if args.faces96 or args.faces96_check:
        faces96 = load_kaggle(args.faces96_data, layout="ibug68")
        f96_folds = faces96_folds(faces96)
    # The packaged face detector and verifier learnt from every 300-W training photo: a fold's test photos
    # need parts that never saw them (--face-detector, --verifier) for the end-to-end scores to be fair.
    from fkp_classic.persistence import load_model

    parts = {"face_detector": "hog" if args.face_detector is None else load_model(args.face_detector),
             "verifier": "default" if args.verifier is None else load_model(args.verifier)}
    rng = np.random.RandomState(0)
    rows, errors_by, shares = [], {}, {}
    for k in args.run_folds:
        train, test = folds[k]
        if args.max_train_photos:  # whole photos kept, so every face of a photo stays together
            keep = rng.permutation(np.unique(photos.groups[train]))[: args.max_train_photos]
            train = train[np.isin(photos.groups[train], keep)]
        if args.max_test_photos:
            keep = rng.permutation(np.unique(photos.groups[test]))[: args.max_test_photos]
            test = test[np.isin(photos.groups[test], keep)]
        tr, te = photos.take(train), photos.take(test)
        log(f"fold {k}: {tr.n_faces} training faces on {tr.n_photos} photos, {te.n_faces} test faces on "
            f"{te.n_photos} photos; subsets {dict(zip(*np.unique(te.subset, return_counts=True)))}")
        extra = None
        if faces96 is not None:
            f_train, f_test = f96_folds[k % 5]
            if args.faces96:
                if args.faces96_max:
                    f_train = np.sort(rng.permutation(f_train)[: args.faces96_max])
                extra = (faces96.data[f_train], faces96.target[f_train])
        clock = time.perf_counter()
        flip = {} if args.cascade_flip is None else {"flip": True, "flip_axis": None if args.cascade_flip == "centre"
                                                     else "auto"}
        params = {key: ast.literal_eval(value) for key, _, value in (p.partition("=") for p in args.param or [])}
        estimator = photo_cascade(args.size, layout, verbose=1, uncertainty=not args.quick, **flip, **params)
        cache = None if args.cache is None else Path(args.cache) / f"{args.name}_fold{k}.joblib"
        if cache is not None and cache.is_file():
            import joblib

            model = joblib.load(cache)
        else:
            model = fit_from_photos(
                tr, estimator=estimator, size=args.size, extra=extra, mirror=not args.no_mirror,
                n_perturbations=args.n_perturbations, rotation=args.rotation, blur=args.blur, contrast=args.contrast,
                brightness=args.brightness, framing_noise=tuple(args.framing_noise),
                jpeg_quality=None if args.jpeg is None else tuple(args.jpeg))
            if cache is not None:
                import joblib

                cache.parent.mkdir(parents=True, exist_ok=True)
                joblib.dump(model, cache)
        fit_seconds = time.perf_counter() - clock
        log(f"fold {k}: ours fitted in {fit_seconds:.0f} s")
        refiner = None
        if args.refine:
            cached = None if args.cache is None else Path(args.cache) / f"{args.name}_fold{k}_parts.joblib"
            refiner = fold_refiner(tr, cached, log=lambda m: log(f"fold {k}: {m}"))
        size, mean = args.size, model.mean_shape_
        results = {}
        e = _scores(te.points, true_framed(model, te, refiner), layout)
        results["ours, crops framed from the true points"] = (e, None)
        if refiner is not None:  # what the refiner buys and costs, in the same run
            plain, plain_sec = our_photo_path(model, te, **parts, refiner=None)
            plain = matched_points(plain, te, mean, size)
            results["ours, end to end, parts not refitted (refiner=None)"] = (_scores(te.points, plain, layout),
                                                                              plain_sec)
            shares[k] = share_errors(refiner, te, plain)
        ours, sec = our_photo_path(model, te, **parts, refiner=refiner)
        pred = matched_points(ours, te, mean, size)
        results["ours, end to end (HOG detector, photo path)"] = (_scores(te.points, pred, layout), sec)
        # the x bias of every point in the face's frame: what a wrong mirror axis teaches
        ok = ~np.isnan(pred).any(axis=1)
        eyes = layout.eye_indices()
        t = te.points[ok].reshape(ok.sum(), -1, 2)
        iod = np.linalg.norm(t[:, list(eyes[1])].mean(1) - t[:, list(eyes[0])].mean(1), axis=1)
        bias = ((pred[ok].reshape(ok.sum(), -1, 2) - t) / iod[:, None, None]).mean(axis=(0, 1))
        f96 = None
        if faces96 is not None and args.faces96_check:
            f96 = faces96_nme(model, faces96.data[f_test], faces96.target[f_test], layout)
        if not args.no_dlib:
            import face_recognition_models
            import dlib

            clock = time.perf_counter()
            dlib_cache = None if args.cache is None else Path(args.cache) / f"{args.name}_fold{k}_dlib.dat"
            if dlib_cache is not None and dlib_cache.is_file():
                predictor = dlib.shape_predictor(str(dlib_cache))
            else:
                predictor, _ = train_dlib(tr, mean, size, log=log)
                if dlib_cache is not None:
                    dlib_cache.parent.mkdir(parents=True, exist_ok=True)
                    predictor.save(str(dlib_cache))
            log(f"fold {k}: dlib fitted in {time.perf_counter() - clock:.0f} s")
            out, sec = dlib_photo_path(predictor, te)
            results["dlib shape predictor trained on the same folds (dlib detector)"] = (
                _scores(te.points, matched_points(out, te, mean, size), layout), sec)
            packaged = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
            out, sec = dlib_photo_path(packaged, te)
            results["dlib packaged 68-point model (trained on all of 300-W: a reference)"] = (
                _scores(te.points, matched_points(out, te, mean, size), layout), sec)
        for name, (e, sec) in results.items():
            e["subset"] = np.array([str(x).split("/")[-1] for x in te.subset])
            row = {"fold": k, "pipeline": name, **_summarise(e), "seconds_per_photo": sec}
            if name.startswith("ours, end to end (HOG"):
                row.update(x_bias=float(bias[0]), y_bias=float(bias[1]), fit_seconds=fit_seconds, faces96_nme=f96)
            rows.append(row)
            log(f"  {name}: " + ", ".join(f"{key} {v:.4f}" for key, v in row.items() if isinstance(v, float)))
            errors_by.setdefault(name, []).append(e)
    return rows, errors_by, shares


def share_report(shares):
    """Lines of the report on the refit's share by region (``shares``: :func:`share_errors` per fold)."""
    from fkp_classic.photo import PART_SHARES

    lines = ["", "The refit's share by region, on the end-to-end points without the refiner (`PartRefiner(share=)`: "
             "the face model's points moved that share of the way to the part model's). Mean point error over the "
             "outer eye corners' distance, pooled over the folds, and the best share of "
             f"{SHARE_GRID[0]:g}-{SHARE_GRID[-1]:g} by {SHARE_GRID[1]:g}, per fold and pooled:", "",
             "| region | best share per fold | pooled best | error at share 1 | at the pooled best | `PART_SHARES` | "
             "error there |", "|---|---|---|---|---|---|---|"]
    for region in next(iter(shares.values())):
        per_fold = [shares[k][region] for k in shares]
        pooled = sum(e for e, _ in per_fold) / sum(n for _, n in per_fold)
        best = [SHARE_GRID[np.argmin(e)] for e, _ in per_fold]
        default = PART_SHARES[region]
        at = pooled[np.argmin(np.abs(SHARE_GRID - default))]
        lines.append(f"| {region} | {', '.join(f'{b:g}' for b in best)} | {SHARE_GRID[np.argmin(pooled)]:g} | "
                     f"{pooled[-1]:.5f} | {pooled.min():.5f} | {default:g} | {at:.5f} |")
    return lines


def cv_report(rows, errors_by, args, path, shares=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fkp_classic.metrics import ced

    lines = [f"# 300-W training part, {args.folds}-fold cross-validation grouped by photo (folds {args.run_folds})",
             "", f"Command: `{' '.join(sys.argv)}`", "",
             f"Ours: 68-point cascade at {args.size}x{args.size}, mirrored photos {'off' if args.no_mirror else 'on'}, "
             f"cascade flip {args.cascade_flip or 'off'}, parts refitted: {args.refine}, "
             f"{args.n_perturbations} perturbed crops per face, framing noise {args.framing_noise}, rotation "
             f"{args.rotation} deg, faces96 added: {args.faces96}, cascade parameters {args.param or 'the default'}. "
             "Found: a face whose final crop square overlaps the true one with IoU >= 0.5; a miss counts as a "
             "failure. "
             f"Photo path's face detector: {args.face_detector or 'the packaged one'}; verifier: "
             f"{args.verifier or 'the packaged one'} (the packaged ones learnt from every 300-W training photo).", "",
             "The 300-W annotations are licensed for research and non-commercial use only.", "",
             "| fold | pipeline | faces | found | NME (eye corners) | NME (pupils) | AUC@0.08 | failures@0.08 | "
             "15-point NME (eye centres) | 15-point failures | s/photo |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sec = "" if r["seconds_per_photo"] is None else f"{r['seconds_per_photo']:.3f}"
        lines.append(f"| {r['fold']} | {r['pipeline']} | {r['faces']} | {r['found']:.1%} | {r['nme']:.4f} | "
                     f"{r['nme_pupils']:.4f} | {r['auc08']:.4f} | {r['failures08']:.1%} | {r['nme15']:.4f} | "
                     f"{r['failures15']:.1%} | {sec} |")
    # every run fold's test faces pooled, and each pipeline's ratio to the fair peer (same-data dlib)
    joined = {name: {key: np.concatenate([e[key] for e in errs]) for key in errs[0]} for name, errs in errors_by.items()}
    pooled = {name: _summarise(e) for name, e in joined.items()}
    peer = next((p for name, p in pooled.items() if name.startswith("dlib shape predictor trained")), None)
    lines += ["", f"Pooled over folds {args.run_folds}" + (" (ratio: to dlib trained on the same folds)" if peer else ""),
              "", "| pipeline | faces | found | NME | ratio | failures@0.08 | 15-point NME | ratio | 15-point failures |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, p in pooled.items():
        r68 = f"{p['nme'] / peer['nme']:.2f}x" if peer else ""
        r15 = f"{p['nme15'] / peer['nme15']:.2f}x" if peer else ""
        lines.append(f"| {name} | {p['faces']} | {p['found']:.1%} | {p['nme']:.4f} | {r68} | {p['failures08']:.1%} | "
                     f"{p['nme15']:.4f} | {r15} | {p['failures15']:.1%} |")
    # by subset: AFW's are whole photos with all their faces (the photo path's part (b)), HELEN's and LFPW's crops
    lines += ["", "By subset, pooled over the same folds (AFW: whole photos, every annotated face)", "",
              "| subset | pipeline | faces | found | NME | ratio | failures@0.08 |", "|---|---|---|---|---|---|---|"]
    for subset in sorted(set(next(iter(joined.values()))["subset"])):
        part = {name: _summarise({k: v[e["subset"] == subset] for k, v in e.items() if k != "subset"})
                for name, e in joined.items()}
        peer_s = next((p for name, p in part.items() if name.startswith("dlib shape predictor trained")), None)
        for name, p in part.items():
            ratio = f"{p['nme'] / peer_s['nme']:.2f}x" if peer_s else ""
            lines.append(f"| {subset} | {name} | {p['faces']} | {p['found']:.1%} | {p['nme']:.4f} | {ratio} | "
                         f"{p['failures08']:.1%} |")
    extra = [r for r in rows if "x_bias" in r]
    if extra:
        lines += ["", "| fold | ours: mean x bias | mean y bias (over eye-corner distance) | faces96 68-point NME | fit s |",
                  "|---|---|---|---|---|"]
        for r in extra:
            f96 = "" if r["faces96_nme"] is None else f"{r['faces96_nme']:.4f}"
            lines.append(f"| {r['fold']} | {r['x_bias']:+.4f} | {r['y_bias']:+.4f} | {f96} | {r['fit_seconds']:.0f} |")
    if shares:
        lines += share_report(shares)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, errs in errors_by.items():
        t, frac = ced(np.concatenate([e["nme"] for e in errs]))
        ax.plot(t, frac, label=name)
    ax.set_xlabel("NME (outer eye corners)"), ax.set_ylabel("fraction of faces"), ax.set_xlim(0, 0.1)
    ax.legend(fontsize=6), ax.grid(alpha=0.3)
    fig.savefig(path.with_suffix(".png"), dpi=90, bbox_inches="tight")
    plt.close(fig)
    lines += ["", f"![CED]({path.with_suffix('.png').name})"]
    return "\n".join(lines) + "\n"


def example_figure(model, photos, path, *, refiner=None, log=print):
    """The photo path on the test photo whose end-to-end NME is nearest the median: true and predicted points side by
    side (a typical face, not a chosen one)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size, mean = model.image_shape_[0], model.mean_shape_
    ours, _ = our_photo_path(model, photos, refiner=refiner)
    pred = matched_points(ours, photos, mean, size)
    e = _scores(photos.points, pred, photos.layout)["nme"]
    found = np.flatnonzero(np.isfinite(e))
    face = found[np.argmin(np.abs(e[found] - np.median(e[found])))]
    i = photos.photo_index[face]
    rgb = photos.read_photo(i, gray=False)
    true = photos.points[face].reshape(-1, 2)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.8))
    lo, hi = true.min(0), true.max(0)
    pad = 0.35 * (hi - lo).max()
    ours = (f"fkp's photo path, the fold's 68-point model{' and part refiner' if refiner is not None else ''} "
            f"(NME {e[face]:.3f})")
    for ax, pts, title, colour in ((axes[0], true, "iBUG's annotation", "lime"),
                                   (axes[1], pred[face].reshape(-1, 2), ours, "red")):
        ax.imshow(rgb, cmap="gray" if rgb.ndim == 2 else None)
        ax.plot(pts[:, 0], pts[:, 1], ".", color=colour, ms=4)
        ax.set_xlim(lo[0] - pad, hi[0] + pad), ax.set_ylim(hi[1] + pad, lo[1] - pad)
        ax.set_title(title, fontsize=9), ax.axis("off")
    fig.suptitle(f"{Path(photos.files[i]).parent.name}/{Path(photos.files[i]).name}: a photo the model never saw "
                 "(median end-to-end NME of its fold)", fontsize=9)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    log(f"wrote {path} (face {face}, NME {e[face]:.4f}, fold median {np.median(e[found]):.4f})")


def run_time(args, log=print):
    """Time per photo of the packaged photo path (what ``fkp detect --points 68`` runs, with and without the part
    refiner) and of dlib's detector (upsampled once) with dlib's packaged 68-point model, taken in turn on every
    photo, so that the machine's load weighs on all alike."""
    import dlib
    import face_recognition_models

    photos = load_300w(args.data)
    every = np.unique(photos.photo_index)
    chosen = every[np.linspace(0, len(every) - 1, min(args.photos, len(every))).astype(int)]
    grays = [photos.read_photo(i) for i in chosen]
    model = load_default_model(layout="ibug68")
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())

    def dlib_path(gray):
        return [predictor(gray, _dlib_rect(box)).parts() for box in _dlib_boxes(detector, gray)]

    pipelines = {"fkp detect --points 68 (part refiner on: the default)": KeypointDetector(model).detect_gray,
                 "fkp detect --points 68 --no-refine": KeypointDetector(model, refiner=None).detect_gray,
                 "dlib HOG detector (upsampled once) + dlib's packaged 68-point model": dlib_path}
    for run in pipelines.values():  # loaded and warm
        run(grays[0])
    seconds = {name: [] for name in pipelines}
    for repeat in range(args.repeats):
        for i, gray in enumerate(grays):
            first = (i + repeat) % len(pipelines)  # each goes first in turn
            order = list(pipelines)[first:] + list(pipelines)[:first]
            for name in order:
                clock = time.perf_counter()
                pipelines[name](gray)
                seconds[name].append(time.perf_counter() - clock)
        log(f"repeat {repeat + 1} of {args.repeats} done")
    dlib_mean = np.mean(seconds[list(pipelines)[-1]])
    rows = [{"pipeline": name, "ms_per_photo": 1e3 * float(np.mean(s)), "ratio_to_dlib": float(np.mean(s) / dlib_mean)}
            for name, s in seconds.items()]
    shapes = np.array([g.shape for g in grays])
    lines = ["# Time per photo: the packaged photo path against dlib's (300-W training photos)", "",
             f"Command: `{' '.join(sys.argv)}`", "",
             f"{len(grays)} photos spread over the 300-W training part ({shapes[:, 1].min()}-{shapes[:, 1].max()} "
             f"pixels wide, median {int(np.median(shapes[:, 1]))}), 8-bit gray, {args.repeats} repeats; the "
             "pipelines run in turn on each photo (each first in turn), so the machine's load weighs on all alike. "
             "Ours is the packaged photo path, as `fkp detect --points 68` runs it (face detector, 68-point model, "
             "verifier, part refiner); reading the photo is left out of every row.", "",
             "| pipeline | ms per photo | ratio to dlib's |", "|---|---|---|"]
    lines += [f"| {r['pipeline']} | {r['ms_per_photo']:.1f} | {r['ratio_to_dlib']:.2f}x |" for r in rows]
    return "\n".join(lines) + "\n", {"command": " ".join(sys.argv), "rows": rows, "photos": int(len(grays)),
                                      "repeats": args.repeats}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fr = sub.add_parser("framing", help="measure the face detector's box noise")
    fr.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "300w"))
    fr.add_argument("--every", type=int, default=1, help="measure every n-th photo")
    cv = sub.add_parser("cv", help="cross-validate on the 300-W training part")
    cv.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "300w"))
    cv.add_argument("--faces96-data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "faces96"))
    cv.add_argument("--folds", type=int, default=5)
    cv.add_argument("--run-folds", type=int, nargs="+", default=None, help="folds run (default: all)")
    cv.add_argument("--size", type=int, default=96)
    cv.add_argument("--no-mirror", action="store_true", help="no mirrored photos")
    cv.add_argument("--cascade-flip", choices=["auto", "centre"], default=None,
                    help="mirror the crops inside the cascade instead (flip=True, flip_axis 'auto' or the centre)")
    cv.add_argument("--n-perturbations", type=int, default=1)
    cv.add_argument("--framing-noise", type=float, nargs=2, default=[0.036, 0.11])
    cv.add_argument("--rotation", type=float, default=0.0)
    cv.add_argument("--blur", type=float, default=0.0)
    cv.add_argument("--contrast", type=float, default=0.0)
    cv.add_argument("--brightness", type=float, default=0.0)
    cv.add_argument("--jpeg", type=int, nargs=2, default=None)
    cv.add_argument("--faces96", action="store_true", help="add faces96's crops (68 points) to the training crops")
    cv.add_argument("--faces96-max", type=int, default=None, help="at most this many faces96 training crops")
    cv.add_argument("--faces96-check", action="store_true", help="also score on a faces96 fold's test people")
    cv.add_argument("--param", action="append", metavar="NAME=VALUE", help="a cascade parameter (a Python literal)")
    cv.add_argument("--no-dlib", action="store_true")
    cv.add_argument("--face-detector", default=None, metavar="FILE",
                    help="the photo path's face detector (a model file); the packaged one learnt from these photos")
    cv.add_argument("--verifier", default=None, metavar="FILE",
                    help="the photo path's face verifier (a model file); the packaged one learnt from these photos")
    cv.add_argument("--quick", action="store_true", help="no error model (uncertainty=False): a faster fit")
    cv.add_argument("--refine", action="store_true",
                    help="refit the parts with a part refiner fitted on the fold's training photos (as packaged)")
    cv.add_argument("--cache", default=None, help="folder to keep (and reuse) each fold's fitted model")
    cv.add_argument("--max-train-photos", type=int, default=None)
    cv.add_argument("--max-test-photos", type=int, default=None)
    cv.add_argument("--name", default="cv", help="output name in benchmarks/results/wild/")
    tm = sub.add_parser("time", help="time per photo of the packaged photo path against dlib's, taken in turn")
    tm.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "300w"))
    tm.add_argument("--photos", type=int, default=120, help="photos timed, spread over the data (default 120)")
    tm.add_argument("--repeats", type=int, default=2)
    ex = sub.add_parser("example", help="a typical test photo of a fold, true and predicted points side by side")
    ex.add_argument("model", help="the fold's model (a --cache file of 'cv', or a model file)")
    ex.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "300w"))
    ex.add_argument("--fold", type=int, default=0)
    ex.add_argument("--refiner", default=None, help="the fold's part refiner (a --cache file of 'cv --refine')")
    ex.add_argument("--folds", type=int, default=5)
    ex.add_argument("--max-test-photos", type=int, default=60, help="search this many of the fold's test photos")
    args = parser.parse_args(argv)
    from report import publish

    if args.command == "example":
        if args.model.endswith(".joblib"):
            import joblib  # a cache this script wrote

            model = joblib.load(args.model)
        else:
            from fkp_classic import load_model

            model = load_model(args.model)
        photos = load_300w(args.data)
        test = photo_folds(photos, args.folds)[args.fold][1]
        keep = np.random.RandomState(0).permutation(np.unique(photos.groups[test]))[: args.max_test_photos]
        refiner = None
        if args.refiner:
            import joblib  # a cache this script wrote (cv --refine)

            refiner = joblib.load(args.refiner)
        example_figure(model, photos.take(test[np.isin(photos.groups[test], keep)]), RESULTS / "example.png",
                       refiner=refiner)
        return

    if args.command == "time":
        text, payload = run_time(args)
        RESULTS.mkdir(parents=True, exist_ok=True)
        publish(RESULTS, "time", text, payload)
    elif args.command == "framing":
        photos = load_300w(args.data)
        model = load_default_model(layout="ibug68")
        m = measure_framing(photos, model, every=args.every)
        text, payload = framing_report(m)
        payload["command"] = " ".join(sys.argv)
        RESULTS.mkdir(parents=True, exist_ok=True)
        publish(RESULTS, "framing", text, payload)
    else:
        if args.run_folds is None:
            args.run_folds = list(range(args.folds))
        rows, errors_by, shares = run_cv(args, log=lambda m: print(m, flush=True))
        RESULTS.mkdir(parents=True, exist_ok=True)
        text = cv_report(rows, errors_by, args, RESULTS / args.name, shares)
        publish(RESULTS, args.name, text, {"command": " ".join(sys.argv), "rows": rows, "args": vars(args),
                                           "share_grid": SHARE_GRID.tolist(),
                                           "share_errors": {k: {region: [e.tolist(), n] for region, (e, n) in s.items()}
                                                            for k, s in shares.items()}})


if __name__ == "__main__":
    main()
