"""Drawing keypoints at the photo's own resolution, with region colours; face grids."""

import numpy as np
import pytest
from PIL import Image
from skimage import data

from fkp_classic.keypoints import IBUG_68, KAGGLE_15, keypoint_regions
from fkp_classic.photo import Face
from fkp_classic.plotting import REGION_COLOURS, draw_faces, face_grid, save_annotated


def _face():
    points = np.array([[12.0 + 12 * k, 30.0] for k in range(15)])  # 12 px apart: no dot or circle overlaps
    return Face((10, 10, 80, 80), points, layout=KAGGLE_15, point_std=np.full((15, 2), 2.0), track_id=7)


def test_drawing_keeps_the_photo_size_and_colours_each_region():
    for photo in (np.zeros((120, 200, 3), np.uint8), np.zeros((120, 200)), np.zeros((120, 200, 4), np.uint16)):
        drawn = np.asarray(draw_faces(photo, [_face()], legend=False))
        assert drawn.shape == (120, 200, 3)
        # the nose tip (keypoint 10) is drawn in the nose colour, at its own pixel
        assert tuple(drawn[30, 132]) == REGION_COLOURS["nose"]
        assert tuple(drawn[30, 12]) == REGION_COLOURS["eyes"]
        assert tuple(drawn[30, 180]) == REGION_COLOURS["mouth"]


def test_regions_of_both_layouts():
    kaggle = keypoint_regions(KAGGLE_15)
    assert kaggle[6] == "eyebrows" and kaggle[10] == "nose" and kaggle[14] == "mouth"
    ibug = keypoint_regions(IBUG_68)
    assert ibug[8] == "jaw" and ibug[30] == "nose" and ibug[40] == "eyes" and ibug[60] == "mouth"


def test_save_annotated_writes_the_format_of_the_suffix(tmp_path):
    save_annotated(data.astronaut(), [_face()], path=tmp_path / "a.jpg")
    with Image.open(tmp_path / "a.jpg") as image:
        assert image.format == "JPEG" and image.size == (512, 512)


def test_face_grid_draws_true_and_predicted_points():
    images = np.zeros((3, 96, 96), np.uint8)
    y = np.tile(np.linspace(10, 80, 30), (3, 1))
    fig = face_grid(images, true=y, pred=y + 1, n_cols=2)
    assert len(fig.axes) == 4 and len(fig.axes[0].collections) == 2 and not fig.axes[3].collections


def test_error_circles_are_drawn_at_the_90_percent_radius_on_request():
    photo = np.zeros((120, 200, 3), np.uint8)
    face = _face()  # point_std 2 px: a circle of radius 1.645 * 2 = 3.3 px around each point
    with_circles = np.asarray(draw_faces(photo, [face], legend=False, radius=1))
    without = np.asarray(draw_faces(photo, [face], legend=False, radius=1, error_circles=False))
    nose = (30, 132)  # keypoint 10
    ring = with_circles[nose[0] - 5 : nose[0] + 6, nose[1] - 5 : nose[1] + 6].any(axis=2)
    assert ring.sum() > (without[nose[0] - 5 : nose[0] + 6, nose[1] - 5 : nose[1] + 6].any(axis=2)).sum() + 8
    assert not with_circles[nose[0], nose[1] + 5].any()  # nothing beyond the circle
    assert (with_circles[nose[0], nose[1] + 3] == REGION_COLOURS["nose"]).all()  # on the circle


def test_drawing_options_are_keywords_checked_by_name():
    images = np.zeros((2, 8, 8), np.uint8)
    y = np.full((2, 2), 4.0)
    with pytest.warns(FutureWarning, match="pass true, pred as keyword arguments: face_grid takes 1"):
        face_grid(images, y, y)
    with pytest.raises(ValueError, match="The 'n_cols' parameter of face_grid must be an int in the range"):
        face_grid(images, n_cols=0)
    with pytest.raises(ValueError, match="The 'radius' parameter of draw_faces"):
        draw_faces(images[0], [], radius=0)
