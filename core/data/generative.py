"""Two-dimensional "real" distributions for the 2-D GAN (GAN Lab style): a ring of Gaussians, a grid of
Gaussians, two moons, a line, and a point set the visitor draws or uploads.

Every distribution lives on the plane [-3, 3]² and is sampled afresh each step (``sample_2d``). Its *modes*
(``mode_centres``) are what mode coverage counts: the Gaussian centres where they are known, otherwise k-means
centres of a large sample. A drawn or uploaded set travels in the config as whole numbers (hundredths of a plane
unit, ``x₁, y₁, x₂, y₂ …``) so that it fits a shareable link: ``encode_points`` / ``decode_points``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable

import numpy as np

from core.data import DATASETS
from core.errors import DataError

EXTENT = 3.0  # the plane is [-EXTENT, EXTENT]²
SCALE = 100  # a drawn coordinate is stored as round(value * SCALE)
MAX_POINTS = 300  # points kept of a drawing or an upload
MIN_POINTS = 3
MAX_CSV_BYTES = 2 * 1024 * 1024
RING_MODES, RING_RADIUS = 8, 2.0
GRID_SIDE, GRID_STEP = 5, 1.0
KMEANS_MODES = 8

Sampler = Callable[[int, np.random.Generator, float, np.ndarray | None], np.ndarray]


def _mixture(centres: np.ndarray, n: int, rng: np.random.Generator, spread: float) -> np.ndarray:
    """``n`` points from equal-weight isotropic Gaussians of standard deviation ``spread`` around ``centres``."""
    pick = rng.integers(len(centres), size=n)
    return centres[pick] + rng.normal(0.0, spread, (n, 2))


def ring_centres() -> np.ndarray:
    angle = 2 * math.pi * np.arange(RING_MODES) / RING_MODES
    return np.stack([RING_RADIUS * np.cos(angle), RING_RADIUS * np.sin(angle)], axis=1)


def grid_centres() -> np.ndarray:
    axis = (np.arange(GRID_SIDE) - (GRID_SIDE - 1) / 2) * GRID_STEP
    gx, gy = np.meshgrid(axis, axis)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


@DATASETS.register("gan2d_ring", family="gan2d", description="generative.distributions.ring", short="ring",
                   modes=RING_MODES)
def ring(n: int, rng: np.random.Generator, spread: float, points: np.ndarray | None = None) -> np.ndarray:
    """Eight Gaussians on a circle of radius 2 (the classic mode-collapse test)."""
    return _mixture(ring_centres(), n, rng, spread)


@DATASETS.register("gan2d_grid", family="gan2d", description="generative.distributions.grid", short="grid",
                   modes=GRID_SIDE**2)
def grid(n: int, rng: np.random.Generator, spread: float, points: np.ndarray | None = None) -> np.ndarray:
    """A 5 × 5 grid of Gaussians one unit apart."""
    return _mixture(grid_centres(), n, rng, spread)


@DATASETS.register("gan2d_moons", family="gan2d", description="generative.distributions.moons", short="moons",
                   modes=KMEANS_MODES)
def moons(n: int, rng: np.random.Generator, spread: float, points: np.ndarray | None = None) -> np.ndarray:
    """Two interleaving half-moons, blurred by ``spread``."""
    half = n // 2
    t = rng.uniform(0, math.pi, n)
    top = np.stack([np.cos(t[:half]), np.sin(t[:half])], axis=1)
    bottom = np.stack([1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])], axis=1)
    xy = (np.concatenate([top, bottom]) - (0.5, 0.25)) * 1.6
    return xy + rng.normal(0.0, spread, (n, 2))


@DATASETS.register("gan2d_line", family="gan2d", description="generative.distributions.line", short="line",
                   modes=KMEANS_MODES)
def line(n: int, rng: np.random.Generator, spread: float, points: np.ndarray | None = None) -> np.ndarray:
    """A straight segment from (-2, -1.5) to (2, 1.5), blurred by ``spread``."""
    t = rng.uniform(-1, 1, (n, 1))
    return t * np.array([2.0, 1.5]) + rng.normal(0.0, spread, (n, 2))


@DATASETS.register("gan2d_drawn", family="gan2d", description="generative.distributions.drawn", short="drawn",
                   modes=KMEANS_MODES, drawn=True)
def drawn(n: int, rng: np.random.Generator, spread: float, points: np.ndarray | None = None) -> np.ndarray:
    """The visitor's points, each sample one of them (at random) blurred by ``spread`` (a kernel density)."""
    if points is None or len(points) < MIN_POINTS:
        raise DataError("generative.errors.too_few_points", n=MIN_POINTS, count=0 if points is None else len(points))
    return _mixture(points, n, rng, spread)


