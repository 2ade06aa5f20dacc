"""The scale benchmark: batch photos on 1 and 2 processes, and the chunked (out-of-core) fit at 1x, 4x and 16x faces96.

    python benchmarks/scale.py --data ../shared/data [--publish] [--part photos|fit|all]

Photos: runs `fkp detect FOLDER --jsonl OUT` as a separate process (so its peak memory is its own) over the 3561
frames of ../shared/data/frames/images: once on one process, once with --jobs 2, once with --scheduler on a
Dask LocalCluster of 2 single-threaded worker processes started here (when Dask is installed; results
must be identical, line for line), and once on a tenth of the frames (a @list of every 10th), to show
that memory does not grow with the collection. Reports photos per second and peak resident memory (the largest of
the command and its worker processes, from getrusage).

Fit: the default CascadeRegressor on the faces96 people outside GroupKFold fold 0, grown to 4x and 16x by copies
of every face under a random similarity (fkp_classic.evaluation.JitteredFaces, made chunk by chunk on every pass, 500
faces a chunk), each fit in a fresh process: `fit_chunked` on one process at 1x, 4x and 16x, `fit` on all faces in
memory at 1x and 4x (16x would need about 10 GiB), and `fit_chunked` on a 2-worker LocalCluster at 4x. Reports
seconds, peak memory (the process's, and the cluster workers' largest), the error on fold 0's unseen people, and
how far each chunked model's predictions are from the in-memory fit's (relative to the largest coordinate).

Writes scale.json and scale.md to a run folder (benchmarks/runs/<time>/, or benchmarks/results/ with --publish).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import add_output_arguments, output_folder, publish  # noqa: E402


def _fkp_detect(inputs, out, jobs, scheduler=None):
    """Run `fkp detect` in a fresh process: seconds, and the peak RSS (MiB) of the command and its workers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    extra = ["--scheduler", scheduler] if scheduler else []
    done = subprocess.run([sys.executable, "-m", "fkp_classic", "detect", *inputs, "--jsonl", str(out),
                           "--jobs", str(jobs), *extra], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"fkp detect failed ({done.returncode}): {done.stderr.strip()}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024  # ru_maxrss is the largest child so far, in KiB (Linux)


def photo_part(data):
    """The batch-photo runs: markdown lines and a JSON summary."""
    folder = Path(data) / "frames" / "images"
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tenth = tmp / "tenth.txt"
        tenth.write_text("\n".join(str(p) for p in photos[::10]) + "\n")
        runs = {}
        # The small run goes first: getrusage keeps the largest child so far, so its peak is its own.
        runs["a tenth, 1 process"] = (*_fkp_detect([f"@{tenth}"], tmp / "tenth.jsonl", 1), len(photos[::10]))
        runs["all, 1 process"] = (*_fkp_detect([str(folder)], tmp / "one.jsonl", 1), len(photos))
        runs["all, --jobs 2"] = (*_fkp_detect([str(folder)], tmp / "two.jsonl", 2), len(photos))
        outputs = ["two.jsonl"]
        try:
            from dask.distributed import LocalCluster
        except ImportError:
            print("Dask not installed: no LocalCluster run (pip install -e '.[dask]')")
        else:
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                seconds, _ = _fkp_detect([str(folder)], tmp / "dask.jsonl", 1, cluster.scheduler_address)
            runs["all, Dask LocalCluster of 2 workers (--scheduler)"] = (seconds, float("nan"), len(photos))
            outputs.append("dask.jsonl")
        identical = all((tmp / "one.jsonl").read_bytes() == (tmp / name).read_bytes() for name in outputs)
    rows = {name: {"seconds": s, "peak_mib": m, "photos": n, "photos_per_s": n / s} for name, (s, m, n) in runs.items()}
    speedup = rows["all, --jobs 2"]["photos_per_s"] / rows["all, 1 process"]["photos_per_s"]
    growth = rows["all, 1 process"]["peak_mib"] / rows["a tenth, 1 process"]["peak_mib"]
    lines = ["## Batch photos", "",
             "| run of `fkp detect --jsonl` | photos | seconds | photos / s | peak memory MiB |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {r['photos']} | {r['seconds']:.1f} | {r['photos_per_s']:.1f} | {r['peak_mib']:.0f} |"
              for name, r in rows.items()]
    cluster = [f"; the 2-worker LocalCluster at {r['photos_per_s'] / rows['all, 1 process']['photos_per_s']:.2f}x"
               for name, r in rows.items() if "Dask" in name]
    lines += ["", f"--jobs 2 runs at {speedup:.2f}x the single process's rate" + "".join(cluster) + "; their output is "
              f"{'identical to the single process' if identical else 'DIFFERENT'}, line for line. Peak memory over all "
              f"frames is {growth:.2f}x that over a tenth of them (the cluster's workers are not counted: nan).", ""]
    return lines, {"runs": rows, "identical": identical, "speedup": speedup, "memory_growth": growth}


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fit_child(data, how, copies, predictions):
    """One fit in this (fresh) process; prints a JSON line: seconds, peak memory, error on unseen people."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from fkp_classic import CascadeRegressor
    from fkp_classic.datasets import load_kaggle
    from fkp_classic.evaluation import JitteredFaces

    faces = load_kaggle(Path(data) / "faces96")
    train, test = next(GroupKFold(5).split(faces.data, faces.target, faces.groups))
    source = JitteredFaces(faces.data[train], faces.target[train], copies, chunk_size=500)
    workers_peak = float("nan")
    start = time.perf_counter()
    if how == "memory":
        X, y = map(np.concatenate, zip(*source))
        model = CascadeRegressor(layout=faces.layout).fit(X, y)
        del X, y
    elif how == "chunked":
        model = CascadeRegressor(layout=faces.layout).fit_chunked(source)
    else:
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                model = CascadeRegressor(layout=faces.layout).fit_chunked(source, client=client)
                peaks = client.run(_peak_mib)
                workers_peak = max(peaks.values())
    seconds = time.perf_counter() - start
    pred = model.predict(faces.data[test])
    np.save(predictions, pred)
    rmse = float(np.sqrt(np.nanmean((pred - faces.target[test]) ** 2)))
    print(json.dumps({"faces": len(source), "seconds": seconds, "peak_mib": _peak_mib(),
                      "workers_peak_mib": workers_peak, "rmse": rmse}))


def fit_part(data):
    """The fit runs, each in a fresh process: markdown lines and a JSON summary."""
    import numpy as np

    plan = [("chunked", 1), ("memory", 1), ("chunked", 4), ("memory", 4), ("chunked", 16)]
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("Dask not installed: no LocalCluster fit (pip install -e '.[dask]')")
    else:
        plan.append(("cluster", 4))
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for how, copies in plan:
            saved = Path(tmp) / f"{how}{copies}.npy"
            print(f"fit: {how}, {copies}x", flush=True)
            done = subprocess.run([sys.executable, __file__, "--data", data, "--fit-child", how, str(copies), str(saved)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"the {how} fit at {copies}x failed: {done.stderr.strip()[-2000:]}")
            runs[how, copies] = json.loads(done.stdout.strip().splitlines()[-1])
            runs[how, copies]["pred"] = np.load(saved)
    for (how, copies), run in runs.items():
        reference = runs.get(("memory", copies), {}).get("pred")
        if how != "memory" and reference is not None:
            run["max_relative_difference"] = float(np.abs(run["pred"] - reference).max() / np.abs(reference).max())
    names = {"chunked": "fit_chunked, 1 process", "memory": "fit, in memory", "cluster": "fit_chunked, LocalCluster of 2"}
    lines = ["## Fitting: CascadeRegressor on faces96 (fold 0's training people) grown by jittered copies", "",
             "| run | copies | faces | seconds | peak memory MiB (process) | (cluster workers, largest) "
             "| RMSE on fold 0's unseen people | predictions vs in-memory fit |", "|---|---|---|---|---|---|---|---|"]
    for (how, copies), r in runs.items():
        diff = r.get("max_relative_difference")
        lines.append(f"| {names[how]} | {copies}x | {r['faces']} | {r['seconds']:.1f} | {r['peak_mib']:.0f} | "
                     f"{r['workers_peak_mib']:.0f} | {r['rmse']:.4f} | "
                     + ("-" if diff is None else f"{diff:.1e} relative") + " |")
    growth = runs["chunked", 16]["peak_mib"] / runs["chunked", 4]["peak_mib"]
    diffs = [r["max_relative_difference"] for r in runs.values() if "max_relative_difference" in r]
    lines += ["", f"Chunked fit: peak memory from 4x to 16x the faces grows {growth:.2f}x; "
              f"{runs['chunked', 4]['seconds'] / runs['memory', 4]['seconds']:.2f}x the in-memory fit's time at 4x "
              f"({runs['chunked', 4]['peak_mib'] / runs['memory', 4]['peak_mib']:.2f}x its memory); its predictions "
              f"differ from the in-memory fit's by at most {max(diffs):.1e} of the largest coordinate."]
    if ("cluster", 4) in runs:
        lines[-1] += (f" On the 2-worker LocalCluster it takes "
                      f"{runs['cluster', 4]['seconds'] / runs['chunked', 4]['seconds']:.2f}x the one-process time at 4x.")
    summary = {f"{how} {copies}x": {k: v for k, v in r.items() if k != "pred"} for (how, copies), r in runs.items()}
    return lines + [""], {"runs": summary, "memory_growth_4x_to_16x": growth, "max_relative_difference": max(diffs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (frames/, faces96/)")
    parser.add_argument("--part", choices=["photos", "fit", "all"], default="all", help="which part to run (default all)")
    parser.add_argument("--fit-child", nargs=3, metavar=("HOW", "COPIES", "NPY"), help=argparse.SUPPRESS)
    add_output_arguments(parser)
    args = parser.parse_args()
    if args.fit_child:
        how, copies, saved = args.fit_child
        return fit_child(args.data, how, int(copies), saved)
    out = output_folder(args)
    lines = ["# Scale benchmark", "",
             f"`python benchmarks/scale.py --data ../shared/data --part {args.part}` (one run, this machine, 2 cores).", ""]
    summary = {}
    if args.part in ("photos", "all"):
        more, summary["photos"] = photo_part(args.data)
        lines += more
    if args.part in ("fit", "all"):
        more, summary["fit"] = fit_part(args.data)
        lines += more
    publish(out, "scale", "\n".join(lines), summary)


if __name__ == "__main__":
    main()
