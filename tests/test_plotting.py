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
    ring_pixel = with_circles[nose[0], nose[1] + 3] / np.array(REGION_COLOURS["nose"])
    assert 0.3 < ring_pixel.min() and ring_pixel.max() < 0.8 and np.ptp(ring_pixel) < 0.05  # the nose colour, faint


def test_drawing_options_are_keywords_checked_by_name():
    images = np.zeros((2, 8, 8), np.uint8)
    y = np.full((2, 2), 4.0)
    with pytest.warns(FutureWarning, match="pass true, pred as keyword arguments: face_grid takes 1"):
        face_grid(images, y, y)
    with pytest.raises(ValueError, match="The 'n_cols' parameter of face_grid must be an int in the range"):
        face_grid(images, n_cols=0)
    with pytest.raises(ValueError, match="The 'radius' parameter of draw_faces"):
        draw_faces(images[0], [], radius=0)


def _gray_photo(width, height, value=128):
    return np.full((height, width, 3), value, np.uint8)


def _legend_height(drawn, value=128):
    """Rows that the legend's dark backing box covers, in the photo's top-left quarter."""
    height, width = drawn.shape[:2]
    return int((drawn[: height // 2, : width // 2].max(axis=2) < value * 0.6).any(axis=1).sum())


def test_the_legend_grows_with_the_photo_on_a_dark_box():
    face = _face()
    face.track_id = None  # no label box: the legend's is the only one
    tiny = np.asarray(draw_faces(_gray_photo(200, 150), [face], error_circles=False))
    assert 4 * 12 < _legend_height(tiny) < 90  # four regions, text at least 12 px high
    small = np.asarray(draw_faces(_gray_photo(1000, 750), [face], error_circles=False))
    big_face = Face([v * 4 for v in face.box], face.points * 4, layout=KAGGLE_15)
    big = np.asarray(draw_faces(_gray_photo(4000, 3000), [big_face], error_circles=False))
    small_height, big_height = _legend_height(small), _legend_height(big)
    assert 3.5 < big_height / small_height < 4.5  # in proportion to the photo
    # the eyes' name, in its colour, stands on the dark box whatever the photo (cyan on white would vanish)
    white = np.asarray(draw_faces(_gray_photo(4000, 3000, 255), [big_face]))
    legend = white[: big_height, : big_height // 2].reshape(-1, 3).astype(int)
    assert (np.abs(legend - REGION_COLOURS["eyes"]).max(axis=1) < 30).sum() > 500
    assert np.median(legend.max(axis=1)) < 120
    assert not _legend_height(np.asarray(draw_faces(_gray_photo(200, 150), [face], legend=False)))


def _face68(scale=45, centre=(226, 115), **kwargs):
    from fkp_classic.analysis import project_mean_face

    points = project_mean_face(0, 0, 0, scale=scale, center=centre)[0]
    return Face((centre[0] - 55, centre[1] - 55, 110, 110), points, layout=IBUG_68, **kwargs)


def test_68_points_are_joined_along_the_layouts_contours():
    face = _face68()
    photo = np.zeros((260, 460, 3), np.uint8)
    joined = np.asarray(draw_faces(photo, [face], legend=False))
    dots = np.asarray(draw_faces(photo, [face], legend=False, contours=False))
    segments = [(a, b) for run, closed in IBUG_68.contour_indices()
                for a, b in zip(run, run[1:] + run[:1] * closed)]
    long = [(a, b) for a, b in segments if np.linalg.norm(face.points[a] - face.points[b]) > 6]
    assert len(long) > 20
    middles = [tuple(np.round((face.points[a] + face.points[b]) / 2).astype(int)) for a, b in long]
    in_colour = [(joined[y - 1 : y + 2, x - 1 : x + 2] == REGION_COLOURS[IBUG_68.regions[a]]).all(axis=2).any()
                 for (x, y), (a, _) in zip(middles, long)]
    assert np.mean(in_colour) > 0.9  # the pixels between points carry the line, in the points' region colour
    assert not any(dots[y, x].any() for x, y in middles)
    # the lines join only the layout's runs: nothing between the jaw's end and the brow's start
    x, y = np.round((face.points[16] + face.points[17]) / 2).astype(int)
    assert not joined[y - 1 : y + 2, x - 1 : x + 2].any()


def test_68_point_dots_stay_apart_on_a_small_face():
    face = _face68()
    drawn = np.asarray(draw_faces(np.zeros((260, 460, 3), np.uint8), [face], legend=False, contours=False))
    eye = face.points[36:42]  # the right eye: six points about 4 px apart
    gaps = [tuple(np.round((eye[k] + eye[k + 1]) / 2).astype(int)) for k in (0, 3)]  # the top and bottom lids
    assert not any(drawn[y, x].any() for x, y in gaps)


def test_draw_faces_on_matplotlib_axes():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    face = _face68(point_std=np.full((68, 2), 2.0), track_id=4)
    assert draw_faces(data.astronaut(), [face], ax=ax) is ax
    assert ax.images[0].get_array().shape == (512, 512, 3)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["eyes", "eyebrows", "nose", "mouth", "jaw"]
    assert len(ax.collections) == 3 and ax.texts[0].get_text() == "id 4"  # lines, error circles, dots
    with pytest.raises(ValueError, match="The 'ax' parameter of draw_faces must be a matplotlib Axes"):
        draw_faces(data.astronaut(), [face], ax="left")
    with pytest.raises(ValueError, match=r"faces\[0\] is a dict; Face.from_dict makes one"):
        draw_faces(data.astronaut(), [face.to_dict()])


def test_face_grid_takes_flat_rows_or_images_and_refuses_a_photo():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 96, 96)).astype(np.uint8)
    y = np.tile(np.linspace(10, 80, 30), (3, 1))
    flat = face_grid(images.reshape(3, 9216), true=y)
    square = face_grid(images, true=y.reshape(3, 15, 2))
    for a, b in zip(flat.axes[:3], square.axes[:3]):
        np.testing.assert_array_equal(a.images[0].get_array(), b.images[0].get_array())
        np.testing.assert_array_equal(a.collections[0].get_offsets(), b.collections[0].get_offsets())
    assert [t.get_text() for t in flat.legends[0].texts] == ["true"]
    assert not face_grid(images, true=y, legend=False).legends
    assert face_grid(rng.random((2, 48 * 64)), image_shape=(48, 64)).axes[0].images[0].get_array().shape == (48, 64)
    with pytest.raises(ValueError, match=r"shape \(512, 512, 3\): one colour photo, not faces.*draw_faces"):
        face_grid(data.astronaut())
    with pytest.raises(ValueError, match=r"read as 512 flat faces, but X has 512 columns.*pass \[image\]"):
        face_grid(data.camera())
    with pytest.raises(ValueError, match="face_grid's true must be numbers.*got list of _ByName"):
        face_grid(images[:1], true=[_face().keypoints])
    with pytest.raises(ValueError, match="face_grid's pred has 1 rows for 3 faces"):
        face_grid(images, pred=y[:1])
