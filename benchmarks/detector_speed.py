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
    add_output_arguments(parser)
    args = parser.parse_args()
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
    report = "\n".join(lines) + "\n"
    print(report)
    with atomic_write(out / "detector_speed.md", "w") as fh:
        fh.write(report)
    payload = {"ms_per_frame": {k: 1000 * v for k, v in per_frame.items()}, "upright_ratio": upright,
               "any_angle_ratio": anywhere, "frames": len(photos),
               "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with atomic_write(out / "detector_speed.json", "w") as fh:
        json.dump(payload, fh, indent=1)
    print(f"wrote {out / 'detector_speed.md'} and {out / 'detector_speed.json'}")


if __name__ == "__main__":
    main()
