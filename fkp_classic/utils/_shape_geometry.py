"""Shape geometry: keypoint shapes as complex numbers, the similarity between two shapes, jittered shapes.

A shape of K points ``(..., K, 2)`` is handled as K complex numbers
``x + iy``: a similarity (scale and rotation) is then one complex factor,
and fitting it to another shape is one least-squares product.
"""

import numpy as np

__all__ = ["as_complex", "as_points", "draw_perturbations", "perturb", "similarity"]


def as_complex(points):
    """Points ``(..., K, 2)`` as complex numbers ``x + iy`` ``(..., K)``."""
    return points[..., 0] + 1j * points[..., 1]


def as_points(z):
    """Complex numbers ``(..., K)`` as points ``(..., K, 2)``."""
    return np.stack([z.real, z.imag], axis=-1)


def similarity(shapes, reference):
    """The scale-rotation (complex) that best takes centred ``reference`` (K, 2) to each centred shape.

    Parameters
    ----------
    shapes : ndarray of shape (..., K, 2)
    reference : ndarray of shape (K, 2)

    Returns
    -------
    turn : complex ndarray of shape (...)
        ``abs(turn)`` is the scale, ``angle(turn)`` the rotation, of the
        least-squares fit of ``turn * (reference - its centroid)`` to each
        shape minus its centroid.
    """
    ref = as_complex(reference)
    ref = ref - ref.mean()
    cur = as_complex(shapes)
    cur = cur - cur.mean(axis=-1, keepdims=True)
    return (cur @ ref.conj()) / (ref @ ref.conj()).real


def draw_perturbations(rng, n_perturbations, perturbation, n):
    """Random jitter of ``n`` shapes per perturbation, for :func:`perturb`.

    Parameters
    ----------
    rng : numpy.random.RandomState
    n_perturbations : int
    perturbation : (float, float, float)
        Standard deviations of the translation (px), the relative scale and
        the rotation (degrees).
    n : int

    Returns
    -------
    ndarray of shape (n_perturbations, 4, n)
        Relative scale, rotation (degrees), x and y shift of each shape, drawn
        in that order, row after row.
    """
    t_sd, s_sd, r_sd = perturbation
    draws = np.empty((n_perturbations, 4, n))
    for draw in draws:
        for row, sd in zip(draw, (s_sd, r_sd, t_sd, t_sd)):
            row[:] = rng.normal(0, sd, n)
    return draws


def perturb(shapes, draws):
    """Jitter whole shapes (n, K, 2) about their centroids by one perturbation of :func:`draw_perturbations` (4, n)."""
    scale, rotation, dx, dy = draws[:, :, None]
    z = as_complex(shapes)
    centroid = z.mean(axis=1, keepdims=True)
    turn = (1 + scale) * np.exp(1j * np.deg2rad(rotation))
    return as_points(centroid + turn * (z - centroid) + (dx + 1j * dy))
