"""The visitor's own table: a CSV upload read into typed columns, then turned into model inputs.

Two steps, so a page can show the columns before the visitor picks features and a label:

- :func:`read_csv` (bytes → :class:`Table`): UTF-8 text, the delimiter detected (or checked when given), every
  column typed as numeric or categorical, missing cells counted, and spreadsheet formulas refused;
- :func:`prepare` (table, label, features → :class:`TabularData`): rows without a label dropped, the rest split
  train / validation / test, numeric columns imputed (median) and standardized, categorical ones one-hot encoded
  (scikit-learn's ``ColumnTransformer``), classification with any number of classes or regression.

Every problem is a ``DataError`` with a catalogue key (``tabular.errors.*``) that says what to fix.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.errors import DataError

from . import DATASETS

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_CLASSES = 50
MAX_CATEGORIES = 20  # one-hot columns per categorical column; rarer values share an "infrequent" column
MIN_ROWS = 10
DELIMITERS = (",", ";", "\t", "|")
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})  # compared lower-cased and stripped
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP CSV injection)
TASKS = ("auto", "classification", "regression")
MISSING_CATEGORY = "(missing)"
REGRESSION_DISTINCT = 20  # a numeric label with more distinct values than this is a regression target


@dataclass(frozen=True)
class Column:
    """One column of the table: its type, missing cells and number of distinct values."""

    name: str
    kind: str  # "numeric" | "categorical"
    missing: int
    distinct: int


@dataclass
class Table:
    """A parsed CSV: numeric columns as float64 (NaN where missing), the others as text (None where missing)."""

    frame: pd.DataFrame
    columns: list[Column]
    delimiter: str

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def numeric(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "numeric"]

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "categorical"]

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise DataError("tabular.errors.unknown_column", name=name, columns=", ".join(self.names))

    def missing(self) -> dict[str, int]:
        """Missing cells per column (only the columns that have some)."""
        return {c.name: c.missing for c in self.columns if c.missing}


# ---------------------------------------------------------------------------------------------- reading
def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError("tabular.errors.encoding", line=line, byte=exc.start) from None


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    return [len(row) for row in csv.reader(lines, delimiter=delimiter)]


def _detect(lines: list[str], wanted: str | None) -> str:
    """The delimiter that splits every sample line into the same number (> 1) of fields."""
    consistent = {}
    for d in DELIMITERS:
        counts = _field_counts(lines, d)
        if counts and min(counts) == max(counts) > 1:
            consistent[d] = counts[0]
    if wanted is not None:
        if wanted in consistent:
            return wanted
        others = [d for d in consistent if d != wanted]
        if others and max(_field_counts(lines, wanted)) <= 1:
            raise DataError("tabular.errors.delimiter", used=_shown(wanted), found=_shown(others[0]))
        return wanted  # ragged or single-column: the parser names the line
    if consistent:
        return max(consistent, key=lambda d: (consistent[d], -DELIMITERS.index(d)))
    if all(n <= 1 for d in DELIMITERS for n in _field_counts(lines, d)):
        raise DataError("tabular.errors.one_column")
    # no delimiter is consistent over the sample: pick the most common one and let the parser name the bad line
    return max(DELIMITERS, key=lambda d: sum(_field_counts(lines, d)))


def _shown(delimiter: str) -> str:
    return {"\t": "tab", " ": "space"}.get(delimiter, delimiter)


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def _formula(cell: str) -> bool:
    return cell.startswith(FORMULA_START) or cell.lstrip().startswith(FORMULA_START[:4])


def read_csv(data: bytes, *, delimiter: str | None = None, max_rows: int = MAX_ROWS) -> Table:
    """Parse CSV bytes (first row = column names) into a typed :class:`Table`.

    ``delimiter=None`` detects one of ``, ; tab |``; a given delimiter that does not split the file while another
    would is reported as the wrong delimiter.
    """
    if not data or not data.strip():
        raise DataError("tabular.errors.empty")
    if len(data) > MAX_BYTES:
        raise DataError("tabular.errors.too_big", size=f"{len(data) / 2**20:.1f} MB", limit=f"{MAX_BYTES // 2**20} MB")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise DataError("tabular.errors.bad_delimiter", value=delimiter, choices=", ".join(map(_shown, DELIMITERS)))
    rows = data.count(b"\n") + (not data.endswith(b"\n")) - 1  # lines after the header, counted before decoding
    if rows > max_rows:
        raise DataError("tabular.errors.too_many_rows", rows=rows, limit=max_rows)
    text = _decode(data)
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise DataError("tabular.errors.no_rows")
    sep = _detect(lines[:50], delimiter)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True,
                          engine="c")
    except pd.errors.ParserError as exc:
        raise DataError("tabular.errors.ragged", detail=str(exc).strip()[:200]) from None
    except (pd.errors.EmptyDataError, csv.Error):
        raise DataError("tabular.errors.no_rows") from None
    if raw.shape[1] < 2:
        raise DataError("tabular.errors.one_column")
    if raw.shape[1] > MAX_COLUMNS:
        raise DataError("tabular.errors.too_many_columns", count=raw.shape[1], limit=MAX_COLUMNS)
    if len(raw) == 0:
        raise DataError("tabular.errors.no_rows")
    names = [str(n).strip() or f"column_{i + 1}" for i, n in enumerate(raw.columns)]
    for name in names:
        if _formula(name):
            raise DataError("tabular.errors.formula", column=name[:40], row=1, cell=name[:40])
    raw.columns = names
    frame, columns = {}, []
    for name in names:
        cells = raw[name].astype(str)
        missing = cells.map(_is_missing)
        numbers = pd.to_numeric(cells.where(~missing), errors="coerce")
        text_cells = ~missing & numbers.isna()
        if text_cells.any():
            bad = cells[text_cells].map(_formula)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                row = int(bad.index[i])
                raise DataError("tabular.errors.formula", column=name[:40], row=row + 2,
                                cell=cells[bad.index[i]][:40])
            values = cells.str.strip().where(~missing, None)
            frame[name] = values.astype(object)
            columns.append(Column(name, "categorical", int(missing.sum()), int(values.nunique(dropna=True))))
        else:
            numbers = numbers.astype(np.float64).replace([np.inf, -np.inf], np.nan)  # infinities count as missing
            frame[name] = numbers
            columns.append(Column(name, "numeric", int(numbers.isna().sum()), int(numbers.nunique(dropna=True))))
    return Table(pd.DataFrame(frame), columns, sep)


# ---------------------------------------------------------------------------------------------- model inputs
@dataclass
class TabularData:
    """A table as model inputs: float32 features, int64 class indices (or float32 standardized targets), split
    three ways; ``encode`` turns new rows of the feature columns into inputs the same way."""

    task: str  # "classification" | "regression"
    label: str
    features: list[str]  # the chosen source columns
    feature_names: list[str]  # one per model input (a categorical column gives one per value)
    class_names: list[str]  # empty for regression
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    encoder: ColumnTransformer
    missing: dict[str, int] = field(default_factory=dict)  # missing cells per used column (filled in)
    dropped: int = 0  # rows without a label
    y_mean: float = 0.0  # regression targets are trained as (y - y_mean) / y_std
    y_std: float = 1.0
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # numeric features: training min, max

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_inputs(self) -> int:
        return int(self.x_train.shape[1])

    def split_sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        """Rows of the feature columns (original units) → model inputs."""
        return torch.as_tensor(np.asarray(self.encoder.transform(frame[self.features]), dtype=np.float32))

    def target(self, y: torch.Tensor) -> np.ndarray:
        """Model outputs or targets → the label's own units (regression) or class indices (classification)."""
        if self.task == "regression":
            return y.detach().cpu().numpy().reshape(-1) * self.y_std + self.y_mean
        return y.detach().cpu().numpy().reshape(-1)


