"""Time per frame of the photo path with the packaged face detector, against an earlier detector file.

    git show d092711:fkp_classic/models/face_detector.skops > /tmp/face_detector_before.skops
    python benchmarks/detector_speed.py --data ../shared/data --before /tmp/face_detector_before.skops [--publish]

The photo benchmark's frames (every STEP-th of ../shared/data/frames, as RGB) go through the whole photo
path (packaged keypoint model and verifier) with three face detectors, taking turns on each frame so
that the machine's load weighs on all alike: the earlier detector (upright filters only), the packaged
one searching upright (the default: heads tilted up to about 50 degrees) and the packaged one with
``rotations="all"``. Each is run REPEATS times per frame and its best time kept. Writes
detector_speed.md and .json to a run folder (benchmarks/runs/<time>/, or benchmarks/results/ with
--publish).

With ``--then TREE`` (a checkout of an earlier commit, e.g. ``git worktree add /tmp/then b1b8638``, the
code when issue 34 was filed), the whole default photo path (``KeypointDetector().detect``, each
version's own packaged models) is also timed as a user meets it then and now: two worker processes, one
importing fkp_classic from TREE and one from this checkout, take the same frames in turn, ten at a time.
"""

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fkp_classic.datasets import load_frames  # noqa: E402
from fkp_classic.persistence import load_model  # noqa: E402
from fkp_classic.photo import KeypointDetector, as_face_detector  # noqa: E402
from fkp_classic.utils import atomic_write  # noqa: E402
from report import add_output_arguments, output_folder  # noqa: E402

STEP = 10
"""Every STEP-th frame is timed."""
REPEATS = 3
"""Runs per frame and detector; the fastest counts."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (frames/)")
    parser.add_argument("--before", required=True, help="the earlier face detector's model file (.skops)")
    parser.add_argument("--then", default=None, metavar="TREE",
                        help="a checkout of earlier code: also time the whole default photo path then and now")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one side of --then
    add_output_arguments(parser)
    args = parser.parse_args()
    if args.worker:
        return _worker(args.data)
    out = output_folder(args)
    frames = load_frames(Path(args.data) / "frames", gray=False)
    photos = frames.images[::STEP]
    before = load_model(args.before)
    packaged = as_face_detector("hog")
    searches = {
        "earlier detector (upright filters only)": KeypointDetector(face_detector=before),
        "packaged detector, upright search (default)": KeypointDetector(face_detector=packaged),
        'packaged detector, rotations="all"': KeypointDetector(face_detector=packaged, rotations="all"),
    }
    for search in searches.values():  # loaded and warmed up before the clock runs
        search.detect(photos[0])
    seconds = {name: [] for name in searches}
    for photo in photos:
        for name, search in searches.items():
            best = np.inf
            for _ in range(REPEATS):
                start = time.perf_counter()
                search.detect(photo)
                best = min(best, time.perf_counter() - start)
            seconds[name].append(best)
    per_frame = {name: float(np.mean(values)) for name, values in seconds.items()}
    names = list(searches)
    upright = per_frame[names[1]] / per_frame[names[0]]
    anywhere = per_frame[names[2]] / per_frame[names[1]]
    lines = [
        "## Photo path time per frame: the packaged face detector against the earlier one",
        "",
        f"`python benchmarks/detector_speed.py --data ../shared/data --before EARLIER.skops` "
        f"({len(photos)} frames of ../shared/data/frames, every {STEP}th; best of {REPEATS} runs per frame, "
        f"the detectors taking turns; one run, this machine).",
        "",
        "| face detector | ms / frame |",
        "|---|---|",
    ] + [f"| {name} | {1000 * value:.2f} |" for name, value in per_frame.items()] + [
        "",
        f"- upright search: {upright:.2f}x the earlier detector's time (target <= 1.2x)",
        f"- rotations=\"all\": {anywhere:.2f}x the upright search's time (target <= 4x)",
    ]
    then = None
    if args.then:
        then = _then_and_now(args.data, args.then, len(frames.images), STEP)
        lines += [
            "",
            "## The whole default photo path, then and now",
            "",
            f"`--then {args.then}` (the code of commit {then['commit']}): `KeypointDetector().detect` with each "
            f"version's own packaged models, on the same {then['frames']} frames, best of {REPEATS} runs per frame, "
            "two worker processes taking the frames in turn, ten at a time.",
            "",
            "| code | ms / frame |",
            "|---|---|",
            f"| then ({then['commit']}) | {then['then_ms']:.2f} |",
            f"| now | {then['now_ms']:.2f} |",
            "",
            f"- now: {then['now_ms'] / then['then_ms']:.2f}x the time per frame then (target for the upright "
            "search: <= 1.2x)",
        ]
    report = "\n".join(lines) + "\n"
    print(report)
    with atomic_write(out / "detector_speed.md", "w") as fh:
        fh.write(report)
    payload = {"ms_per_frame": {k: 1000 * v for k, v in per_frame.items()}, "upright_ratio": upright,
               "any_angle_ratio": anywhere, "frames": len(photos), "then_and_now": then,
               "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with atomic_write(out / "detector_speed.json", "w") as fh:
        json.dump(payload, fh, indent=1)
    print(f"wrote {out / 'detector_speed.md'} and {out / 'detector_speed.json'}")


def _worker(data):
    """One side of ``--then``: the default photo path of whichever fkp_classic this process imports; frame
    indices in on stdin (a line at a time), each frame's best time in ms out. Uses only what every version has."""
    frames = load_frames(Path(data) / "frames", gray=False)
    search = KeypointDetector()
    search.detect(frames.images[0])  # loaded and warm
    print("ready", flush=True)
    for line in sys.stdin:
        times = []
        for i in map(int, line.split()):
            best = np.inf
            for _ in range(REPEATS):
                start = time.perf_counter()
                search.detect(frames.images[i])
                best = min(best, time.perf_counter() - start)
            times.append(1000 * best)
        print(" ".join(f"{t:.4f}" for t in times), flush=True)


