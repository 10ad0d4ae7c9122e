"""One smooth, deterministic, one-to-one displacement field for the grid borders.

Straight Voronoi borders look artificial. Moving every vertex of every grid level
through the *same* field bends them like real borders, and because shared vertices
move identically, a tiling stays an exact tiling.

The field is a composition of stages. Each stage adds a sum of transverse plane
waves, ``x + sum_i a_i e_i sin(k_i d_i . x + phi_i)`` with ``e_i`` perpendicular to
``d_i``; its Lipschitz constant is at most ``sum_i a_i k_i``, kept below one, so each
stage is one-to-one and so is their composition: no border can cross another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["Warp", "warp_from_seed"]

# (wavelength in metres, number of stages) per band, coarse to fine.
BANDS: tuple[tuple[float, int], ...] = (
    (9000.0, 1),
    (3500.0, 2),
    (1400.0, 3),
    (600.0, 3),
    (250.0, 3),
    (110.0, 2),
)
WAVES_PER_STAGE = 5
LIPSCHITZ_PER_STAGE = 0.7


@dataclass(frozen=True)
class Warp:
    """Parameters of the composed field, one row per wave.

    Attributes
    ----------
    stage
        Stage index of each wave; stages are applied in increasing order.
    direction
        Unit wave vectors ``d_i``, shape ``(n, 2)``.
    wavenumber
        ``k_i = 2 pi / wavelength`` in rad/m.
    amplitude
        ``a_i`` in metres.
    phase
        ``phi_i`` in radians.
    """

    stage: np.ndarray
    direction: np.ndarray
    wavenumber: np.ndarray
    amplitude: np.ndarray
    phase: np.ndarray

    def apply(self, xy: np.ndarray) -> np.ndarray:
        """Move points through the field.

        Parameters
        ----------
        xy
            Coordinates in metres, shape ``(n, 2)``.

        Returns
        -------
        numpy.ndarray
            The displaced coordinates, same shape.
        """
        out = np.array(xy, dtype=float, copy=True)
        for s in np.unique(self.stage):
            rows = self.stage == s
            d = self.direction[rows]
            arg = out @ (d * self.wavenumber[rows, None]).T + self.phase[rows]
            shift = np.sin(arg) * self.amplitude[rows]
            normal = np.column_stack([-d[:, 1], d[:, 0]])
            out += shift @ normal
        return out

    def apply_to_geometries(self, geoms: np.ndarray) -> np.ndarray:
        """Displace every vertex of an array of shapely geometries."""
        return shapely.transform(geoms, self.apply)


def warp_from_seed(
    rng: np.random.Generator,
    bands: tuple[tuple[float, int], ...] = BANDS,
    lipschitz: float = LIPSCHITZ_PER_STAGE,
) -> Warp:
    """Draw the field's waves.

    Parameters
    ----------
    rng
        Source of randomness; the same state gives the same field.
    bands
        ``(wavelength in metres, number of stages)`` pairs.
    lipschitz
        Bound on each stage's Lipschitz constant; below one keeps it one-to-one.

    Returns
    -------
    Warp
        A field whose stages are each one-to-one.
    """
    rows: list[tuple[int, float, float, float, float, float]] = []
    stage = 0
    for wavelength, repeats in bands:
        for _ in range(repeats):
            lengths = wavelength * rng.uniform(0.7, 1.4, WAVES_PER_STAGE)
            k = 2 * np.pi / lengths
            amp = lipschitz / (WAVES_PER_STAGE * k)
            angle = rng.uniform(0, 2 * np.pi, WAVES_PER_STAGE)
            phase = rng.uniform(0, 2 * np.pi, WAVES_PER_STAGE)
            rows += [
                (stage, np.cos(a), np.sin(a), kk, aa, p)
                for a, kk, aa, p in zip(angle, k, amp, phase, strict=True)
            ]
            stage += 1
    table = np.array(rows)
    return Warp(
        stage=table[:, 0].astype(int),
        direction=table[:, 1:3],
        wavenumber=table[:, 3],
        amplitude=table[:, 4],
        phase=table[:, 5],
    )
