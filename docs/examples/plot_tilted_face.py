"""
A tilted face and its angle
===========================

The photo path finds heads tilted up to about 45 degrees as they come, and
says how far each is turned (``face.angle``, in degrees counterclockwise, as
:func:`skimage.transform.rotate` turns a photo). With ``rotations="all"`` it
also scans the photo turned by 90, 180 and 270 degrees, so a face at any
angle is found, at about four times the detector's time.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data
from skimage.transform import rotate

from fkp_classic.photo import detect_keypoints
from fkp_classic.plotting import draw_faces

photo = data.astronaut()[:300, 60:360]  # her head and shoulders
turns = [30, 150]
fig, axes = plt.subplots(1, len(turns), figsize=(9, 4.5))
for turn, ax in zip(turns, axes):
    tilted = (rotate(photo, turn, mode="edge") * 255).astype(np.uint8)
    rotations = None if turn <= 45 else "all"
    faces = detect_keypoints(tilted, rotations=rotations, max_faces=1)
    draw_faces(tilted, faces, ax=ax, legend=False)
    found = f"found at {faces[0].angle:.0f} degrees" if faces else "not found"
    ax.set_title(f"turned {turn} degrees, rotations={rotations!r}:\n{found}", fontsize=9)
    ax.set_axis_off()
    print(turn, found)
plt.show()
