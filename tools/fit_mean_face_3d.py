"""Learn the 3D mean face shipped in fkp_classic/analysis/mean_face_3d.csv from annotated video frames.

Rigid factorisation (Tomasi & Kanade 1992) of the 68 iBUG points of every frame of
``<data>/frames/frames.csv`` (frame pixels; many frames per person turning their head):

1. centre each frame's points (removes the translation of scaled orthography);
2. the 2F x 68 measurement matrix has rank 3 for a rigid shape: its best rank-3
   factorisation W = M S (SVD), known up to an invertible 3 x 3 Q;
3. metric upgrade: L = Q Q^T (symmetric, 6 unknowns) from the linear constraints that
   each frame's two rows of M Q are orthogonal and of equal length (scaled orthography),
   fixed in scale by the mean row length; Q from L's eigen-decomposition;
4. the mirror (depth) ambiguity, S and its reflection through the image plane fitting the
   frames equally: the reflection is chosen in which the nose tip (p30) lies in front of
   the outer eye corners (p36, p45), i.e. nearer the camera;
5. a canonical frame: the mean of the frames' rotations becomes the identity (the people
   of YouTube Faces look at the camera on average), then the left-right axis is turned
   onto x (the normal of the face's plane of symmetry, from the layout's flip pairs) and
   the shape is made exactly symmetric (mean of it and its mirror image);
6. units: the outer eye corner distance (p36 to p45) is 1; origin at the shape's centroid.

Different people's faces are one "rigid" shape here: the factorisation gives their mean
shape (the non-rigid part is averaged out), which is what a pose solver wants.

Axes of the written model (camera coordinates of a frontal face): x towards the image's
right (the subject's left), y down, z away from the camera (into the head).

Usage: python tools/fit_mean_face_3d.py --data ../shared/data
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_classic.keypoints import get_layout

OUT = Path(__file__).resolve().parents[1] / "fkp_classic" / "analysis" / "mean_face_3d.csv"


def _rows(a, b):
    # coefficients of the 6 unknowns of symmetric L in a^T L b
    return np.stack([a[:, 0] * b[:, 0], a[:, 0] * b[:, 1] + a[:, 1] * b[:, 0], a[:, 0] * b[:, 2] + a[:, 2] * b[:, 0],
                     a[:, 1] * b[:, 1], a[:, 1] * b[:, 2] + a[:, 2] * b[:, 1], a[:, 2] * b[:, 2]], axis=1)


def factorise(points):
    """Rigid factorisation of points (F, K, 2): shape (K, 3) and rotations (F, 3, 3), frame of the SVD."""
    n_frames, k, _ = points.shape
    centred = points - points.mean(axis=1, keepdims=True)
    w = centred.transpose(0, 2, 1).reshape(2 * n_frames, k)  # rows x_f, y_f
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    m = u[:, :3] * np.sqrt(s[:3])
    shape = np.sqrt(s[:3])[:, None] * vt[:3]
    a, b = m[0::2], m[1::2]
    eqs = np.concatenate([_rows(a, a) - _rows(b, b), _rows(a, b)])
    rhs = np.zeros(len(eqs))
    # fix the scale: the mean of the squared row lengths is 1
    eqs = np.concatenate([eqs, ((_rows(a, a) + _rows(b, b)) / 2).mean(axis=0, keepdims=True) * len(eqs)])
    rhs = np.concatenate([rhs, [len(eqs) - 1]])
    l6 = np.linalg.lstsq(eqs, rhs, rcond=None)[0]
    big_l = np.array([[l6[0], l6[1], l6[2]], [l6[1], l6[3], l6[4]], [l6[2], l6[4], l6[5]]])
    vals, vecs = np.linalg.eigh(big_l)
    if vals.min() <= 0:
        print(f"warning: metric upgrade not positive definite (eigenvalues {vals}); clipping")
        vals = np.clip(vals, 1e-9 * vals.max(), None)
    q = vecs * np.sqrt(vals)
    m = m @ q
    shape = np.linalg.solve(q, shape).T  # (K, 3)
    # per-frame rotations: the two rows normalised, third row their cross product
    r1 = m[0::2] / np.linalg.norm(m[0::2], axis=1, keepdims=True)
    r2 = m[1::2] - (m[1::2] * r1).sum(axis=1, keepdims=True) * r1
    r2 /= np.linalg.norm(r2, axis=1, keepdims=True)
    rot = np.stack([r1, r2, np.cross(r1, r2)], axis=1)
    return shape, rot


def canonical(shape, rot, layout):
    nose, eyes = layout.indices(["p30"])[0], layout.indices(["p36", "p45"])
    # the reflection (z -> -z) in which the nose is nearer the camera than the outer eye corners
    cam = np.einsum("fij,kj->fki", rot, shape)  # each frame's camera-frame shape
    in_front = np.mean(cam[:, nose, 2] < cam[:, list(eyes), 2].mean(axis=1))
    if in_front < 0.5:
        flip = np.diag([1.0, 1.0, -1.0])
        shape = shape @ flip  # reflect the shape; rotations reflect with it: R' = F R F
        rot = flip @ rot @ flip
        in_front = 1 - in_front
    print(f"nose in front of the eyes in {in_front:.1%} of frames")
    # the mean rotation becomes the identity: shape in the camera frame of the mean pose
    u, _, vt = np.linalg.svd(rot.mean(axis=0))
    mean_rot = u @ np.diag([1, 1, np.linalg.det(u @ vt)]) @ vt
    shape = shape @ mean_rot.T
    # left-right axis onto x
    perm = layout.flip_permutation
    d = shape - shape[perm]
    side = np.sign(np.array([1.0 if n in {a for a, _ in layout.flip_pairs} else -1.0 for n in layout.names]))
    axis = (d * side[:, None])[perm != np.arange(len(perm))].sum(axis=0)
    axis /= np.linalg.norm(axis)
    if axis @ (shape[eyes[1]] - shape[eyes[0]]) < 0:
        axis = -axis
    x = np.array([1.0, 0.0, 0.0])
    v, c = np.cross(axis, x), axis @ x
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    turn = np.eye(3) + vx + vx @ vx / (1 + c)  # the smallest rotation taking axis to x
    shape = shape @ turn.T
    mirror = shape[perm] * np.array([-1.0, 1.0, 1.0])
    shape = (shape + mirror) / 2
    shape -= shape.mean(axis=0)
    return shape / np.linalg.norm(shape[eyes[1]] - shape[eyes[0]])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    table = pd.read_csv(Path(args.data) / "frames" / "frames.csv")
    layout = get_layout("ibug68")
    points = table[[c for n in layout.names for c in (f"{n}_x", f"{n}_y")]].to_numpy(float).reshape(len(table), 68, 2)
    # the jaw contour slides over the cheek as the head turns: not a rigid point, left out of the factorisation
    rigid = np.arange(17, 68)
    shape_r, rot = factorise(points[:, rigid])
    # the jaw points: each frame's affine camera known, their 3D positions by least squares
    cent = points - points.mean(axis=1, keepdims=True)
    scale = np.linalg.norm(cent[:, rigid], axis=(1, 2)) / np.linalg.norm(shape_r - shape_r.mean(0))
    cams = rot[:, :2] * scale[:, None, None]  # (F, 2, 3)
    offset = points[:, rigid].mean(axis=1) - np.einsum("fij,j->fi", cams, shape_r.mean(0))
    a = cams.reshape(-1, 3)
    shape = np.empty((68, 3))
    shape[rigid] = shape_r
    for k in range(17):
        b = (points[:, k] - offset).reshape(-1)
        shape[k] = np.linalg.lstsq(a, b, rcond=None)[0]
    resid = points - offset[:, None] - np.einsum("fij,kj->fki", cams, shape)
    eye = np.linalg.norm(points[:, 45] - points[:, 36], axis=1)
    print(f"{len(table)} frames; rms residual {np.sqrt((resid[:, rigid] ** 2).sum(-1).mean() / 1) / eye.mean():.3f} "
          "of the eye distance (non-jaw points)")
    shape = canonical(shape, rot, layout)
    pd.DataFrame(shape, index=list(layout.names), columns=["x", "y", "z"]).round(5).to_csv(args.out, index_label="name")
    print(f"wrote {args.out}")
    print("nose tip", shape[30].round(3), "outer eye corners", shape[36].round(3), shape[45].round(3))


if __name__ == "__main__":
    main()
