"""
Keypoints on a photo
====================

:func:`~fkp_classic.photo.detect_keypoints` finds the faces of a photo and their
15 Kaggle keypoints with the packaged models: the HOG face detector, the
keypoint cascade and the verifier that scores each face. Here on
scikit-image's astronaut; :func:`~fkp_classic.plotting.draw_faces` draws what
it found, coloured by face region, on a matplotlib axes.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data

from fkp_classic.photo import detect_keypoints
from fkp_classic.plotting import draw_faces

photo = data.astronaut()
faces = detect_keypoints(photo)  # the packaged parts are loaded once per process
for face in faces:
    print(f"box {np.round(face.box)}, score {face.score:.2f}, nose tip {np.round(face.keypoints['nose_tip'], 1)}")

# %%
# The faces come surest first: her face scores well above the rest, face-like
# patches of the photo (her name patch, the shuttle model) that the verifier
# doubts; ``min_score`` (default 0.3) sets where to stop. Each point is circled
# with its 90% interval, from the keypoint model's own error estimate.

fig, ax = plt.subplots(figsize=(6, 6))
draw_faces(photo, faces, ax=ax)
ax.set_axis_off()
plt.show()

# %%
# The same result as the JSON record ``fkp detect --json`` writes:

record = faces[0].to_dict()
print({key: record[key] for key in ("box", "score", "expected_nme", "angle")})
