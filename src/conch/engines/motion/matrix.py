"""Matrix exponential and logarithm for small matrices (3x3 homographies), in numpy.

Enough for interpolating camera motion; numpy has neither, and SciPy is not a dependency.
"""

from __future__ import annotations

import numpy as np

_TERMS = 14


def matrix_exp(a: np.ndarray) -> np.ndarray:
    """e to the matrix ``a``: scale down, sum the series, square back up."""
    norm = float(np.abs(a).sum(axis=1).max())
    squarings = max(0, int(np.ceil(np.log2(norm / 0.25))) if norm > 0.25 else 0)
    scaled = a / (2.0**squarings)
    result = np.eye(len(a))
    term = np.eye(len(a))
    for k in range(1, _TERMS):
        term = term @ scaled / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result


def matrix_sqrt(a: np.ndarray) -> np.ndarray:
    """The principal square root of ``a`` (Denman-Beavers iteration)."""
    y, z = a.copy(), np.eye(len(a))
    for _ in range(50):
        y, z = 0.5 * (y + np.linalg.inv(z)), 0.5 * (z + np.linalg.inv(y))
        if np.abs(y @ y - a).max() < 1e-13 * max(1.0, float(np.abs(a).max())):
            break
    return y


def matrix_log(a: np.ndarray) -> np.ndarray:
    """The principal logarithm of ``a``, which must have no eigenvalue on the negative axis.

    Square roots bring ``a`` near the identity, where the series of log(I + x) converges
    fast; each root taken doubles the result.
    """
    identity = np.eye(len(a))
    roots = 0
    while np.abs(a - identity).max() > 0.05 and roots < 40:
        a = matrix_sqrt(a)
        roots += 1
    x = a - identity
    result = np.zeros_like(a)
    power = identity
    for k in range(1, _TERMS + 10):
        power = power @ x
        result = result + ((-1) ** (k + 1)) * power / k
    return result * (2.0**roots)
