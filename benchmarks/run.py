"""Cross-validated benchmark of every fkp_classic estimator (and dlib when installed).

    python benchmarks/run.py                       # $FKP_DATA, else embedded synthetic faces
    python benchmarks/run.py --data ../shared/data/faces96
    python benchmarks/run.py --quick               # small and fast
    python benchmarks/run.py --data PATH --submit  # also write submission.csv for the test set
    python benchmarks/run.py --data ../shared/data/faces96 --publish   # replace benchmarks/results/
    python benchmarks/run.py --data ../shared/data/faces96 --points 68   # the 68 iBUG points

Every estimator is scored on the same folds (GroupKFold by identity when groups are known),
and for each the pooled RMSE, its spread over folds, per-keypoint RMSE, the landmark field's NME
(over the eye centres' distance for 15 points, the outer eye corners' for 68, as 300-W), AUC of the
CED up to 0.08 and failure rate (NME > 0.10), fit time, predict throughput and peak fit memory are
reported, with ratios to the best row, and the CED curves drawn in one figure. With --points 68 the
targets are the 68 points of training_meta.csv, and the 15 Kaggle points the 68-point cascade defines
(eye centres = mean of six eye points, ...) are scored against a 15-point cascade on the same folds. Predict throughput
counts the fastest of three timed calls on each fold's test faces, for every estimator alike
(the machine's noise only ever slows a call down); the first call's throughput, which also pays
one-off costs such as starting threads, is kept in results.json. Results go to stdout and to a
run folder, benchmarks/runs/<date-time>/ by default (markdown, JSON, PNG figures; not tracked by
git); --publish writes them to benchmarks/results/ instead, the tables the README shows.
"""

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import skimage
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold

import fkp_classic
from fkp_classic import CascadeRegressor, KeypointRegressor, MeanKeypoints, MeanPatchTemplateSearch
from fkp_classic.estimators import DENSE_LAYOUT_PARAMS
from fkp_classic.datasets import DataError, load_kaggle, load_kaggle_test, load_lookup, make_faces, write_submission
from fkp_classic.features import HOGFeatures
from fkp_classic.keypoints import KAGGLE_15, get_layout, ibug68_to_kaggle15
from fkp_classic.metrics import ced_auc, failure_rate, nme, per_keypoint_rmse, rmse
from fkp_classic.utils import Progress, resolve_image_shape

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
import report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"  # what the README publishes: written only with --publish
RUNS = Path(__file__).resolve().parent / "runs"  # every other run, one folder each (ignored by git)
PREDICT_REPEATS = 3  # predict is timed this many times per fold and the fastest call counts


def library_estimators(quick, points=15):
    """Name -> unfitted estimator, weakest first (the cascade in its dense-layout settings at 68 points)."""
    if quick:
        cascade = CascadeRegressor(n_perturbations=1, cell_sizes=(10, 8), n_jobs=-1)
    elif points == 68:
        cascade = CascadeRegressor(**DENSE_LAYOUT_PARAMS, n_jobs=-1)
    else:
        cascade = CascadeRegressor(n_jobs=-1)
    mirrored = {}
    if not quick and points == 15:  # the packaged 15-point model's settings: mirror images about the measured axis
        mirrored = {"cascade, mirrored faces (flip=True)": CascadeRegressor(flip=True, layout=KAGGLE_15, n_jobs=-1)}
    return {
        "mean shape": MeanKeypoints(),
        "patch ridge": KeypointRegressor(features="patch", alpha=10.0),
        "HOG ridge (KeypointRegressor)": KeypointRegressor(),
        "template search from mean": MeanPatchTemplateSearch(search_radius=4 if quick else 6),
        "HOG ridge + template search": MeanPatchTemplateSearch(init=KeypointRegressor(), search_radius=3, cv=2),
        "cascade (CascadeRegressor)": cascade,
        **mirrored,
    }


