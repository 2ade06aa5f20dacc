"""Shape-indexed gradient descriptors read from integral images of orientation maps.

Gradients are taken at full resolution and pooled over ``pool x pool``
blocks as a structure tensor (the sums of ``gx**2``, ``gy**2`` and
``gx * gy``, and of the gradient magnitude). Each block's summed magnitude
is shared between the two (unsigned) orientation bins nearest to the
block's dominant gradient orientation, and every orientation map is summed
into an integral image. The histogram of any box, at sub-pixel position and
size, is then four bilinear reads of the integral, whatever the box's size.
Descriptors are grids of such cells around keypoints, scaled and turned with
each face's current shape (and their orientation bins turned with it), as in
SIFT; an optional brightness channel adds each cell's mean brightness.

Everything here is vectorised over a whole batch of faces; scratch arrays
are reused between blocks of faces because freshly allocated large arrays
cost more in page faults than the arithmetic done on them.
"""

import numpy as np

from ._hog import central_gradients

__all__ = ["orientation_integrals", "box_integrals", "local_descriptors", "grid_descriptors"]

_FEW = 4
"""Up to this many images, whole-array operations replace the row-by-row loops meant for large batches."""


def _pool(maps, pool, out, rows):
    """Sum ``(m, h, w)`` maps over ``pool x pool`` blocks into ``out`` (m, h // pool, w // pool).

    ``rows`` is scratch of shape (m, h // pool, w).
    """
    if pool == 1:
        np.copyto(out, maps)
        return out
    np.add(maps[:, 0::pool], maps[:, 1::pool], out=rows)
    for i in range(2, pool):
        rows += maps[:, i::pool]
    np.add(rows[:, :, 0::pool], rows[:, :, 1::pool], out=out)
    for j in range(2, pool):
        out += rows[:, :, j::pool]
    return out


def _half_plane_angle(x, y, out, scratch):
    """``arctan2(|y|, x * sign(y))``: the angle in [0, pi] of ``+-(x, y)``, into ``out``.

    A polynomial arctangent (error under 1e-5 rad) and sign tricks replace
    ``np.arctan2`` and ``np.where``, which are several times slower here.
    Overwrites ``x``, ``y`` and both ``scratch`` arrays.
    """
    ratio, spare = scratch
    np.multiply(x, y, out=ratio)
    np.copysign(x, ratio, out=x)  # fold onto the upper half plane: (x, |y|)
    np.abs(y, out=y)
    np.abs(x, out=spare)
    # min / max of |x| and |y| as (s - d) / (s + d), with s their sum and d
    # the size of their difference: no np.minimum / np.maximum, which are slow.
    np.add(spare, y, out=out)
    spare -= y  # its sign says which of |x| and |y| is the larger
    np.abs(spare, out=ratio)
    np.subtract(out, ratio, out=y)  # |y| is no longer needed
    out += ratio
    out += np.float32(1e-30)
    np.divide(y, out, out=ratio)  # min / max, in [0, 1]
    square = np.multiply(ratio, ratio, out=out)
    poly = y
    np.multiply(square, np.float32(-0.0464964749), out=poly)
    poly += np.float32(0.15931422)
    poly *= square
    poly -= np.float32(0.327622764)
    poly *= square
    poly *= ratio
    poly += ratio  # atan(min / max), in [0, pi / 4]
    quarter, half = np.float32(np.pi / 4), np.float32(np.pi / 2)
    np.subtract(quarter, poly, out=poly)
    np.copysign(poly, spare, out=poly)
    np.subtract(quarter, poly, out=poly)  # atan(|y| / |x|), in [0, pi / 2]
    np.subtract(half, poly, out=poly)
    np.copysign(poly, x, out=poly)
    return np.subtract(half, poly, out=out)