def _then_and_now(data, tree, n_frames, step, chunk=10):
    """Mean ms per frame of the default photo path in a worker importing fkp_classic from ``tree`` and in one
    importing this checkout's, taking every ``step``-th of ``n_frames`` frames in turn, ``chunk`` at a time."""
    import os
    import subprocess

    here = Path(__file__).resolve().parents[1]
    tree = Path(tree).resolve()
    if not (tree / "fkp_classic" / "__init__.py").is_file():
        raise SystemExit(f"--then {tree}: no fkp_classic package there (give a checkout of the repository)")
    commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    workers = {}
    for side, root in (("then", tree), ("now", here)):
        env = dict(os.environ, PYTHONPATH=str(root), OPENBLAS_NUM_THREADS="1")
        workers[side] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--data", str(Path(data)
                                          .resolve()), "--before", "unused", "--worker"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env=env, cwd=str(root))
    try:
        for side, worker in workers.items():
            if worker.stdout.readline().strip() != "ready":
                raise SystemExit(f"the {side} worker did not start (run it alone to see why)")
        index = np.arange(0, n_frames, step)
        times = {side: [] for side in workers}
        for k, start in enumerate(range(0, len(index), chunk)):
            line = " ".join(map(str, index[start:start + chunk])) + "\n"
            for side in (list(workers) if k % 2 == 0 else list(workers)[::-1]):  # each goes first in turn
                workers[side].stdin.write(line)
                workers[side].stdin.flush()
                times[side] += [float(t) for t in workers[side].stdout.readline().split()]
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait()
    return {"commit": commit, "frames": len(times["now"]), "then_ms": float(np.mean(times["then"])),
            "now_ms": float(np.mean(times["now"]))}


if __name__ == "__main__":
    main()