class PeakMemory:
    """Peak resident memory (MiB) above the level at entry, sampled every 20 ms."""

    def __enter__(self):
        self.base = self.peak = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())
        self.used = self.peak - self.base


def _rss_mib():
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: fall back to the process-wide peak
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_data(args):
    """``(X, y, groups, description, path)``; synthetic faces when no data is given."""
    path = args.data or os.environ.get("FKP_DATA")
    if not path:
        if args.points == 68:
            raise DataError("--points 68 needs real data with its 68 points (--data ../shared/data/faces96)")
        n = 400 if args.quick else 1200
        if args.limit:  # --limit holds for the synthetic faces too
            n = min(n, args.limit)
        print(f"*** No data given (--data or FKP_DATA): running on {n} embedded synthetic faces. ***\n"
              f"*** Figures on synthetic faces say nothing about real ones. ***\n")
        X, y = make_faces(n, random_state=args.seed, return_X_y=True)
        return X, y, None, f"{n} synthetic faces (fkp_classic.datasets.make_faces)", None
    bunch = load_kaggle(path, layout="ibug68" if args.points == 68 else "kaggle15")
    groups = bunch.groups
    if args.groups:
        file, _, column = args.groups.rpartition(":")
        groups = pd.read_csv(file, usecols=[column])[column].to_numpy()
        if len(groups) != len(bunch.data):
            raise DataError(f"--groups {args.groups} has {len(groups)} rows but the data has {len(bunch.data)}")
    X, y = bunch.data, bunch.target
    y15 = load_kaggle(path, return_X_y=True)[1] if args.points == 68 else None  # the Kaggle labels of the same rows
    if args.limit and args.limit < len(X):
        keep = _subset(len(X), groups, args.limit, args.seed)
        X, y = X[keep], y[keep]
        groups = None if groups is None else groups[keep]
        y15 = None if y15 is None else y15[keep]
    args.kaggle15 = y15
    return X, y, groups, str(path) + (" (the 68 points of training_meta.csv)" if args.points == 68 else ""), path


def _subset(n, groups, limit, seed):
    """About ``limit`` rows, taking whole groups so grouped folds stay honest."""
    rng = np.random.default_rng(seed)
    if groups is None:
        return np.sort(rng.choice(n, limit, replace=False))
    keep = np.zeros(n, dtype=bool)
    for g in rng.permutation(pd.unique(groups)):
        if keep.sum() >= limit:
            break
        keep |= groups == g
    return np.flatnonzero(keep)


def make_folds(X, y, groups, n_folds, seed):
    if groups is not None:
        return list(GroupKFold(n_folds).split(X, y, groups)), f"{n_folds}-fold GroupKFold by identity ({len(pd.unique(groups))} groups)"
    folds = list(KFold(n_folds, shuffle=True, random_state=seed).split(X))
    return folds, f"{n_folds}-fold KFold (shuffled; no identity groups known, so near-duplicate faces may inflate scores)"


def _timed(predict, X, repeats=None):
    """Seconds of each of ``repeats`` (default ``PREDICT_REPEATS``) calls of ``predict(X)``, and the first call's output."""
    repeats = PREDICT_REPEATS if repeats is None else repeats
    seconds, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = predict(X)
        seconds.append(time.perf_counter() - t0)
        out = result if out is None else out
    return seconds, out


def with_layout(estimator, layout):
    """An unfitted copy of ``estimator`` told the keypoints' layout, and so is every estimator inside it (a
    template search's start), where they take one (a peer may not)."""
    model = clone(estimator)
    names = [k for k in model.get_params(deep=True) if k == "layout" or k.endswith("__layout")]
    return model.set_params(**dict.fromkeys(names, layout))


