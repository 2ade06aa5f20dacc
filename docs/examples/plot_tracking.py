"""
Tracking a face through frames
==============================

:class:`~fkp_classic.video.FaceTracker` follows faces through the frames of a
video: the first frame goes through the photo path, the next ones refine each
face from its previous keypoints (no face detector), and the points are
smoothed over time. Here the frames are made on the spot: the camera pans
and turns across the astronaut. A real video comes from
:func:`~fkp_classic.video.read_video` (a file, a URL, a camera).
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data
from skimage.transform import rotate

from fkp_classic.plotting import draw_faces
from fkp_classic.video import FaceTracker

photo = data.astronaut()[:320, 40:360]
frames = [(rotate(np.roll(photo, 3 * i, axis=1), i, mode="edge") * 255).astype(np.uint8) for i in range(12)]

tracker = FaceTracker(min_score=1.0)
tracked = []
for index, frame in enumerate(frames):
    faces = tracker.update(frame, time_s=index / 25)
    tracked.append(faces)
print(f"{len(frames)} frames, {tracker.n_detections} run(s) of the face detector")

# %%
# Every fourth frame, with the track id over each face:

shown = range(0, len(frames), 4)
fig, axes = plt.subplots(1, len(shown), figsize=(10, 3.6))
for index, ax in zip(shown, axes):
    draw_faces(frames[index], tracked[index], ax=ax, legend=False, error_circles=False)
    ax.set_title(f"frame {index}", fontsize=9)
    ax.set_axis_off()
plt.show()

# %%
# The nose tip's path through the frames, as the tracker gives it:

nose = np.array([faces[0].keypoints["nose_tip"] for faces in tracked if faces])
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(nose[:, 0], label="x")
ax.plot(nose[:, 1], label="y")
ax.set_xlabel("frame")
ax.set_ylabel("photo pixels")
ax.legend()
plt.show()
