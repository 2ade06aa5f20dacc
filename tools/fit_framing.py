"""Fit the LBP face detector's box-to-crop transform (fkp_classic.photo.LBPFaceDetector.framing) on faces96.

    python tools/fit_framing.py --data ../shared/data/faces96 [--n 600]

Pastes training faces into larger canvases at random scales and places, runs the LBP face
detector, fits the transform from detection box to crop on half the faces, and checks on the
other half that the mean keypoints of detector-framed crops match the training means.
"""

import argparse

import numpy as np

from fkp_classic.datasets import load_kaggle
from fkp_classic.evaluation import fit_framing, framed_mean_offset


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--n", type=int, default=600)
    args = parser.parse_args()
    bunch = load_kaggle(args.data)
    pick = np.random.default_rng(0).choice(len(bunch.data), args.n, replace=False)
    fit, check = pick[: args.n // 2], pick[args.n // 2 :]
    framing, found = fit_framing(bunch.data[fit], bunch.target[fit])
    print(f"FRAMING = ({framing[0]:.4f}, {framing[1]:.4f}, {framing[2]:.4f})  # from {found} detected faces")
    offset, checked = framed_mean_offset(bunch.data[check], bunch.target[check], framing, random_state=1)
    print(f"held-out check on {checked} detected faces: max |mean keypoint offset| = {np.abs(offset).max():.2f} px")


if __name__ == "__main__":
    main()
