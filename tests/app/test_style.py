"""The class colours (app/style.py): ten that stay apart for every viewer, used by the map."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.style import CLASS_COLORS
from tests.app.conftest import map_figure

# Machado, Oliveira and Fernandes (2009): full-severity simulation matrices on linear RGB.
SIMULATIONS = {
    "normal vision": np.eye(3),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
MIN_DELTA_E = 15.0  # CIE76 distance in Lab: clearly different at a glance, well beyond "just noticeable" (~2)


def _linear_rgb(colors) -> np.ndarray:
    c = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in colors], dtype=np.float64) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def closest_pair(colors, simulation: np.ndarray) -> float:
    lab = _lab(np.clip(_linear_rgb(colors) @ simulation.T, 0, 1))
    return min(float(np.linalg.norm(lab[i] - lab[j])) for i, j in itertools.combinations(range(len(lab)), 2))


def test_ten_distinct_class_colours():
    assert len(CLASS_COLORS) == 10 and len({c.upper() for c in CLASS_COLORS}) == 10


@pytest.mark.parametrize("vision", list(SIMULATIONS))
def test_every_two_class_colours_stay_apart(vision):
    assert closest_pair(CLASS_COLORS, SIMULATIONS[vision]) >= MIN_DELTA_E


def test_the_check_catches_the_old_palette():
    """Tableau 10, used before: Pullover, Shirt and Sneaker merged for deuteranopes."""
    tableau = (
        "#4E79A7",
        "#F28E2B",
        "#E15759",
        "#76B7B2",
        "#59A14F",
        "#EDC948",
        "#B07AA1",
        "#FF9DA7",
        "#9C755F",
        "#BAB0AC",
    )
    assert closest_pair(tableau, SIMULATIONS["deuteranopia"]) < MIN_DELTA_E


def test_the_map_uses_the_class_colours(app_at):
    at = app_at("one").run()
    figure = map_figure(at)
    colors = [t["marker"]["color"] for t in figure["data"] if t.get("type") == "scattergl"]
    assert colors == list(CLASS_COLORS)


def test_class_chips_read_at_wcag_aa_contrast_for_up_to_50_classes():
    """A chip's text is black or white, whichever reads at 4.5:1 or better on its class colour."""
    from app.style import class_chip, class_colors, contrast, ink_on

    assert round(contrast("#FFFFFF", "#000000"), 2) == 21.0
    assert round(contrast("#FFFFFF", "#FFFFFF"), 2) == 1.0
    assert ink_on("#92DADD") == "#000000" and ink_on("#832DB6") == "#FFFFFF"
    for color in class_colors(50):
        assert contrast(ink_on(color), color) >= 4.5, color
    assert "color:#000000" in class_chip(9, tuple(f"c{i}" for i in range(10)))
