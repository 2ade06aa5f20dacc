"""Place the project's mean face in the unit square of a face chip the way dlib's ``get_face_chip`` places its own.

Writes fkp_classic/analysis/chip_reference.csv: the 68 iBUG points of the frontal view of
fkp_classic/analysis/mean_face_3d.csv (this project's mean face, see tools/fit_mean_face_3d.py)
in chip coordinates over the chip's side (padding 0), for ``face_chips(template="dlib")``.

The shape is ours; only where it sits in the chip (a similarity: scale, rotation, offset) is
measured from dlib: the mean face, drawn large (400 px between the outer eye corners, so that
dlib's integer points and half-pixel conventions are negligible), is given to
``dlib.get_face_chip_details(size=1000, padding=0)``, and the chip position of each point is read
from the chip's rectangle and angle. Needs the ``dlib`` Python package.

Usage: python tools/fit_chip_reference.py
"""

from pathlib import Path

import dlib
import numpy as np
import pandas as pd

from fkp_classic.analysis import mean_face_3d

OUT = Path(__file__).resolve().parents[1] / "fkp_classic" / "analysis" / "chip_reference.csv"
SIZE = 1000


def main():
    face = mean_face_3d("ibug68")[:, :2] * 400 + 1000
    pts = np.rint(face).astype(int)
    det = dlib.full_object_detection(dlib.rectangle(*pts.min(0), *pts.max(0)), [dlib.point(*p) for p in pts])
    chip = dlib.get_face_chip_details(det, size=SIZE, padding=0)
    rect = chip.rect
    centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
    scale = (rect.right() - rect.left()) / SIZE  # photo pixels per chip pixel
    c, s = np.cos(chip.angle), np.sin(chip.angle)
    d = (pts - centre) / scale
    inchip = np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]]) + SIZE / 2
    ref = inchip / SIZE
    names = [f"p{i}" for i in range(68)]
    pd.DataFrame(ref, index=names, columns=["x", "y"]).round(6).to_csv(OUT, index_label="name")
    span_x, span_y = (f"{ref[17:, i].min():.3f}..{ref[17:, i].max():.3f}" for i in (0, 1))
    print(f"angle {np.degrees(chip.angle):.3f} deg, inner points span x {span_x}, y {span_y}; wrote {OUT}")


if __name__ == "__main__":
    main()
