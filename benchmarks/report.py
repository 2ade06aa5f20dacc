"""Benchmark output: markdown tables, the JSON record and the PNG figures."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fkp_classic.plotting import face_grid  # noqa: E402
from fkp_classic.utils import atomic_write  # noqa: E402


def _ratio(value, best):
    return value / best if best and np.isfinite(value) and np.isfinite(best) else float("nan")


def add_ratios(rows):
    """Ratio of each figure to the best row's: the row with the lowest RMSE."""
    scored = [r for r in rows if r["status"] == "ok"]
    if not scored:
        return
    best = min(scored, key=lambda r: r["rmse"])
    keys = ("rmse", "fit_seconds", "predict_faces_per_second", "peak_fit_memory_mib")
    for r in scored:
        r["ratios"] = {k: _ratio(r[k], best[k]) for k in keys}


def _best(result):
    ok = [r for r in result["estimators"] if r["status"] == "ok"]
    return min(ok, key=lambda r: r["rmse"])["name"] if ok else "none"


def markdown(result):
    """The summary table, the per-keypoint table and the HOG speed line, as markdown."""
    lines = [
        f"Data: {result['data']['description']} ({result['data']['n_samples']} faces); "
        f"{result['cv']['description']}. Ratios are to the most accurate row ({_best(result)}), "
        "measured in this one run.",
        "",
        "| estimator | RMSE px | fold s.d. | RMSE / best | NME | AUC@0.08 | failures (NME > 0.10) "
        "| fit s (mean/fold) | fit / best | predict faces/s | speed / best | peak fit MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["estimators"]:
        if r["status"] != "ok":
            lines.append(f"| {r['name']} | skipped: {r['reason']} | | | | | | | | | | |")
            continue
        q = r["ratios"]
        lines.append(
            f"| {r['name']} | {r['rmse']:.3f} | {r['rmse_fold_std']:.3f} | {q['rmse']:.2f} | "
            f"{r['nme']:.4f} | {r['auc_08']:.3f} | {r['failure_10']:.1%} | "
            f"{r['fit_seconds']:.1f} | {q['fit_seconds']:.1f} | {r['predict_faces_per_second']:.0f} | "
            f"{q['predict_faces_per_second']:.2f} | {r['peak_fit_memory_mib']:.0f} |"
        )
    names = result["keypoint_names"]
    ok = [r for r in result["estimators"] if r["status"] == "ok"]
    lines += ["", "Per-keypoint RMSE (px):", "", "| keypoint | " + " | ".join(r["name"] for r in ok) + " |",
              "|---|" + "---|" * len(ok)]
    for k, name in enumerate(names):
        lines.append(f"| {name} | " + " | ".join(f"{r['per_keypoint_rmse'][k]:.2f}" for r in ok) + " |")
    hog = result.get("hog_speed")
    if hog:
        lines += ["", f"HOG extraction on {hog['n_faces']} faces: batch HOGFeatures {hog['batch_seconds']:.2f} s, "
                  f"loop of skimage.feature.hog {hog['skimage_loop_seconds']:.2f} s: "
                  f"**{hog['speedup']:.1f}x** faster (max abs difference {hog['max_abs_difference']:.1e})."]
    lines += ["", f"NME: mean point error over the distance between the {_normaliser(len(names))}; AUC@0.08: area "
              "under the cumulative error distribution up to NME 0.08, over 0.08."]
    lines += peer_comparison(ok)
    fifteen = result.get("fifteen_from_68")
    if fifteen:
        lines += ["", "The 15 Kaggle points, scored against faces96's 15 labels on the same folds:", "",
                  "| model | RMSE px | NME | AUC@0.08 |", "|---|---|---|---|"]
        lines += [f"| {name} | {f['rmse']:.3f} | {f['nme']:.4f} | {f['auc_08']:.3f} |" for name, f in fifteen.items()]
    for r in ok:
        if r.get("stages"):
            stages = ", ".join(f"{s:.3f}" for s in r["stages"])
            lines += ["", f"{r['name']}: pooled RMSE after each stage (start first): {stages}."]
    return "\n".join(lines) + "\n"


def _normaliser(n_keypoints):
    return "outer eye corners (as 300-W)" if n_keypoints == 68 else "eye centres"


def peer_comparison(rows, ours="cascade (CascadeRegressor)", peer="dlib shape predictor"):
    """Lines comparing the cascade with dlib, when both ran: the issue's targets as ratios of this run."""
    by_name = {r["name"]: r for r in rows}
    if ours not in by_name or peer not in by_name:
        return []
    a, b = by_name[ours], by_name[peer]
    lines = ["", f"{ours} against {peer}, same folds, same run:", "",
             f"- RMSE: {a['rmse']:.3f} vs {b['rmse']:.3f} px, ratio **{a['rmse'] / b['rmse']:.3f}**",
             f"- NME: {a['nme']:.4f} vs {b['nme']:.4f}, ratio **{a['nme'] / b['nme']:.3f}**; AUC@0.08 "
             f"{a['auc_08']:.3f} vs {b['auc_08']:.3f}; failures {a['failure_10']:.1%} vs {b['failure_10']:.1%}",
             f"- predict throughput: {a['predict_faces_per_second']:.0f} vs {b['predict_faces_per_second']:.0f} faces/s, "
             f"ratio **{a['predict_faces_per_second'] / b['predict_faces_per_second']:.2f}x** (fastest of "
             f"{a['predict_repeats']} calls per fold; first calls: {a['predict_faces_per_second_first_call']:.0f} vs "
             f"{b['predict_faces_per_second_first_call']:.0f}, ratio {a['predict_faces_per_second_first_call'] / b['predict_faces_per_second_first_call']:.2f}x)"]
    if "predict_faces_per_second_1thread" in a:
        single = a["predict_faces_per_second_1thread"]
        lines.append(f"- predict throughput on one thread (dlib predicts one face at a time on one): {single:.0f} faces/s, "
                     f"ratio **{single / b['predict_faces_per_second']:.2f}x**")
    lines.append(f"- fit per fold: {a['fit_seconds']:.1f} vs {b['fit_seconds']:.1f} s, "
                 f"ratio **{a['fit_seconds'] / b['fit_seconds']:.3f}**; peak fit memory {a['peak_fit_memory_mib']:.0f} "
                 f"vs {b['peak_fit_memory_mib']:.0f} MiB")
    worse = [k for k, (x, z) in enumerate(zip(a["per_keypoint_rmse"], b["per_keypoint_rmse"])) if x >= z]
    lines.append(f"- keypoints where the cascade is not better: {worse if worse else 'none'}")
    return lines


def write_json(result, path):
    with atomic_write(path, "w") as fh:
        json.dump(result, fh, indent=1, default=_jsonable)
        fh.write("\n")


def publish(out, name, text, payload):
    """Print a benchmark's report and write it to ``out/<name>.md``, its figures to ``out/<name>.json``
    (each atomically: a failed run leaves the last published files whole)."""
    print(text)
    with atomic_write(out / f"{name}.md", "w") as fh:
        fh.write(text)
    write_json(payload, out / f"{name}.json")
    print(f"wrote {out / name}.md and {name}.json")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _save(fig, path):
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def _data_title(result):
    """The figure title: what the data and the folds were, and a warning in red when the faces were synthetic."""
    data = result["data"]
    synthetic = data.get("synthetic", "synthetic" in data["description"])  # results.json before the key
    title = f"{data['description']} ({data['n_samples']} faces); {result['cv']['description']}"
    return ("SYNTHETIC faces, which say nothing about real ones: " if synthetic else "") + title, synthetic


def figure_rmse(result, path):
    """Each estimator's RMSE, its fold s.d. as an error bar, its value written clear of the bar."""
    ok = [r for r in result["estimators"] if r["status"] == "ok"]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(ok) + 1.4))
    names = [r["name"] for r in ok]
    ends = [r["rmse"] + r["rmse_fold_std"] for r in ok]
    ax.barh(names, [r["rmse"] for r in ok], xerr=[r["rmse_fold_std"] for r in ok], color="tab:blue", alpha=0.8,
            error_kw=dict(ecolor="black", capsize=3, lw=1))
    pad = 0.015 * max(ends)
    for i, (r, end) in enumerate(zip(ok, ends)):  # past the error bar's end, so the bar never crosses the number
        ax.text(end + pad, i, f"{r['rmse']:.2f}", va="center")
    ax.set_xlim(0, 1.12 * max(ends))
    ax.invert_yaxis()
    ax.set_xlabel("pooled cross-validated RMSE (px); error bars: s.d. over folds")
    title, synthetic = _data_title(result)
    ax.set_title(title, fontsize=9, color="tab:red" if synthetic else "black", wrap=True)
    _save(fig, path)