def orientation_integrals(images, n_bins=9, pool=2, intensity=False, block=16, out=None):
    """Integral images of soft-binned gradient orientation maps.

    Parameters
    ----------
    images : ndarray of shape (n, height, width)
        Grayscale images; height and width must be multiples of ``pool``.
    n_bins : int, default=9
        Unsigned orientation bins over [0, 180) degrees; bin ``b`` is
        centred on ``(b + 0.5) * 180 / n_bins`` degrees and each block's
        gradient magnitude is shared linearly between the two bin centres
        nearest to its dominant orientation.
    pool : int, default=2
        Side of the pixel blocks whose structure tensor gives one
        orientation (gradients are taken at full resolution).
    intensity : bool, default=False
        Also integrate the brightness (pixel values summed), as one more
        channel after the bins.
    block : int, default=16
        Images processed at once.
    out : ndarray of float32, optional
        Memory of at least the integral's size to write it into (reusing it
        across calls avoids page faults on fresh memory).

    Returns
    -------
    integral : ndarray of shape (height // pool + 1, width // pool + 1, n, n_bins + intensity), float32
        ``integral[r, c, i, b]`` is the gradient magnitude of orientation
        ``b`` in image ``i`` summed over the pixel blocks of rows ``< r``
        and columns ``< c``; with ``intensity`` the last channel
        (``b = n_bins``) sums brightness instead. Nodes come first so that
        the cumulative sums run over contiguous memory.

    References
    ----------
    .. [1] Porikli, F., "Integral Histogram: A Fast Way to Extract Histograms
           in Cartesian Spaces", IEEE Conference on Computer Vision and
           Pattern Recognition (CVPR), 2005. :DOI:`10.1109/CVPR.2005.188`

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.features import orientation_integrals
    >>> ramp = np.tile(np.arange(96.0), (1, 96, 1))  # brightness grows to the right
    >>> total = orientation_integrals(ramp)[-1, -1, 0]
    >>> int(total.argmax()), int(total.sum())  # horizontal gradients: bins 0 and 8 share them
    (0, 18048)
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be 3-D (n, height, width), got shape {images.shape}")
    n, height, width = images.shape
    if height % pool or width % pool:
        raise ValueError(f"image shape {(height, width)} is not a multiple of pool={pool}")
    h, w = height // pool, width // pool
    shape = (h + 1, w + 1, n, n_bins + bool(intensity))
    if out is None:
        integral = np.empty(shape, dtype=np.float32)
    else:
        integral = out.reshape(-1)[: int(np.prod(shape))].reshape(shape)
    integral[0] = 0  # every other node is written below
    integral[:, 0] = 0
    big = np.zeros((3, min(block, n), height, width), dtype=np.float32)
    small = np.empty((8, min(block, n), h, w), dtype=np.float32)
    rows = np.empty((min(block, n), h, width), dtype=np.float32)
    for first in range(0, n, block):
        m = min(block, n - first)
        image, g_row, g_col = big[:, :m]
        xx, yy, xy, magnitude, position, weight, other, sign = small[:, :m]
        part = rows[:m]
        image[...] = images[first : first + m]
        if intensity:
            integral[1:, 1:, first : first + m, n_bins] = _pool(image, pool, other, part).transpose(1, 2, 0)
        central_gradients(image, out=(g_row, g_col))
        np.multiply(g_col, g_row, out=image)
        _pool(image, pool, xy, part)
        np.multiply(g_row, g_row, out=g_row)
        np.multiply(g_col, g_col, out=g_col)
        _pool(g_row, pool, yy, part)
        _pool(g_col, pool, xx, part)
        np.add(g_row, g_col, out=image)
        np.sqrt(image, out=image)
        _pool(image, pool, magnitude, part)
        # Doubled angle of the block's dominant gradient: (xx - yy, 2 xy).
        xx -= yy
        xy += xy
        np.copysign(np.float32(1), xy, out=sign)
        _half_plane_angle(xx, xy, position, (weight, other))
        sign -= np.float32(1)
        sign *= np.float32(-np.pi / 2)  # pi where the doubled angle lies in the lower half plane
        position += sign
        position *= np.float32(n_bins / (2 * np.pi))
        position -= np.float32(0.5)  # in bin units: bin b's centre is at b
        # Triangles of half-width one bin around each centre, as t + |t| = 2 max(t, 0)
        # (np.maximum is several times slower than np.abs), on half the magnitude.
        magnitude *= np.float32(0.5)
        for b in range(n_bins):
            np.subtract(position, np.float32(b), out=weight)
            np.abs(weight, out=weight)
            np.subtract(np.float32(1), weight, out=weight)
            np.abs(weight, out=other)
            weight += other
            if b == 0:  # past the last centre wraps round to bin 0
                np.subtract(position, np.float32(n_bins - 1), out=other)
                weight += other
                np.abs(other, out=other)
                weight += other
            elif b == n_bins - 1:  # before the first centre wraps round to the last bin
                np.abs(position, out=other)
                weight += other
                weight -= position
            weight *= magnitude
            integral[1:, 1:, first : first + m, b] = weight.transpose(1, 2, 0)
    if n <= _FEW:  # the slab additions below cost a Python step per row, more than cumsum for a few images
        np.cumsum(integral, axis=0, out=integral)
        np.cumsum(integral, axis=1, out=integral)
        return integral
    for r in range(1, h):  # np.cumsum is several times slower than these slab additions on many images
        integral[r + 1] += integral[r]
    for c in range(1, w):
        integral[:, c + 1] += integral[:, c]
    return integral


def _bilinear_reads(integral, x, y, scratch):
    """Bilinear reads of the integral at node coordinates ``x, y`` (n, M): (n * M, n_bins) in ``scratch[0]``."""
    rows, cols, n, n_bins = integral.shape
    x = np.clip(x, 0, cols - 1)
    y = np.clip(y, 0, rows - 1)
    x0 = np.minimum(x.astype(np.intp), cols - 2)
    y0 = np.minimum(y.astype(np.intp), rows - 2)
    # The weights repeated over the bins: products with a (N, 1) column run several times slower.
    fx = np.repeat((x - x0).astype(np.float32), n_bins).reshape(-1, n_bins)
    fy = np.repeat((y - y0).astype(np.float32), n_bins).reshape(-1, n_bins)
    index = ((y0 * cols + x0) * n + np.arange(n)[:, None]).ravel()
    flat = integral.reshape(-1, n_bins)
    right, down = n, cols * n
    top, other, bottom = scratch
    np.take(flat, index, axis=0, out=top, mode="clip")  # "clip": the indices are valid, and "raise" copies
    np.take(flat, index + right, axis=0, out=other, mode="clip")
    other -= top
    other *= fx
    top += other
    np.take(flat, index + down, axis=0, out=bottom, mode="clip")
    np.take(flat, index + down + right, axis=0, out=other, mode="clip")
    other -= bottom
    other *= fx
    bottom += other
    bottom -= top
    bottom *= fy
    top += bottom
    return top


def _normalize(desc, clip=0.2, eps=1e-6):
    """HOG's L2-Hys over the last axis, in place."""
    desc /= np.sqrt(np.einsum("...i,...i->...", desc, desc))[..., None] + np.float32(eps)
    np.minimum(desc, np.float32(clip), out=desc)
    desc /= np.sqrt(np.einsum("...i,...i->...", desc, desc))[..., None] + np.float32(eps)
    return desc


