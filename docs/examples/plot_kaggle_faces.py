"""
Keypoints on Kaggle-format faces
================================

The estimators take 96x96 grayscale faces as flat rows (``X`` of shape
``(n, 9216)``) and give the 15 keypoints as ``y`` of shape ``(n, 30)``, as in
Kaggle's "Facial Keypoints Detection". Here a
:class:`~fkp_classic.estimators.KeypointRegressor` (HOG features and ridge
regression) is fitted on the faces of 40 people of faces96 and shown on people
it has never seen, with :func:`~fkp_classic.plotting.face_grid`.

The data is read from ``$FKP_DATA``, else from ``shared/data/faces96`` in a
folder above the project's (``../shared/data/faces96``); without either, the example runs on synthetic faces
(:func:`~fkp_classic.datasets.make_faces`) and says so.
"""

import os
from pathlib import Path

import numpy as np

from fkp_classic import KeypointRegressor, get_layout
from fkp_classic.datasets import load_kaggle, make_faces
from fkp_classic.metrics import rmse
from fkp_classic.plotting import face_grid

here = Path.cwd().resolve()  # the project, or a folder in it (the gallery runs in docs/examples)
beside = [folder / "shared" / "data" / "faces96" for folder in here.parents]
path = os.environ.get("FKP_DATA") or next((p for p in beside if p.exists()), "../shared/data/faces96")
if Path(path).exists():
    faces = load_kaggle(path)
    X, y = faces.data, faces.target
    groups = faces.groups if faces.groups is not None else np.arange(len(X)) // 10  # people, from training_meta.csv
    print(f"faces96: {len(X)} faces of {len(np.unique(groups))} people")
else:
    X, y = make_faces(600, random_state=0, return_X_y=True)
    groups = np.arange(len(X)) // 10
    print(f"no faces96 at {path}: {len(X)} synthetic faces")

# %%
# Fit on 40 people, test on 8 faces of people left out (faces of one person
# are near-duplicates, so a random split would flatter the model).

people = np.unique(groups)
train = np.isin(groups, people[:40])
test = np.flatnonzero(np.isin(groups, people[-8:]))[::5][:8]
model = KeypointRegressor(layout=get_layout("kaggle15")).fit(X[train], y[train])
predicted = model.predict(X[test])
print(f"fitted on {train.sum()} faces; RMSE on unseen people: {rmse(y[test], predicted):.2f} px")

fig = face_grid(X[test], true=y[test], pred=predicted, n_cols=4, size=2)
fig
