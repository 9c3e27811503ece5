"""The latent map: an encoded test set seen through a 2-D projection, and what a place on it means.

Pure numpy (over ``vae_core.geometry``): the projection and its inverse, the axis limits, the
sliders' ranges and principal directions, what a click means, posterior ellipses, grids, and the
facts a lesson tells about the map's shape (its widest gap, the two classes it confuses most).
Built once per bundle; every method only reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import geometry

PRINCIPAL_AXES = 8  # beyond the per-dimension sliders: sliders along this many principal directions

Limits = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class MapFacts:
    """What the map's shape teaches, measured on the encoded test set."""

    gap_z: np.ndarray  # (d,) the latent point at the widest hole among the classes
    gap_xy: np.ndarray  # (2,) that hole on the map
    gap_distance: float  # map distance from the hole to the nearest encoded test image
    classes: tuple[int, int]  # the two classes whose codes are most often each other's neighbours
    pair: tuple[int, int]  # one image of each, encoded closest to each other (test indices)
    pair_distance: float
    purity: np.ndarray  # (n_classes,) per class: share of a point's 5 nearest neighbours of its own class


@dataclass(frozen=True, eq=False)
class LatentMap:
    """The map of an encoded test set ``z_mean`` (n, d)."""

    z_mean: np.ndarray  # (n, d) the encoded test set's centres
    projection: geometry.Projection
    xy: np.ndarray  # (n, 2) map coordinates of z_mean
    limits: Limits  # the map's axis ranges ((x0, x1), (y0, y1))
    slider_low: np.ndarray  # (d,) each dimension's slider range
    slider_high: np.ndarray
    pc_mean: np.ndarray  # (d,) the principal directions' origin
    pc_directions: np.ndarray  # (k, d) orthonormal, largest variance first
    pc_limit: np.ndarray  # (k,) their sliders span -/+ this

    @classmethod
    def of(cls, z_mean: np.ndarray) -> LatentMap:
        z = np.asarray(z_mean, dtype=np.float64)
        projection = geometry.fit_projection(z)
        xy = geometry.project(projection, z)
        limits = geometry.map_limits(xy)
        d = z.shape[1]
        if d <= 2:  # the map shows the true coordinates: a slider's end is the map's edge
            low, high = np.array([lim[0] for lim in limits[:d]]), np.array([lim[1] for lim in limits[:d]])
        else:
            low, high = geometry.slider_ranges(z)
        pc_mean, pc_directions, pc_std = geometry.principal_directions(z, min(PRINCIPAL_AXES, d))
        return cls(z, projection, xy, limits, low, high, pc_mean, pc_directions, geometry.SLIDER_STD * pc_std)

    @property
    def d(self) -> int:
        return self.z_mean.shape[1]

    # -- places ------------------------------------------------------------------------------------
    def to_map(self, z: np.ndarray) -> np.ndarray:
        """Map coordinates (n, 2) of latent points (n, d) or of one point (d,)."""
        return geometry.project(self.projection, z)

    def from_map(self, xy: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """Latent points (n, d) at map coordinates (n, 2): for d > 2 on the plane through ``base``
        (default: the data's mean)."""
        return geometry.lift(self.projection, np.atleast_2d(xy), base)

    def spots(self, fractions: np.ndarray) -> np.ndarray:
        """Map coordinates (n, 2) of places given as fractions (n, 2) of the map's width and height."""
        (x0, x1), (y0, y1) = self.limits
        f = np.asarray(fractions, dtype=np.float64)
        return np.stack([x0 + f[:, 0] * (x1 - x0), y0 + f[:, 1] * (y1 - y0)], axis=1)

    def click(
        self,
        at: tuple[float, float],
        units: tuple[float, float],
        base: np.ndarray,
        visible: np.ndarray | None,
    ) -> tuple[int | None, np.ndarray]:
        """What a click at map coordinates ``at`` means: (test image or None, latent point).

        ``units`` are map units per screen pixel; only points where ``visible`` (n,) can be picked.
        """
        return geometry.click_to_latent(self.projection, self.xy, at, units, base, self.z_mean, visible)

    def ellipse(self, z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
        """The 2-sigma ellipse (m, 2) of N(z_mean, diag(exp(z_log_var))) on the map."""
        return geometry.posterior_ellipse(self.projection, z_mean, z_log_var)

    def grid_points(self, region: Limits, n: int) -> np.ndarray:
        """(n*n, d) latent points of an n x n grid over ``region`` of the map, in image order (for
        d > 2 on the map plane through the data mean)."""
        return geometry.lift(self.projection, geometry.grid(region[0], region[1], n))

    def default_region(self) -> Limits:
        """A square of side 5 around the prior's mean, on the map."""
        return geometry.default_region(self.projection)

    # -- sliders -----------------------------------------------------------------------------------
    def slider_values(self, z: np.ndarray) -> np.ndarray:
        """The point's coordinates (d,) clipped into the sliders' ranges."""
        return geometry.clip_to_ranges(z, self.slider_low, self.slider_high)

    def principal_values(self, z: np.ndarray) -> np.ndarray:
        """The point's coordinates (k,) along the principal directions, clipped to their sliders."""
        coeffs = geometry.principal_coeffs(self.pc_mean, self.pc_directions, z)
        return np.clip(coeffs, -self.pc_limit, self.pc_limit)

    def along_principal(self, z: np.ndarray, j: int, value: float) -> np.ndarray:
        """z moved along principal direction j only, so that its coordinate there is ``value``."""
        coeff = geometry.principal_coeffs(self.pc_mean, self.pc_directions, z)[j]
        return np.asarray(z, dtype=np.float64) + (value - coeff) * self.pc_directions[j]

    # -- what the shape teaches --------------------------------------------------------------------
    def facts(self, labels: np.ndarray, n_classes: int) -> MapFacts:
        """The widest gap, the two most confused classes with their closest pair, and each class's
        neighbour purity (a second or so on 10,000 codes: keep the answer)."""
        y = np.asarray(labels)
        gap_xy, gap_distance = geometry.widest_gap(self.xy)
        a, b = geometry.most_confused_classes(self.xy, y, n_classes)
        i, j, pair_distance = geometry.closest_pair(self.xy, y, a, b)
        return MapFacts(
            gap_z=self.from_map(gap_xy[None])[0],
            gap_xy=gap_xy,
            gap_distance=gap_distance,
            classes=(a, b),
            pair=(i, j),
            pair_distance=pair_distance,
            purity=geometry.neighbour_purity(self.xy, y, n_classes=n_classes),
        )


def class_centroids(z_mean: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, d) mean code of each class; a class without images gets the mean of all codes."""
    z, y = np.asarray(z_mean, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    counts = np.bincount(y, minlength=n_classes)[:n_classes]  # (n_classes,)
    sums = np.zeros((n_classes, z.shape[1]))
    np.add.at(sums, y, z)
    return np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], z.mean(axis=0))