def _normalize_brightness(values, eps=1e-3):
    """Zero mean and unit norm over the last axis: the pattern of brightness, not its level or contrast."""
    values = values - values.mean(axis=-1, keepdims=True)
    values /= np.sqrt(np.einsum("...i,...i->...", values, values))[..., None] + np.float32(eps)
    return values


def _turn_bins(hist, angle):
    """Shift orientation histograms (n, M, n_bins) by ``angle`` (n,) radians, circularly and linearly."""
    n_bins = hist.shape[-1]
    shift = np.asarray(angle, dtype=np.float64) * (n_bins / np.pi)
    whole = np.floor(shift)
    frac = shift - whole
    # turned[..., b] = (1 - frac) * hist[..., b + whole] + frac * hist[..., b + whole + 1], as a matrix product.
    source = (np.arange(n_bins)[None, :] + whole.astype(np.intp)[:, None]) % n_bins
    mixing = np.zeros((len(hist), n_bins, n_bins), dtype=np.float32)
    faces, bins = np.arange(len(hist))[:, None], np.arange(n_bins)[None, :]
    mixing[faces, source, bins] = (1 - frac)[:, None]
    mixing[faces, (source + 1) % n_bins, bins] += frac[:, None]
    return hist @ mixing


def box_integrals(integral, box, out=None):
    """Sums of every ``box x box`` block of integral cells: the histogram of the box starting at each node.

    Parameters
    ----------
    integral : ndarray of shape (rows, cols, n, n_bins)
        :func:`orientation_integrals` of the images.
    box : int
        Box side in integral cells.
    out : ndarray of float32, optional
        Scratch memory of at least ``integral.size`` values to write into
        (reusing it across calls avoids page faults on fresh memory).

    Returns
    -------
    ndarray of shape (rows - box, cols - box, n, n_bins), float32
    """
    rows, cols, n, n_bins = integral.shape
    shape = (rows, cols - box, n, n_bins)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    else:
        out = out.reshape(-1)[: int(np.prod(shape))].reshape(shape)
    # Differences along the columns in one pass, then along the rows in place, slab by
    # slab from the bottom (a row is read before it is overwritten): two passes, not three.
    np.subtract(integral[:, box:], integral[:, :-box], out=out)
    if n <= _FEW:  # a few images: one subtraction from a copy beats a Python step per row
        out[box:] -= out[:-box].copy()
        return out[box:]
    for r in range(rows - 1, box - 1, -1):
        out[r] -= out[r - box]
    return out[box:]