def evaluate(name, estimator, X, y, folds, progress, layout):
    """Fit and predict on every fold; pooled and per-fold figures."""
    pred = np.full_like(y, np.nan)
    fit_s, predict_s, first_s, fold_rmse, memory, predict_1thread_s = [], [], [], [], [], []
    stage_preds = None
    for i, (train, test) in enumerate(folds):
        model = with_layout(estimator, layout)
        progress(f"{name}: fold {i + 1}/{len(folds)}: fit on {len(train)} faces")
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            model.fit(X[train], y[train])
            fit_s.append(time.perf_counter() - t0)
        memory.append(mem.used)
        progress(f"{name}: fold {i + 1}/{len(folds)}: predict {len(test)} faces")
        # staged_predict does the same work as predict, keeping every stage
        predict = model.staged_predict if hasattr(model, "staged_predict") else model.predict
        seconds, out = _timed(predict, X[test])
        first_s.append(seconds[0])
        predict_s.append(min(seconds))
        if hasattr(model, "staged_predict"):
            pred[test] = out[-1]
            if stage_preds is None:
                stage_preds = [np.full_like(y, np.nan) for _ in out]
            for store, p in zip(stage_preds, out):
                store[test] = p
        else:
            pred[test] = out
        fold_rmse.append(rmse(y[test], pred[test]))
        if model.get_params().get("n_jobs") not in (None, 1):  # also time it on one thread
            model.set_params(n_jobs=1)
            predict_1thread_s.append(min(_timed(model.predict, X[test])[0]))
    row = {
        "name": name,
        "status": "ok",
        "estimator": repr(estimator),
        "rmse": rmse(y, pred),
        "rmse_fold_std": float(np.std(fold_rmse)),
        "rmse_folds": fold_rmse,
        "per_keypoint_rmse": per_keypoint_rmse(y, pred).tolist(),
        **landmark_scores(y, pred, layout),
        "fit_seconds": float(np.mean(fit_s)),
        "fit_seconds_folds": fit_s,
        "predict_faces_per_second": float(sum(len(t) for _, t in folds) / sum(predict_s)),
        "predict_faces_per_second_first_call": float(sum(len(t) for _, t in folds) / sum(first_s)),
        "predict_repeats": PREDICT_REPEATS,
        "peak_fit_memory_mib": float(max(memory)),
    }
    if predict_1thread_s:
        row["predict_faces_per_second_1thread"] = float(sum(len(t) for _, t in folds) / sum(predict_1thread_s))
    if stage_preds is not None:
        row["stages"] = [rmse(y, p) for p in stage_preds]
    return row, pred


def landmark_scores(y, pred, layout):
    """NME (inter-ocular: by the layout's eyes, the eye centres for Kaggle's 15, the outer eye corners for iBUG's 68),
    AUC@0.08/0.10, failures at 0.10."""
    errors = nme(y, pred, layout=layout)
    errors = errors[~np.isnan(errors)]
    return {"nme": float(errors.mean()), "auc_08": ced_auc(errors, threshold=0.08), "auc_10": ced_auc(errors, threshold=0.10),
            "failure_10": failure_rate(errors, threshold=0.10)}


def fifteen_from_68(X, y15, folds, pred68, progress):
    """The 15 Kaggle points from the 68-point predictions against a 15-point cascade on the same folds."""
    progress("15 points: the 15-point cascade on the same folds")
    pred15 = np.full_like(y15, np.nan)
    for train, test in folds:
        pred15[test] = CascadeRegressor(n_jobs=-1, layout=KAGGLE_15).fit(X[train], y15[train]).predict(X[test])
    out = {"15-point cascade": {"rmse": rmse(y15, pred15), **landmark_scores(y15, pred15, KAGGLE_15)}}
    for name, pred in pred68.items():
        derived = ibug68_to_kaggle15(pred)
        out[f"{name}, its 15 points"] = {"rmse": rmse(y15, derived), **landmark_scores(y15, derived, KAGGLE_15)}
    return out


