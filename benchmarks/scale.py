"""The scale benchmark, batch photo part: `fkp detect` over a folder of photos on 1 and 2 local processes.

    python benchmarks/scale.py --data ../shared/data [--publish]

Runs `fkp detect FOLDER --jsonl OUT` as a separate process (so its peak memory is its own) over the 3561
frames of ../shared/data/frames/images: once on one process, once with --jobs 2, once with --scheduler on a
Dask LocalCluster of 2 single-threaded worker processes started here (when Dask is installed; results
must be identical, line for line), and once on a tenth of the frames (a @list of every 10th), to show
that memory does not grow with the collection. Reports photos per second and peak resident memory (the largest of
the command and its worker processes, from getrusage). Writes scale.json and scale.md to a run folder
(benchmarks/runs/<time>/, or benchmarks/results/ with --publish).

Not yet here: the chunked, out-of-core fit (issue 19).
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

from fkp_classic.utils import atomic_write  # noqa: E402
from report import add_output_arguments, output_folder  # noqa: E402


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (frames/)")
    add_output_arguments(parser)
    args = parser.parse_args()
    out = output_folder(args)
    folder = Path(args.data) / "frames" / "images"
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
    lines = ["# Scale benchmark: batch photos", "",
             "`python benchmarks/scale.py --data ../shared/data` (one run, this machine, 2 cores).", "",
             "| run of `fkp detect --jsonl` | photos | seconds | photos / s | peak memory MiB |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {r['photos']} | {r['seconds']:.1f} | {r['photos_per_s']:.1f} | {r['peak_mib']:.0f} |"
              for name, r in rows.items()]
    cluster = [f"; the 2-worker LocalCluster at {r['photos_per_s'] / rows['all, 1 process']['photos_per_s']:.2f}x"
               for name, r in rows.items() if "Dask" in name]
    lines += ["", f"--jobs 2 runs at {speedup:.2f}x the single process's rate" + "".join(cluster) + "; their output is "
              f"{'identical to the single process' if identical else 'DIFFERENT'}, line for line. Peak memory over all "
              f"frames is {growth:.2f}x that over a tenth of them (the cluster's workers are not counted: nan)."]
    text = "\n".join(lines) + "\n"
    print(text)
    with atomic_write(out / "scale.md", "w") as fh:
        fh.write(text)
    with atomic_write(out / "scale.json", "w") as fh:
        json.dump({"runs": rows, "identical": identical, "speedup": speedup, "memory_growth": growth}, fh, indent=1)
    print(f"wrote {out / 'scale.md'} and scale.json")


if __name__ == "__main__":
    main()
