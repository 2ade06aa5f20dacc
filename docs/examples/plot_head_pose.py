"""
Head pose, eyes and mouth
=========================

The analysers of :mod:`fkp_classic.analysis` turn keypoints into what they
are used for. Here the packaged 68-point model finds the astronaut's face,
and :class:`~fkp_classic.analysis.HeadPose`, :class:`~fkp_classic.analysis.Eyes`
and :class:`~fkp_classic.analysis.Mouth` measure it: yaw, pitch and roll in
degrees, each eye's openness, the mouth's. The pose is drawn as the axes of
the 3D mean face fitted to the points (:func:`~fkp_classic.analysis.pose_axes`),
and :func:`~fkp_classic.analysis.face_chips` cuts the face out aligned, as
dlib's ``get_face_chip`` does.
"""

import matplotlib.pyplot as plt
from skimage import data

from fkp_classic import load_default_model
from fkp_classic.analysis import face_chips, make_analysers, pose_axes
from fkp_classic.photo import KeypointDetector
from fkp_classic.plotting import draw_faces

photo = data.astronaut()
detector = KeypointDetector(model=load_default_model(layout="ibug68"), analysers=make_analysers("pose,eyes,mouth"),
                            max_faces=1)
face = detector.detect(photo)[0]
pose = face.pose
print(f"yaw {pose['yaw']:.1f}, pitch {pose['pitch']:.1f}, roll {pose['roll']:.1f} degrees")
print(f"eye openness {face.eyes['openness']:.2f}, mouth openness {face.mouth['open']:.2f}")

# %%
# The pose axes: x towards the subject's left (red), y down (green), z into
# the head (blue).

x, y, w, h = face.box
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.5), width_ratios=(3, 2))
draw_faces(photo, [face], ax=left, legend=False, error_circles=False)
origin, ends = pose_axes(pose)
for end, colour in zip(ends, ("red", "lime", "blue")):
    left.annotate("", end, origin, arrowprops={"arrowstyle": "->", "color": colour, "lw": 2})
left.set_xlim(x - w / 2, x + 1.5 * w)
left.set_ylim(y + 1.5 * h, y - h / 2)
left.set_title(f"yaw {pose['yaw']:.0f}, pitch {pose['pitch']:.0f}, roll {pose['roll']:.0f} degrees", fontsize=9)
left.set_axis_off()

chip = face_chips(photo, [face])[0]
right.imshow(chip)
right.set_title(f"aligned chip, {chip.shape[1]}x{chip.shape[0]} px", fontsize=9)
right.set_axis_off()
plt.show()