def hog_speed(X, n_faces):
    """Batch HOG against a loop of skimage.feature.hog on the same faces and settings."""
    X = X[:n_faces]
    batch = HOGFeatures(transform_sqrt=False).fit(X)
    batch.transform(X[:8])  # warm the lookup tables
    t0 = time.perf_counter()
    ours = batch.transform(X)
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = peers.SkimageHOGLoop().transform(X)
    t_loop = time.perf_counter() - t0
    return {
        "n_faces": len(X),
        "batch_seconds": t_batch,
        "skimage_loop_seconds": t_loop,
        "speedup": t_loop / t_batch,
        "max_abs_difference": float(np.abs(ours - theirs).max()),
    }


def machine():
    import numpy

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": {"fkp_classic": fkp_classic.__version__, "numpy": numpy.__version__,
                     "scikit-learn": sklearn.__version__, "scikit-image": skimage.__version__},
    }
    ok, _ = peers.dlib_status()
    if ok:
        import dlib

        info["versions"]["dlib"] = dlib.__version__
    return info


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="training.csv/.zip, the competition zip, or a folder (default: $FKP_DATA)")
    parser.add_argument("--groups", metavar="FILE:COLUMN", help="identity per row for GroupKFold (default: training_meta.csv's person)")
    parser.add_argument("--quick", action="store_true", help="small, fast configuration (about a minute)")
    parser.add_argument("--folds", type=int, help="number of folds (default 5, 3 with --quick)")
    parser.add_argument("--limit", type=int, help="use about this many faces (whole identities)")
    parser.add_argument("--estimators", help="comma-separated substrings: run only matching estimators")
    parser.add_argument("--no-dlib", action="store_true", help="skip dlib even when it is installed")
    parser.add_argument("--submit", action="store_true", help="fit the best estimator on all data and write submission.csv")
    parser.add_argument("--out", help="results folder (default: a new benchmarks/runs/<date-time>/)")
    parser.add_argument("--publish", action="store_true",
                        help="write to benchmarks/results/ (results/ibug68/ with --points 68), the tables the README "
                             "shows (use with --data)")
    parser.add_argument("--points", type=int, choices=(15, 68), default=15,
                        help="the keypoints: 15 (Kaggle's, default) or 68 (iBUG's, from training_meta.csv)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick and args.limit is None:
        args.limit = 1000
    if args.folds is None:
        args.folds = 3 if args.quick else 5
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.publish and args.out:
        print("error: --publish writes benchmarks/results/; give either it or --out", file=sys.stderr)
        return 2
    published = RESULTS / "ibug68" if args.points == 68 else RESULTS  # the 68-point tables beside the 15-point ones
    out = published if args.publish else Path(args.out) if args.out else RUNS / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    print(f"Results will be written to {out}/")
    progress = Progress()
    try:
        X, y, groups, description, data_path = load_data(args)
    except (DataError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    layout = get_layout("ibug68" if args.points == 68 else "kaggle15")  # synthetic faces are Kaggle's 15 points
    folds, cv_description = make_folds(X, y, groups, args.folds, args.seed)
    print(f"Data: {description}: {len(X)} faces, {np.isnan(y).any(axis=1).sum()} with missing keypoints. "
          f"Cross-validation: {cv_description}.")
    candidates = dict(library_estimators(args.quick, args.points))
    dlib_ok, dlib_reason = peers.dlib_status()
    if args.quick:
        dlib_ok, dlib_reason = False, "skipped with --quick (a dlib fit takes minutes)"
    elif args.no_dlib:
        dlib_ok, dlib_reason = False, "skipped with --no-dlib"
    candidates["dlib shape predictor"] = peers.DlibShapePredictor() if dlib_ok else None
    if args.estimators:
        wanted = [w.strip().lower() for w in args.estimators.split(",")]
        candidates = {k: v for k, v in candidates.items() if any(w in k.lower() for w in wanted)}
    rows, predictions = [], {}
    for name, estimator in candidates.items():
        if estimator is None:
            rows.append({"name": name, "status": "skipped", "reason": dlib_reason})
            continue
        row, pred = evaluate(name, estimator, X, y, folds, progress, layout)
        rows.append(row)
        predictions[name] = pred
    progress("HOG speed: batch vs skimage loop")
    speed = hog_speed(X, min(len(X), 300 if args.quick else 1000))
    progress.done()
    report.add_ratios(rows)
    keypoint_names = list(layout.names)
    if args.points == 68:
        ours = {k: v for k, v in predictions.items() if "cascade" in k or "dlib" in k}
        fifteen = fifteen_from_68(X, args.kaggle15, folds, ours, progress)
        progress.done()
    result = {
        "machine": machine(),
        "command": "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "data": {"description": description, "n_samples": len(X), "n_missing_rows": int(np.isnan(y).any(axis=1).sum()),
                 "groups": None if groups is None else int(len(pd.unique(groups))), "synthetic": data_path is None},
        "cv": {"description": cv_description, "n_folds": len(folds), "test_sizes": [len(t) for _, t in folds]},
        "keypoint_names": keypoint_names,
        "estimators": rows,
        "hog_speed": speed,
    }
    if args.points == 68:
        result["fifteen_from_68"] = fifteen
    text = report.markdown(result)
    print(text.partition("\n")[2].lstrip("\n"))  # its first line repeats the "Data:" line printed at the start
    ok = [r for r in rows if r["status"] == "ok"]
    best = min(ok, key=lambda r: r["rmse"])
    result["best"] = best["name"]
    report.figure_rmse(result, out / "rmse.png")
    report.figure_per_keypoint(result, out / "per_keypoint_rmse.png")
    report.figure_ced(y, predictions, out / "ced.png", "68 iBUG points" if args.points == 68 else "15 Kaggle points", layout)
    report.figure_faces(X.reshape(len(X), *resolve_image_shape(X.shape[1])), y, predictions[best["name"]], best["name"], out / "faces.png")
    if args.submit:
        result["submission"] = sub = submit(candidates[best["name"]], X, y, data_path, out, progress, layout)
        if sub:
            text += (f"\nFit of {best['name']} on all {sub['n_train']} faces (for the submission): "
                     f"{sub['fit_seconds']:.1f} s.\n")
    report.write_json(result, out / "results.json")
    with report.atomic_write(out / "results.md", "w") as fh:
        fh.write(f"# Benchmark\n\n`{result['command']}` on {result['date']} "
                 f"({result['machine']['cpus']} CPUs, {result['machine']['platform']}).\n\n{text}")
    print(f"Results in {out}/ (results.md, results.json, rmse.png, per_keypoint_rmse.png, ced.png, faces.png).")
    return 0


def submit(estimator, X, y, data_path, out, progress, layout):
    """Fit on all training faces and write a Kaggle submission for the test set beside them."""
    if data_path is None:
        print("--submit needs real data (--data): no test set beside synthetic faces.", file=sys.stderr)
        return None
    data_path = Path(data_path)
    folder = data_path if data_path.is_dir() else data_path.parent
    try:
        test, lookup = load_kaggle_test(data_path), data_path
        load_lookup(lookup)
    except DataError:  # e.g. --data training.zip: the test files sit beside it
        test, lookup = load_kaggle_test(folder), folder
    progress("submission: fit on all faces")
    t0 = time.perf_counter()
    model = with_layout(estimator, layout).fit(X, y)
    fit_seconds = time.perf_counter() - t0
    progress("submission: predict test faces")
    pred = model.predict(test.data)
    progress.done()
    path = out / "submission.csv"
    write_submission(pred, image_ids=test.image_ids, lookup=lookup, path=path)
    print(f"Wrote {path} ({len(test.image_ids)} test faces) with {type(model).__name__}, "
          f"fitted on all {len(X)} training faces in {fit_seconds:.1f} s.")
    return {"path": str(path), "estimator": type(model).__name__, "n_train": len(X), "fit_seconds": fit_seconds}


if __name__ == "__main__":
    sys.exit(main())