DISTRIBUTIONS: dict[str, str] = {e.meta["short"]: e.name for e in DATASETS if e.family == "gan2d"}


def sampler(name: str) -> Sampler:
    """The sampling function of distribution ``name`` (``"ring"``, ``"grid"``, ``"moons"``, ``"line"``, ``"drawn"``)."""
    if name not in DISTRIBUTIONS:
        raise DataError("generative.errors.distribution", value=name, choices=", ".join(DISTRIBUTIONS))
    return DATASETS.get(DISTRIBUTIONS[name])


def sample_2d(name: str, n: int, rng: np.random.Generator, *, spread: float,
              points: np.ndarray | None = None) -> np.ndarray:
    """``n`` real samples (float32, shape ``(n, 2)``)."""
    return sampler(name)(n, rng, spread, points).astype(np.float32)


def mode_centres(name: str, *, spread: float, points: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """The modes mode coverage counts: known Gaussian centres, else k-means centres of 4000 samples."""
    if name == "ring":
        return ring_centres().astype(np.float32)
    if name == "grid":
        return grid_centres().astype(np.float32)
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    xy = sample_2d(name, 4000, rng, spread=spread, points=points)
    k = KMEANS_MODES if points is None else min(KMEANS_MODES, len(np.unique(points, axis=0)))
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(xy)
    return km.cluster_centers_.astype(np.float32)


# ---------------------------------------------------------------------------------------------- drawn sets
def encode_points(xy: np.ndarray, *, fit: bool = False) -> tuple[int, ...]:
    """Points ``(n, 2)`` → the config's flat tuple of hundredths. ``fit`` rescales them (keeping the aspect) to
    fill most of the plane — for an upload in arbitrary units; otherwise they are clipped to the plane. More than
    ``MAX_POINTS`` points are thinned evenly."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise DataError("generative.errors.points_shape")
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) < MIN_POINTS:
        raise DataError("generative.errors.too_few_points", n=MIN_POINTS, count=len(xy))
    if len(xy) > MAX_POINTS:
        xy = xy[np.linspace(0, len(xy) - 1, MAX_POINTS).round().astype(int)]
    if fit:
        centre = (xy.max(axis=0) + xy.min(axis=0)) / 2
        half = float(np.abs(xy - centre).max()) or 1.0
        xy = (xy - centre) * (0.8 * EXTENT / half)
    ints = np.clip(np.round(xy * SCALE), -EXTENT * SCALE, EXTENT * SCALE).astype(int)
    return tuple(int(v) for v in ints.ravel())


def decode_points(values: tuple[int, ...]) -> np.ndarray:
    """The config's flat tuple of hundredths → ``(n, 2)`` float32 points."""
    if len(values) % 2:
        raise DataError("generative.errors.odd_points", count=len(values))
    return (np.asarray(values, dtype=np.float32).reshape(-1, 2) / SCALE).astype(np.float32)


def parse_points_csv(data: bytes | str) -> tuple[int, ...]:
    """A two-column CSV (an optional header row; comma, semicolon, tab or space separated) → encoded points,
    rescaled to the plane."""
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            raise DataError("generative.errors.csv_size", limit=MAX_CSV_BYTES // (1024 * 1024))
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError("generative.errors.csv_text") from exc
    text = data.strip()
    if not text:
        raise DataError("generative.errors.csv_empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    values: list[tuple[float, float]] = []
    for i, row in enumerate(rows):
        cells = [c.strip() for c in row if c.strip()]
        if len(cells) != 2:
            raise DataError("generative.errors.csv_columns", row=i + 1, count=len(cells))
        try:
            values.append((float(cells[0]), float(cells[1])))
        except ValueError as exc:
            if i == 0:  # a header row
                continue
            raise DataError("generative.errors.csv_number", row=i + 1, text=",".join(cells)[:40]) from exc
    xy = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(xy).all():
        raise DataError("generative.errors.csv_number", row=int(np.flatnonzero(~np.isfinite(xy).all(1))[0]) + 1,
                        text="nan/inf")
    return encode_points(xy, fit=True)