def figure_per_keypoint(result, path):
    """Each estimator's RMSE per keypoint; the key beside the plot, where it hides no point."""
    ok = [r for r in result["estimators"] if r["status"] == "ok"]
    names = result["keypoint_names"]
    fig, ax = plt.subplots(figsize=(10 if len(names) <= 20 else 16, 4))
    for r in ok:
        ax.plot(range(len(names)), r["per_keypoint_rmse"], marker="o", markersize=4 if len(names) > 20 else 6,
                label=r["name"])
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60 if len(names) <= 20 else 90, ha="right" if len(names) <= 20 else "center",
                       fontsize=8 if len(names) <= 20 else 7)
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_ylabel("RMSE (px)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    ax.grid(alpha=0.3)
    title, synthetic = _data_title(result)
    ax.set_title(title, fontsize=9, color="tab:red" if synthetic else "black")
    _save(fig, path)


def figure_ced(y_true, predictions, path, what, layout):
    """The cumulative error distribution (NME) of every estimator, in one figure."""
    from fkp_classic.metrics import ced, ced_auc, nme

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, pred in predictions.items():
        errors = nme(y_true, pred, layout=layout)
        thresholds, fraction = ced(errors, thresholds=np.linspace(0, 0.15, 151))
        ax.plot(thresholds, fraction, label=f"{name} (AUC@0.08 {ced_auc(errors, threshold=0.08):.3f})")
    ax.set_xlabel(f"NME ({what}, over the {_normaliser(y_true.shape[1] // 2)} distance)")
    ax.set_ylabel("fraction of faces")
    ax.set_xlim(0, 0.15)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    _save(fig, path)


def figure_faces(images, y_true, y_pred, title, path, n_each=6):
    """The best and worst predicted faces, with true (green) and predicted (red) keypoints."""
    err = np.sqrt(np.nanmean((y_true - y_pred) ** 2, axis=1))
    order = np.argsort(err)
    picks = list(order[:n_each]) + list(order[::-1][:n_each])
    fig = face_grid(images[picks], true=y_true[picks], pred=y_pred[picks], n_cols=n_each, size=2.0,
                    titles=[f"{err[i]:.2f} px" for i in picks])  # with its key of true and predicted under the faces
    fig.suptitle(f"{title}: best (top) and worst (bottom) held-out faces", fontsize=10, y=1, va="bottom")  # above
    _save(fig, path)


def add_output_arguments(parser):
    """The ``--out`` and ``--publish`` options every benchmark script takes."""
    parser.add_argument("--out", default=None, help="run folder (default benchmarks/runs/<time>)")
    parser.add_argument("--publish", action="store_true", help="write to benchmarks/results/")


def output_folder(args):
    """The folder a run writes to (made if missing): ``--out``, benchmarks/results with ``--publish``, else a new run folder."""
    from datetime import datetime

    here = Path(__file__).resolve().parent
    out = Path(args.out) if args.out else (
        here / "results" if args.publish else here / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    return out

