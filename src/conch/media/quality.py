"""Image quality against a reference: PSNR and SSIM, as the tests and benchmarks measure it."""

from __future__ import annotations

import cv2
import numpy as np


def psnr(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over all channels (identical images: 100 dB)."""
    mse = float(np.mean((estimate.astype(np.float64) - truth) ** 2))
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


def ssim(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity on luma, Gaussian window sigma 1.5 (Wang et al. 2004)."""
    x, y = (_luma(image) for image in (estimate, truth))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(image: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.GaussianBlur(image, (11, 11), 1.5))

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(index.mean())


def _luma(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)[..., 0], dtype=np.float64)