def local_descriptors(integral, points, cell_size, scale=1.0, angle=0.0, grid=4, pool=2, work=None, intensity=False):
    """SIFT-like descriptors around every point, scaled and turned per image.

    Each point gets a ``grid x grid`` array of square cells, ``cell_size``
    apart times ``scale``, centred on axes turned by ``angle``. A cell's
    orientation histogram covers the axis-aligned square of side
    ``cell_size`` (rounded to whole ``pool`` blocks) around its centre,
    read by bilinear interpolation between the boxes of
    :func:`box_integrals`; the bins are then turned by ``-angle`` so the
    descriptor is that of the upright face. Each point's descriptor is
    normalised like HOG's L2-Hys.

    Parameters
    ----------
    integral : ndarray
        :func:`orientation_integrals` of the images.
    points : ndarray of shape (n, K, 2)
        ``(x, y)`` per point, in pixels of the full-size image.
    cell_size : float
        Cell spacing in pixels at ``scale=1``, and cell side.
    scale, angle : float or ndarray of shape (n,), default=1.0, 0.0
        Per-image size factor and rotation of the face (radians, in image
        axes: x right, y down).
    grid : int, default=4
    pool : int, default=2
        The ``pool`` the integrals were made with.
    work : ndarray of float32, optional
        Scratch memory of at least ``integral.size`` values, reused between calls.
    intensity : bool, default=False
        The integrals carry a brightness channel (last): append each
        cell's brightness, zero-mean and unit-norm per point.

    Returns
    -------
    ndarray of shape (n, K, grid * grid * n_bins), float32
        ``n_bins`` counts the brightness channel when there is one.
    """
    n, k, _ = points.shape
    n_bins = integral.shape[-1]
    box = max(1, int(round(cell_size / pool)))
    boxed = box_integrals(integral, box, out=work)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))
    angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (n,))
    steps = (np.arange(grid) - (grid - 1) / 2.0) * cell_size
    turn = (scale * np.exp(1j * angle))[:, None] * (steps[None, :] + 1j * steps[:, None]).ravel()[None, :]
    # Full-size pixel p covers [p - 0.5, p + 0.5]; boxed[r, c] starts at node (r, c).
    start = 0.5 - box * pool / 2
    x = (points[:, :, 0, None] + turn.real[:, None, :] + start) / pool
    y = (points[:, :, 1, None] + turn.imag[:, None, :] + start) / pool
    reads = np.empty((3, n * k * grid * grid, n_bins), dtype=np.float32)
    cells = _bilinear_reads(boxed, x.reshape(n, -1), y.reshape(n, -1), reads).reshape(n, k * grid * grid, n_bins)
    if intensity:
        bright = _normalize_brightness(cells[:, :, -1].reshape(n, k, grid * grid))
        cells = cells[:, :, :-1]
    desc = _normalize(_turn_bins(cells, angle).reshape(n, k, -1))
    return np.concatenate([desc, bright], axis=-1) if intensity else desc


def grid_descriptors(integral, cell_size=8, block=2, pool=2, intensity=False):
    """HOG-like description of the whole image from its orientation integrals.

    Cells of ``cell_size`` pixels tile the image; each block of
    ``block x block`` neighbouring cells is normalised (L2-Hys) and all
    blocks are concatenated, as in HOG. With ``intensity`` (integrals
    that carry a brightness channel), the cells' brightness follows,
    zero-mean and unit-norm over the image.

    Returns
    -------
    ndarray of shape (n, n_blocks * block * block * n_bins), float32
    """
    rows, cols, n, n_bins = integral.shape
    step = cell_size // pool
    if cell_size % pool or step < 1 or (rows - 1) % step or (cols - 1) % step:
        raise ValueError(f"cell_size={cell_size} must be a multiple of pool={pool} that tiles the image")
    nodes = integral[::step, ::step].transpose(2, 0, 1, 3)
    cells = nodes[:, 1:, 1:] - nodes[:, :-1, 1:] - nodes[:, 1:, :-1] + nodes[:, :-1, :-1]
    if intensity:
        bright = _normalize_brightness(cells[..., -1].reshape(n, -1))
        cells = cells[..., :-1]
        n_bins -= 1
    r, c = cells.shape[1:3]
    blocks = np.stack(
        [cells[:, i : r - block + 1 + i, j : c - block + 1 + j] for i in range(block) for j in range(block)], axis=3
    )
    desc = _normalize(blocks.reshape(n, (r - block + 1) * (c - block + 1), -1)).reshape(n, -1)
    return np.concatenate([desc, bright], axis=-1) if intensity else desc
