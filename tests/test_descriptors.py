"""Orientation integrals and shape-indexed descriptors against direct computations."""

import numpy as np
import pytest

from fkp_classic.features import box_integrals, grid_descriptors, local_descriptors, orientation_integrals


def _direct_maps(images, n_bins=9, pool=2):
    """Reference: structure tensor per block, np.arctan2, scatter into bins (slow and obvious)."""
    n, h, w = images.shape
    g_row = np.zeros_like(images)
    g_col = np.zeros_like(images)
    g_row[:, 1:-1] = images[:, 2:] - images[:, :-2]
    g_col[:, :, 1:-1] = images[:, :, 2:] - images[:, :, :-2]
    blocks = lambda a: a.reshape(n, h // pool, pool, w // pool, pool).sum(axis=(2, 4))  # noqa: E731
    xx, yy, xy = blocks(g_col**2), blocks(g_row**2), blocks(g_col * g_row)
    magnitude = blocks(np.hypot(g_row, g_col))
    theta = (np.arctan2(2 * xy, xx - yy) / 2) % np.pi
    position = theta * n_bins / np.pi - 0.5
    low = np.floor(position)
    frac = position - low
    low = low.astype(int) % n_bins
    maps = np.zeros(magnitude.shape + (n_bins,))
    np.put_along_axis(maps, low[..., None], (magnitude * (1 - frac))[..., None], axis=-1)
    np.put_along_axis(maps, ((low + 1) % n_bins)[..., None], (magnitude * frac)[..., None], axis=-1)
    return maps


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return (rng.random((19, 32, 40)) * 255).astype(np.float32)


def test_integrals_match_direct_binning(images):
    integral = orientation_integrals(images, block=4)  # several blocks, the last one partial
    assert integral.shape == (17, 21, 19, 9) and integral.dtype == np.float32
    assert (integral[0] == 0).all() and (integral[:, 0] == 0).all()
    maps = np.diff(np.diff(integral, axis=0), axis=1).transpose(2, 0, 1, 3)
    expected = _direct_maps(images.astype(np.float64))
    np.testing.assert_allclose(maps, expected, atol=2e-3 * expected.max())


def test_intensity_channel_integrates_brightness(images):
    integral = orientation_integrals(images, intensity=True)
    assert integral.shape[-1] == 10
    np.testing.assert_allclose(integral[-1, -1, :, 9], images.sum(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_array_equal(integral[..., :9], orientation_integrals(images))


def test_integrals_refuse_shapes_they_cannot_pool():
    with pytest.raises(ValueError, match="multiple of pool"):
        orientation_integrals(np.zeros((2, 31, 32)))
    with pytest.raises(ValueError, match="3-D"):
        orientation_integrals(np.zeros((31, 32)))


def test_box_integrals_are_box_sums(images):
    integral = orientation_integrals(images)
    boxed = box_integrals(integral, 3)
    maps = np.diff(np.diff(integral, axis=0), axis=1)
    expected = maps[4:7, 7:10].sum(axis=(0, 1))
    np.testing.assert_allclose(boxed[4, 7], expected, atol=1e-5 * expected.max())
    work = np.empty(integral.size, dtype=np.float32)
    np.testing.assert_array_equal(box_integrals(integral, 3, out=work), boxed)


def test_descriptor_cells_read_the_right_boxes(images):
    """Unnormalised cells at whole-block positions equal direct box sums, cell by cell."""
    integral = orientation_integrals(images)
    maps = np.diff(np.diff(integral, axis=0), axis=1)
    # A point at (x=19.5, y=15.5), 2x2 cells of 4 px: columns 16-19 and 20-23, rows 12-15 and 16-19,
    # that is pooled columns 8-9 and 10-11, pooled rows 6-7 and 8-9.
    points = np.full((len(images), 1, 2), [19.5, 15.5])
    desc = local_descriptors(integral, points, cell_size=4, grid=2)
    cells = [maps[r : r + 2, c : c + 2].sum(axis=(0, 1)) for r in (6, 8) for c in (8, 10)]
    expected = np.concatenate(cells, axis=-1)
    expected /= np.linalg.norm(expected, axis=-1, keepdims=True)
    expected = np.minimum(expected, 0.2)
    expected /= np.linalg.norm(expected, axis=-1, keepdims=True)
    np.testing.assert_allclose(desc[:, 0], expected, atol=1e-4)


def test_descriptors_follow_a_turned_face():
    """A face turned by a multiple of the bin width, described in its own frame, matches the upright one."""
    rng = np.random.default_rng(1)
    image = np.zeros((96, 96))
    image[30:66, 40:56] = 200  # a bright bar with gradients in two directions
    image += rng.normal(0, 1, image.shape)
    from skimage.transform import rotate

    angle = 40.0  # two bins of 20 degrees
    turned = rotate(image, angle, center=(47.5, 47.5), order=1, mode="edge", preserve_range=True)
    centre = np.array([[[47.5, 47.5]]])
    upright = local_descriptors(orientation_integrals(image[None]), centre, 6)
    # skimage turns counter-clockwise on screen: in image axes (y down) that is -40 degrees.
    seen = local_descriptors(orientation_integrals(turned[None]), centre, 6, angle=-np.deg2rad(angle))
    assert np.corrcoef(upright.ravel(), seen.ravel())[0, 1] > 0.9
    unturned = local_descriptors(orientation_integrals(turned[None]), centre, 6)
    assert np.corrcoef(upright.ravel(), unturned.ravel())[0, 1] < 0.8


def test_grid_descriptors_tile_the_face(images):
    integral = orientation_integrals(images[:, :32, :32])
    desc = grid_descriptors(integral, cell_size=8)
    assert desc.shape == (19, 3 * 3 * 4 * 9)
    with pytest.raises(ValueError, match="tiles the image"):
        grid_descriptors(integral, cell_size=6)