def _class_name(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split(n: int, y: np.ndarray | None, val_fraction: float, test_fraction: float,
           seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = np.arange(n)

    def stratify(part: np.ndarray) -> np.ndarray | None:
        if y is None:
            return None
        _, counts = np.unique(y[part], return_counts=True)
        return y[part] if counts.min() >= 3 else None

    rest, test = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=stratify(idx))
    if val_fraction <= 0:
        return rest, idx[:0], test
    train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction), random_state=seed,
                                  stratify=stratify(rest))
    return train, val, test


def _encoder(numeric: list[str], categorical: list[str], standardize: bool) -> ColumnTransformer:
    num = Pipeline([("impute", SimpleImputer(strategy="median")),
                    ("scale", StandardScaler() if standardize else "passthrough")])
    cat = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
                    ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES,
                                             sparse_output=False))])
    return ColumnTransformer([("num", num, numeric), ("cat", cat, categorical)], verbose_feature_names_out=False)


def prepare(table: Table, label: str, features: list[str] | tuple[str, ...] | None = None, *, task: str = "auto",
            val_fraction: float = 0.2, test_fraction: float = 0.2, standardize: bool = True,
            seed: int = 0) -> TabularData:
    """Model inputs from ``table``: ``label`` is the target column, ``features`` the input columns (default: all
    the others); ``task`` is ``"classification"``, ``"regression"`` or ``"auto"`` (a numeric label with many
    distinct values is regression)."""
    if task not in TASKS:
        raise DataError("tabular.errors.task", value=task, choices=", ".join(TASKS))
    if not (0 <= val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 0.9):
        raise DataError("tabular.errors.fractions", val=val_fraction, test=test_fraction)
    label_col = table.column(label)
    features = [f for f in table.names if f != label] if features is None else list(dict.fromkeys(features))
    for name in features:
        table.column(name)
    if label in features:
        raise DataError("tabular.errors.label_is_feature", name=label)
    if not features:
        raise DataError("tabular.errors.no_features")
    numeric = [f for f in features if table.column(f).kind == "numeric"]
    categorical = [f for f in features if table.column(f).kind == "categorical"]
    if not numeric:
        raise DataError("tabular.errors.no_numeric", columns=", ".join(features))

    frame = table.frame
    has_label = frame[label].notna().to_numpy()
    dropped = int((~has_label).sum())
    frame = frame[has_label].reset_index(drop=True)
    if len(frame) < MIN_ROWS:
        raise DataError("tabular.errors.too_few_rows", rows=len(frame), need=MIN_ROWS)
    if task == "auto":
        integral = label_col.kind == "numeric" and bool(np.all(np.mod(frame[label].to_numpy(), 1) == 0))
        many = label_col.distinct > REGRESSION_DISTINCT
        task = "regression" if label_col.kind == "numeric" and (many or not integral) else "classification"
    if task == "regression" and label_col.kind != "numeric":
        raise DataError("tabular.errors.label_not_numeric", name=label)

    class_names: list[str] = []
    if task == "classification":
        values = frame[label]
        keys = sorted(values.unique(), key=lambda v: (0, v, "") if isinstance(v, float) else (1, 0.0, str(v)))
        class_names = [_class_name(v) for v in keys]
        if len(class_names) < 2:
            raise DataError("tabular.errors.one_class", name=label, value=class_names[0] if class_names else "")
        if len(class_names) > MAX_CLASSES:
            raise DataError("tabular.errors.too_many_classes", name=label, count=len(class_names), limit=MAX_CLASSES)
        index = {k: i for i, k in enumerate(keys)}
        y_all = values.map(index).to_numpy(dtype=np.int64)
    else:
        y_all = frame[label].to_numpy(dtype=np.float64)

    train, val, test = _split(len(frame), y_all if task == "classification" else None, val_fraction, test_fraction,
                              seed)
    encoder = _encoder(numeric, categorical, standardize)
    x_frame = frame[features]
    encoder.fit(x_frame.iloc[train])
    x_all = np.asarray(encoder.transform(x_frame), dtype=np.float32)
    if not np.isfinite(x_all).all():  # a numeric column missing in every training row
        x_all = np.nan_to_num(x_all)
    names = [str(n) for n in encoder.get_feature_names_out()]

    y_mean, y_std = 0.0, 1.0
    if task == "regression":
        y_mean = float(y_all[train].mean())
        y_std = float(y_all[train].std()) or 1.0
        y_t = torch.as_tensor((y_all - y_mean) / y_std, dtype=torch.float32)[:, None]
    else:
        y_t = torch.tensor(y_all)
    x_t = torch.tensor(x_all)
    used = [*features, label]
    missing = {name: int(table.frame[name].isna().sum()) for name in used if table.frame[name].isna().any()}
    ranges = {name: (float(np.nanmin(frame[name].to_numpy()[train])), float(np.nanmax(frame[name].to_numpy()[train])))
              for name in numeric if np.isfinite(frame[name].to_numpy()[train]).any()}
    return TabularData(task, label, features, names, class_names, x_t[train], y_t[train], x_t[val], y_t[val],
                       x_t[test], y_t[test], encoder, missing, dropped, y_mean, y_std, ranges)


@DATASETS.register("your table", family="tabular", upload=True,
                   description="Your own CSV: pick the feature and label columns")
def load_csv(data: bytes, label: str, features: list[str] | tuple[str, ...] | None = None, *,
             delimiter: str | None = None, **options) -> TabularData:
    """:func:`read_csv` then :func:`prepare` in one call (the network builder's entry point)."""
    return prepare(read_csv(data, delimiter=delimiter), label, features, **options)
