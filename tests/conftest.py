"""Shared fixtures. GUI tests run offscreen unless ``--headed`` is given."""

from __future__ import annotations

import os

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--headed", action="store_true", help="show GUI test windows on a real display")


def pytest_configure(config):
    if not config.getoption("--headed", default=False):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


@pytest.fixture(scope="session")
def astronaut_small() -> np.ndarray:
    """The public-domain astronaut photo (scikit-image), 128×128, float32 RGB 0..1."""
    import cv2
    from skimage import data

    img = data.astronaut().astype(np.float32) / 255.0
    return cv2.resize(img, (128, 128), interpolation=cv2.INTER_AREA)


def synthetic_disc(size: int = 64, radius: float = 18.0, soft: float = 3.0, seed: int = 0):
    """A textured disc on a different textured background with a known soft alpha.

    Returns (image float64 (h, w, 3), alpha float64 (h, w), trimap uint8).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    d = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5)
    alpha = np.clip((radius - d) / soft + 0.5, 0, 1)
    fg = np.array([0.9, 0.3, 0.2]) + 0.05 * rng.standard_normal((size, size, 3))
    bg = np.array([0.1, 0.4, 0.8]) + 0.05 * rng.standard_normal((size, size, 3))
    image = np.clip(alpha[:, :, None] * fg + (1 - alpha[:, :, None]) * bg, 0, 1)
    trimap = np.full((size, size), 128, np.uint8)
    trimap[d < radius - soft - 2] = 255
    trimap[d > radius + soft + 2] = 0
    return image, alpha, trimap


@pytest.fixture
def disc():
    return synthetic_disc()


@pytest.fixture
def make_disc():
    """Factory fixture: ``make_disc(size=..., radius=..., soft=...)`` → synthetic_disc(...)."""
    return synthetic_disc


@pytest.fixture
def set_budget():
    """``set_budget(n)`` sets the core's thread budget for one test; restored afterwards."""
    from matting_studio.core import executor

    before = executor._budget
    yield executor.set_thread_budget
    executor.set_thread_budget(before)
