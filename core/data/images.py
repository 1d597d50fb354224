"""Image datasets for the vision labs, all offline: scikit-learn's handwritten digits, a generated set of
colour shapes, and the visitor's own images (a zip of ``class_name/*.png`` folders or files per class).

Every loader returns an :class:`ImageDataset`: normalised ``(N, C, H, W)`` float tensors split into
train / validation / test, the class names, the per-channel mean and std used to normalise, and a
``preprocess`` that turns any picture (a drawing, an upload) into the network's input the same way.
"""

from __future__ import annotations

import io
import math
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from core.errors import ConfigError, DataError
from core.i18n import Message, text

from . import DATASETS

# ------------------------------------------------------------------------------------------- limits
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # one zip, or all files together
MAX_FILE_BYTES = 10 * 1024 * 1024  # one image
MAX_FILES = 3000
MAX_CLASSES = 20
MIN_PER_CLASS = 5
MAX_PIXELS = 25_000_000  # width × height of one decoded image (a 5000 × 5000 photo)
MAX_ZIP_RATIO = 200  # uncompressed / compressed size of one zip member: far beyond that is a bomb
SIZES = (8, 16, 28, 32, 48, 64)

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # PIL's own guard, as a second line of defence


@dataclass
class ImageDataset:
    """Normalised image tensors split three ways, plus what is needed to treat a new picture alike.

    ``x_*`` are ``(N, C, H, W)`` float32, normalised with ``mean`` / ``std`` (per channel, measured on the
    training split); ``y_*`` are int64 class indices into ``classes``. ``raw(x)`` undoes the
    normalisation (values in 0..1) for display.
    """

    name: str
    classes: list[str]
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    description: str = ""
    ink: bool = False  # light strokes on a dark ground (digits): drawings are cropped and centred
    native_size: int | None = None  # digits are 8×8 underneath, whatever size they are shown at
    flip_ok: bool = True  # whether a mirror image keeps the class (not for digits)
    notes: list[str] = field(default_factory=list)

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def size(self) -> int:
        return int(self.x_train.shape[-1])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.size, self.size)

    def split_sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` of ``"train"``, ``"val"`` (or ``"validation"``) or ``"test"``."""
        key = {"validation": "val"}.get(name, name)
        if key not in ("train", "val", "test"):
            raise KeyError(f"unknown split {name!r}")
        return getattr(self, f"x_{key}"), getattr(self, f"y_{key}")

    def class_counts(self, split: str = "train") -> dict[str, int]:
        _, y = self.split(split)
        counts = torch.bincount(y, minlength=self.num_classes).tolist()
        return dict(zip(self.classes, counts, strict=True))

    def _stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, -1, 1, 1)
        return (torch.tensor(self.mean, dtype=x.dtype).view(shape), torch.tensor(self.std, dtype=x.dtype).view(shape))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Pixel values in 0..1 → the network's input scale."""
        mean, std = self._stats(x)
        return (x - mean) / std

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The network's input scale → pixel values in 0..1 (for display)."""
        mean, std = self._stats(x)
        return (x * std + mean).clamp(0, 1)

    def preprocess(self, image: Image.Image | np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """A picture (PIL image or ``H×W[×C]`` array, e.g. a canvas' RGBA) → ``(1, C, H, W)`` input and the
        ``H×W×C`` 0..1 array the network sees (for display)."""
        pil = _to_pil(image)
        if self.ink:
            pixels = _ink_pixels(pil, self.native_size or self.size)
            x = torch.from_numpy(pixels)[None, None]
            if x.shape[-1] != self.size:
                x = upscale(x, self.size)
        else:
            x = torch.from_numpy(_fit_pixels(pil, self.size, self.channels))[None]
        return self.normalize(x), x[0].permute(1, 2, 0).numpy()


# --------------------------------------------------------------------------------------- helpers
def upscale(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of ``(N, C, h, w)`` pixel values to ``size × size``."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)


def stratified_split(y: np.ndarray, fractions: tuple[float, float, float], seed: int) -> tuple[np.ndarray, ...]:
    """Indices of train / validation / test, each class split in the same proportions (every split gets
    at least one image of every class that has three or more)."""
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-6) or min(fractions) <= 0:
        raise ConfigError("vision.errors.fractions")
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        n = len(idx)
        n_val = max(1, round(n * fractions[1])) if n >= 3 else 0
        n_test = max(1, round(n * fractions[2])) if n >= 3 else 0
        n_train = n - n_val - n_test
        parts[0] += idx[:n_train].tolist()
        parts[1] += idx[n_train:n_train + n_val].tolist()
        parts[2] += idx[n_train + n_val:].tolist()
    return tuple(rng.permutation(np.asarray(p, dtype=np.int64)) for p in parts)


def build_dataset(name: str, images: np.ndarray, labels: np.ndarray, classes: Sequence[str], *, seed: int = 0,
                  fractions: tuple[float, float, float] = (0.7, 0.15, 0.15), **extra) -> ImageDataset:
    """Split ``images`` (``(N, C, H, W)`` values in 0..1) and normalise them with the training split's
    per-channel mean and std."""
    x = torch.as_tensor(images, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.long)
    tr, va, te = (torch.from_numpy(i) for i in stratified_split(np.asarray(labels), fractions, seed))
    mean = x[tr].mean(dim=(0, 2, 3))
    std = x[tr].std(dim=(0, 2, 3)).clamp_min(1e-3)
    ds = ImageDataset(name, list(classes), x[tr], y[tr], x[va], y[va], x[te], y[te],
                      tuple(round(v, 4) for v in mean.tolist()), tuple(round(v, 4) for v in std.tolist()), **extra)
    ds.x_train, ds.x_val, ds.x_test = (ds.normalize(t).contiguous() for t in (ds.x_train, ds.x_val, ds.x_test))
    return ds


def _check_size(size: int) -> int:
    if size not in SIZES:
        raise ConfigError("vision.errors.image_size", choices=", ".join(map(str, SIZES)), value=size)
    return size


def _to_pil(image: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255 if arr.max() <= 1.0 else np.clip(arr, 0, 255)).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return Image.fromarray(arr)


def _flatten_alpha(image: Image.Image, background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """RGB(A)/LA/P → RGB, transparent parts filled with ``background`` (a blank canvas is transparent)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        base = Image.new("RGB", rgba.size, background)
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return image.convert("RGB")


def _ink_pixels(image: Image.Image, native: int) -> np.ndarray:
    """A drawn digit → ``native × native`` values in 0..1 the way the UCI digits were made: light ink on
    dark ground (inverted if the picture is mostly light), cropped to the ink, centred in a square and
    averaged down block by block."""
    gray = np.asarray(_flatten_alpha(image).convert("L"), dtype=np.float32) / 255.0
    if np.median(gray) > 0.5:  # dark strokes on white paper
        gray = 1.0 - gray
    gray = np.clip((gray - 0.15) / 0.85, 0, 1)  # drop faint background
    rows, cols = np.flatnonzero(gray.max(axis=1) > 0.2), np.flatnonzero(gray.max(axis=0) > 0.2)
    if len(rows) == 0:
        return np.zeros((native, native), dtype=np.float32)
    crop = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    square[top:top + h, left:left + w] = crop
    big = Image.fromarray((square * 255).astype(np.uint8)).resize((native * 4, native * 4), Image.Resampling.BOX)
    small = big.resize((native, native), Image.Resampling.BOX)
    out = np.asarray(small, dtype=np.float32) / 255.0
    return np.clip(out / max(out.max(), 1e-6) * 1.0, 0, 1) if out.max() > 0 else out


def _fit_pixels(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """Centre-crop to a square, resize to ``size`` and return ``(C, size, size)`` values in 0..1."""
    image = ImageOps.exif_transpose(image)
    rgb = _flatten_alpha(image, (255, 255, 255) if image.mode in ("LA", "RGBA") else (0, 0, 0))
    rgb = ImageOps.fit(rgb, (size, size), Image.Resampling.LANCZOS)
    if channels == 1:
        arr = np.asarray(rgb.convert("L"), dtype=np.float32)[None] / 255.0
    else:
        arr = np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return np.ascontiguousarray(arr)


# ---------------------------------------------------------------------------------------- digits
@DATASETS.register("digits", family="images", sizes=(8, 16, 28), default_size=16, channels=1,
                   description="1,797 handwritten digits 0–9 from scikit-learn (8×8 grey, upscaled on request)")
def load_digits_dataset(size: int = 16, seed: int = 0,
                        fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> ImageDataset:
    """scikit-learn's handwritten digits (UCI optdigits, 8×8, ink 0..16), optionally upscaled bilinearly to
    ``size`` (16 or 28), split stratified by class."""
    from sklearn.datasets import load_digits

    if size not in (8, 16, 28):
        raise ConfigError("vision.errors.digit_size", value=size)
    bunch = load_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32) / 16.0)[:, None]
    x = upscale(x, size)
    return build_dataset("digits", x.numpy(), bunch.target, [str(c) for c in range(10)], seed=seed,
                         fractions=fractions, ink=True, native_size=8, flip_ok=False,
                         description=Message("vision.data.digits_upscaled" if size != 8 else "vision.data.digits",
                                             size=size))


# ---------------------------------------------------------------------------------------- shapes
SHAPES = ("circle", "square", "triangle", "star")


def _polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if kind == "square":
        corners, radii = 4, [r * 1.15] * 4
    elif kind == "triangle":
        corners, radii = 3, [r * 1.15] * 3
    else:  # star: five points, inner radius ~0.45 r
        corners, radii = 10, [r * 1.15 if i % 2 == 0 else r * 0.48 for i in range(10)]
    return [(cx + radii[i] * math.cos(angle + 2 * math.pi * i / corners),
             cy + radii[i] * math.sin(angle + 2 * math.pi * i / corners)) for i in range(corners)]


def _random_colour(rng: np.random.Generator, avoid: np.ndarray | None = None) -> np.ndarray:
    """A saturated random colour, at least 0.35 away in luminance from ``avoid``."""
    for _ in range(50):
        colour = rng.uniform(0, 1, 3)
        colour[rng.integers(3)] = rng.uniform(0.7, 1.0)  # keep it vivid
        lum = colour @ np.array([0.299, 0.587, 0.114])
        if avoid is None or abs(lum - avoid @ np.array([0.299, 0.587, 0.114])) > 0.35:
            return colour
    return np.ones(3) - (avoid if avoid is not None else 0)


def draw_shape(kind: str, rng: np.random.Generator, size: int = 32, noise: float = 0.06) -> np.ndarray:
    """One ``(3, size, size)`` picture in 0..1: a ``kind`` shape of random size, position, rotation and colour
    on a random background with a gentle gradient and pixel noise (drawn 4× larger, then downsampled)."""
    scale = 4
    big = size * scale
    background = rng.uniform(0, 1, 3) * rng.choice([0.35, 1.0])
    colour = _random_colour(rng, background)
    r = rng.uniform(0.2, 0.4) * big
    cx, cy = rng.uniform(r + scale, big - r - scale, 2)
    angle = rng.uniform(0, 2 * math.pi)
    image = Image.new("RGB", (big, big), tuple(int(v * 255) for v in background))
    draw = ImageDraw.Draw(image)
    fill = tuple(int(v * 255) for v in colour)
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon(_polygon(kind, cx, cy, r, angle), fill=fill)
    small = image.resize((size, size), Image.Resampling.BOX)
    arr = np.asarray(small, dtype=np.float32).transpose(2, 0, 1) / 255.0
    ramp = np.linspace(-1, 1, size, dtype=np.float32)
    gradient = rng.uniform(-0.08, 0.08) * ramp[None, :] + rng.uniform(-0.08, 0.08) * ramp[:, None]
    arr = arr + gradient[None] + rng.normal(0, noise, arr.shape).astype(np.float32)
    return np.clip(arr, 0, 1)


@DATASETS.register("shapes", family="images", sizes=(32,), channels=3,
                   description="Generated colour shapes: circle, square, triangle, star (32×32 RGB, noisy)")
def load_shapes_dataset(size: int = 32, seed: int = 0, per_class: int = 500, noise: float = 0.06,
                        fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> ImageDataset:
    """``per_class`` pictures of each of :data:`SHAPES`, generated with PIL from ``seed``."""
    _check_size(size)
    if not 10 <= per_class <= 5000:
        raise ConfigError("vision.errors.shapes_count", low=10, high=5000, value=per_class)
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(SHAPES)), per_class)
    images = np.stack([draw_shape(SHAPES[k], rng, size, noise) for k in labels])
    return build_dataset("shapes", images, labels, SHAPES, seed=seed, fractions=fractions,
                         description=Message("vision.data.shapes", n=per_class, size=size))


# ----------------------------------------------------------------------------------- own images
def _human_bytes(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _safe_member(name: str) -> PurePosixPath | None:
    """The member's path, ``None`` for things to skip (folders, macOS/hidden files); traversal is an error."""
    clean = name.replace("\\", "/")
    path = PurePosixPath(clean)
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":") or ".." in path.parts:
        raise DataError("vision.errors.zip_outside", name=name)
    if clean.endswith("/") or any(p.startswith(".") or p == "__MACOSX" for p in path.parts):
        return None
    return path


def read_image_zip(data: bytes) -> dict[str, list[tuple[str, bytes]]]:
    """A zip of ``class_name/*.png|jpg`` folders (optionally inside one top folder) → ``{class: [(file,
    bytes)]}``, checked for size, file count, traversal and zip bombs without extracting anything to disk."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError("vision.errors.zip_size", size=_human_bytes(len(data)), limit=_human_bytes(MAX_UPLOAD_BYTES))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError("vision.errors.not_zip") from exc
    with archive:
        members = [(info, _safe_member(info.filename)) for info in archive.infolist()]
        members = [(info, path) for info, path in members if path is not None and not info.is_dir()]
        if len(members) > MAX_FILES:
            raise DataError("vision.errors.zip_files", count=len(members), limit=MAX_FILES)
        total = sum(info.file_size for info, _ in members)
        if total > 4 * MAX_UPLOAD_BYTES:
            raise DataError("vision.errors.zip_unpacked", size=_human_bytes(total),
                            limit=_human_bytes(4 * MAX_UPLOAD_BYTES))
        prefix = _common_root(members)
        by_class: dict[str, list[tuple[str, bytes]]] = {}
        for info, path in members:
            parts = path.parts[len(prefix):]
            if len(parts) < 2:
                raise DataError("vision.errors.no_class_folder", name=str(path))
            if info.flag_bits & 0x1:
                raise DataError("vision.errors.encrypted", name=str(path))
            if info.file_size > MAX_FILE_BYTES:
                raise DataError("vision.errors.file_size", name=str(path), size=_human_bytes(info.file_size),
                                limit=_human_bytes(MAX_FILE_BYTES))
            if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                raise DataError("vision.errors.zip_bomb", name=str(path),
                                ratio=info.file_size / max(info.compress_size, 1))
            try:
                with archive.open(info) as handle:
                    content = handle.read(MAX_FILE_BYTES + 1)  # never trust the header's size
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                raise DataError("vision.errors.zip_member", name=str(path)) from exc
            if len(content) > MAX_FILE_BYTES:
                raise DataError("vision.errors.unpacked_size", name=str(path), limit=_human_bytes(MAX_FILE_BYTES))
            by_class.setdefault(parts[-2], []).append((str(path), content))
    if not by_class:
        raise DataError("vision.errors.zip_empty")
    return by_class


def _common_root(members: list[tuple[zipfile.ZipInfo, PurePosixPath]]) -> tuple[str, ...]:
    """A single top folder wrapping all class folders (``dataset/cats/1.png``) is not a class itself."""
    paths = [p.parts for _, p in members]
    if paths and all(len(p) >= 3 for p in paths) and len({p[0] for p in paths}) == 1:
        return paths[0][:1]
    return ()


def decode_image(name: str, content: bytes) -> Image.Image:
    """Open and fully decode one uploaded image, with readable errors for the usual ways it goes wrong."""
    if not name.lower().endswith(IMAGE_EXTENSIONS):
        raise DataError("vision.errors.not_image_file", name=name, accepted=", ".join(IMAGE_EXTENSIONS))
    if len(content) > MAX_FILE_BYTES:
        raise DataError("vision.errors.file_size", name=name, size=_human_bytes(len(content)),
                        limit=_human_bytes(MAX_FILE_BYTES))
    try:
        with warnings.catch_warnings():  # the size is checked just below, with a clearer message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise DataError("vision.errors.pixel_bomb", name=name, width=width, height=height,
                            limit=MAX_PIXELS / 1e6)
        image.load()
    except DataError:
        raise
    except Image.DecompressionBombError as exc:
        raise DataError("vision.errors.decode_bomb", name=name) from exc
    except UnidentifiedImageError as exc:
        raise DataError("vision.errors.unreadable", name=name) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError("vision.errors.damaged", name=name) from exc
    return image


def dataset_from_files(files: Mapping[str, Sequence[tuple[str, bytes]]], *, size: int = 32,
                       color: str = "auto", seed: int = 0,
                       fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> ImageDataset:
    """``{class_name: [(file_name, bytes), ...]}`` → a split, normalised dataset. ``color`` is ``"rgb"``,
    ``"gray"`` or ``"auto"`` (grey when every picture is grey)."""
    _check_size(size)
    if color not in ("auto", "rgb", "gray"):
        raise ConfigError("vision.errors.color", value=color)
    classes = sorted(name.strip() for name in files if name.strip())
    if len(classes) < 2:
        if classes:
            raise DataError("vision.errors.one_class", name=classes[0])
        raise DataError("vision.errors.no_classes")
    if len(classes) > MAX_CLASSES:
        raise DataError("vision.errors.many_classes", count=len(classes), limit=MAX_CLASSES)
    n_files = sum(len(v) for v in files.values())
    if n_files > MAX_FILES:
        raise DataError("vision.errors.many_images", count=n_files, limit=MAX_FILES)
    total = sum(len(c) for v in files.values() for _, c in v)
    if total > MAX_UPLOAD_BYTES:
        raise DataError("vision.errors.images_size", size=_human_bytes(total), limit=_human_bytes(MAX_UPLOAD_BYTES))
    lookup = {name.strip(): items for name, items in files.items()}
    few = [f"{c} ({len(lookup[c])})" for c in classes if len(lookup[c]) < MIN_PER_CLASS]
    if few:
        raise DataError("vision.errors.few_images", n=MIN_PER_CLASS, classes=", ".join(few))
    decoded = [(k, decode_image(name, content)) for k, c in enumerate(classes) for name, content in lookup[c]]
    if color == "auto":
        gray = all(img.mode in ("1", "L", "LA", "I", "I;16", "F") for _, img in decoded)
        color = "gray" if gray else "rgb"
    channels = 1 if color == "gray" else 3
    images = np.stack([_fit_pixels(img, size, channels) for _, img in decoded])
    labels = np.array([k for k, _ in decoded])
    return build_dataset("your images", images, labels, classes, seed=seed, fractions=fractions,
                         description=Message("vision.data.upload_gray" if channels == 1 else "vision.data.upload_rgb",
                                             n=len(labels), classes=len(classes), size=size))


@DATASETS.register("your images", family="images", sizes=SIZES, upload=True,
                   description="Your own pictures: a zip of class folders, or a few files per class")
def load_uploaded_dataset(zip_bytes: bytes | None = None,
                          files: Mapping[str, Sequence[tuple[str, bytes]]] | None = None, **kwargs) -> ImageDataset:
    """The visitor's images from a zip of class folders or from ``{class: [(name, bytes)]}``."""
    if zip_bytes is not None:
        files = read_image_zip(zip_bytes)
    if not files:
        raise DataError("vision.errors.nothing_uploaded")
    return dataset_from_files(files, **kwargs)


def load_image_dataset(name: str, *, size: int | None = None, seed: int = 0, **kwargs) -> ImageDataset:
    """Any registered image dataset by name (``"digits"``, ``"shapes"``), as the CNN lab loads it by default
    (digits at 16×16, shapes at 32×32); ``seed`` fixes the split (and the generated shapes)."""
    entry = DATASETS.entry(name)
    if entry.family != "images" or entry.meta.get("upload"):
        raise ConfigError("vision.errors.not_builtin", value=name)
    default = entry.meta.get("default_size", entry.meta["sizes"][0])
    return entry.value(size=default if size is None else size, seed=seed, **kwargs)


# ---------------------------------------------------------------------------------- augmentation
@dataclass(frozen=True)
class Augmentation:
    """Random shift (fraction of the width), rotation (degrees), horizontal flip and Gaussian noise (in
    normalised units), applied to each training batch on the fly."""

    shift: float = 0.0
    rotation: float = 0.0
    flip: bool = False
    noise: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.shift or self.rotation or self.flip or self.noise)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if not self.active:
            return x
        n = x.shape[0]
        rand = lambda *shape: torch.rand(*shape, generator=generator).to(x.device)  # noqa: E731
        if self.shift or self.rotation or self.flip:
            angle = (rand(n) * 2 - 1) * math.radians(self.rotation)
            cos, sin = torch.cos(angle), torch.sin(angle)
            sx = torch.where(rand(n) < 0.5, -1.0, 1.0) if self.flip else torch.ones(n, device=x.device)
            shift = (rand(n, 2) * 2 - 1) * self.shift * 2  # affine_grid's coordinates span 2 per width
            theta = torch.stack([torch.stack([cos * sx, -sin, shift[:, 0]], 1),
                                 torch.stack([sin * sx, cos, shift[:, 1]], 1)], 1)
            grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if self.noise:
            x = x + torch.randn(x.shape, generator=generator).to(x.device) * self.noise
        return x


def augmentation_preview(ds: ImageDataset, augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
                         *, n_images: int = 6, n_versions: int = 5, seed: int = 0, classes: Sequence[str] | None = None,
                         lang: str = "en") -> tuple[np.ndarray, list[str]]:
    """``n_images`` training pictures, each followed by ``n_versions`` augmented versions: an
    ``(n_images * (1 + n_versions), C, H, W)`` array in 0..1 and a caption per tile (row-major) in ``lang``;
    ``classes`` are the class names to show (default: the dataset's)."""
    names = list(classes) if classes is not None else ds.classes
    generator = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.y_train), generator=generator)[:n_images]
    rows, titles = [], []
    for i in idx.tolist():
        x = ds.x_train[i:i + 1]
        versions = augment(x.repeat(n_versions, 1, 1, 1), generator)
        rows.append(torch.cat([x, versions]))
        titles += [text("vision.viz.original", lang, name=names[int(ds.y_train[i])])]
        titles += [text("vision.viz.augmented", lang, n=v + 1) for v in range(n_versions)]
    return ds.raw(torch.cat(rows)).numpy(), titles
