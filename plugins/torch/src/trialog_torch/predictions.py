"""Per-sample predictions of an evaluation: one row per sample in ``result/predictions/<split>.npz`` (or ``.csv``).

What delira's ``predict`` returns and thelper's ``ClassifLogger``/``SegmOutputGenerator`` write. A row
holds ``index`` (the sample's position in the split, in loader order), ``id`` (when the dataset gives
one: an ``"id"`` entry of dict batches, or a dataset attribute ``ids``), ``target`` and ``output`` (the
model output as it came out, when a sample's output has at most ``max_values`` values) and, from the
classification trainers, ``top_k_index``/``top_k_score`` (softmax scores of the ``top_k`` best classes).
The segmentation trainer writes each predicted map as a PNG coloured by class
(``result/predictions/<split>/<id or index>.png``) with the class → name/colour legend in
``<split>_classes.json``, and the row names it in ``image``. Configured by ``trainer.predictions``::

    "predictions": true                                   # npz, top 5
    "predictions": {"format": "csv", "top_k": 3, "color_map": {"0": [0, 0, 0]}}
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from trialog_figures import encode_png

from trialog.api import write_atomic, write_json
from trialog.errors import ConfigError

__all__ = ["PredictionOptions", "Predictions", "palette"]

FORMATS = ("npz", "csv")
_OPTION_KEYS = frozenset({"format", "top_k", "max_values", "color_map"})


@dataclass
class PredictionOptions:
    """``trainer.predictions``: file format, how many classes a row ranks, colours of segmentation maps."""

    format: str = "npz"
    top_k: int = 5
    #: Outputs and targets with more values per sample are left out of the rows (maps become images).
    max_values: int = 1024
    #: Class index -> (r, g, b) for segmentation maps; the other classes take :func:`palette` colours.
    color_map: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, spec: Any, key: str = "trainer.predictions") -> PredictionOptions | None:
        """None for false/absent; true, ``"npz"``, ``"csv"`` or a mapping of the fields otherwise."""
        if spec is None or spec is False:
            return None
        if spec is True:
            return cls()
        if isinstance(spec, str):
            spec = {"format": spec}
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"config key '{key}' must be true/false, 'npz', 'csv' or a mapping, got {spec!r}"
            )
        unknown = sorted(set(spec) - _OPTION_KEYS)
        if unknown:
            raise ConfigError(
                f"config key '{key}' has unknown key(s) {unknown}; allowed: {sorted(_OPTION_KEYS)}"
            )
        options = cls()
        fmt = spec.get("format", options.format)
        if fmt not in FORMATS:
            raise ConfigError(f"config key '{key}.format' must be one of {list(FORMATS)}, got {fmt!r}")
        options.format = fmt
        for name in ("top_k", "max_values"):
            value = spec.get(name, getattr(options, name))
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"config key '{key}.{name}' must be an integer >= 1, got {value!r}")
            setattr(options, name, value)
        colors = spec.get("color_map") or {}
        if not isinstance(colors, Mapping):
            raise ConfigError(
                f"config key '{key}.color_map' must map class index -> [r, g, b], got {colors!r}"
            )
        for index, color in colors.items():
            try:
                rgb = tuple(int(c) for c in color)
                options.color_map[int(index)] = (rgb[0], rgb[1], rgb[2])
                if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
                    raise ValueError
            except (TypeError, ValueError, IndexError):
                raise ConfigError(
                    f"config key '{key}.color_map.{index}' must be [r, g, b] with values 0-255, got {color!r}"
                ) from None
        return options


def palette(n: int, color_map: Mapping[int, tuple[int, int, int]] | None = None) -> np.ndarray:
    """``n`` distinct uint8 RGB colours (PASCAL VOC's bit-interleaved palette: 0 black, 1 dark red...)."""
    colors = np.zeros((n, 3), dtype=np.uint8)
    for index in range(n):
        c, r, g, b = index, 0, 0, 0
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        colors[index] = (r, g, b)
    for index, rgb in (color_map or {}).items():
        if 0 <= index < n:
            colors[index] = rgb
    return colors


class Predictions:
    """Collects the rows of one split's evaluation and writes them (:meth:`write`).

    :meth:`add` takes a batch's columns (tensors whose first dimension is the batch) and the batch itself
    (for ids); a column ``"map"`` (N, H, W) of class indices becomes one coloured PNG per sample.
    """

    def __init__(
        self,
        folder: str | Path,
        split: str,
        options: PredictionOptions,
        *,
        class_names: Sequence[str] | None = None,
        dataset: Any = None,
    ) -> None:
        self.folder = Path(folder)
        self.split = split
        self.options = options
        self.class_names = list(class_names) if class_names is not None else None
        self.dataset = dataset
        self.columns: dict[str, list[np.ndarray]] = {}
        self.ids: list[Any] = []
        self.files: list[str] = []
        self.count = 0
        self.classes = 0

    def add(self, rows: Mapping[str, torch.Tensor], batch: Any) -> None:
        """Keep one batch's rows; maps are written as images right away."""
        n = None
        for name, value in rows.items():
            value = value.detach()
            n = int(value.shape[0]) if value.dim() else 1
            if name == "map":
                self._write_maps(value)
                continue
            if value.dim() == 0 or value[0].numel() > self.options.max_values:
                continue
            if value.dtype in (torch.bfloat16, torch.float16):
                value = value.float()
            self.columns.setdefault(name, []).append(value.cpu().numpy())
        if n is None:
            return
        self._add_ids(batch, n)
        self.count += n

    def _add_ids(self, batch: Any, n: int) -> None:
        ids = batch.get("id") if isinstance(batch, Mapping) else None
        if ids is None:
            source = getattr(self.dataset, "ids", None)
            if source is None:
                return
            ids = [source[i] for i in range(self.count, self.count + n)]
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        self.ids.extend(ids)

    def _write_maps(self, maps: torch.Tensor) -> None:
        maps = maps.to(torch.int64).cpu().numpy()
        self.classes = max(self.classes, int(maps.max()) + 1 if maps.size else 0, len(self.class_names or ()))
        colors = palette(max(self.classes, 256), self.options.color_map)
        target = self.folder / self.split
        target.mkdir(parents=True, exist_ok=True)
        for offset, index_map in enumerate(maps):
            name = f"{self.count + offset:06d}.png"
            write_atomic(target / name, encode_png(colors[np.clip(index_map, 0, 255)]), durable=False)
            self.files.append(f"{self.split}/{name}")

    def table(self) -> dict[str, np.ndarray]:
        """The rows as columns: ``index``, ``id``, ``image`` (segmentation maps) and every column added."""
        out: dict[str, np.ndarray] = {"index": np.arange(self.count, dtype=np.int64)}
        if self.ids:
            out["id"] = np.asarray(self.ids)
        if self.files:
            out["image"] = np.asarray(self.files)
        for name, parts in self.columns.items():
            out[name] = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return out

    def write(self) -> Path:
        """Write ``<split>.npz`` or ``<split>.csv`` (and the segmentation legend); returns the file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        table = self.table()
        if self.options.format == "csv":
            path = self.folder / f"{self.split}.csv"
            write_atomic(path, _csv(table).encode())
        else:
            path = self.folder / f"{self.split}.npz"
            buffer = io.BytesIO()
            np.savez(buffer, **table)  # type: ignore[arg-type]  # numpy's stub types **kwds as its bool option
            write_atomic(path, buffer.getvalue())
        if self.files:
            colors = palette(max(self.classes, 1), self.options.color_map)
            names = self.class_names or [str(i) for i in range(self.classes)]
            legend = [
                {"index": i, "name": names[i] if i < len(names) else str(i), "color": colors[i].tolist()}
                for i in range(self.classes)
            ]
            write_json(self.folder / f"{self.split}_classes.json", legend, indent=1)
        return path


def _csv(table: Mapping[str, np.ndarray]) -> str:
    """One row per sample; a column of several values per sample becomes ``name_0``, ``name_1``..."""
    header: list[str] = []
    columns: list[np.ndarray] = []
    for name, values in table.items():
        flat = values.reshape(len(values), -1) if values.ndim > 1 else values[:, None]
        columns.append(flat)
        header.extend(
            [name]
            if flat.shape[1] == 1 and values.ndim == 1
            else [f"{name}_{i}" for i in range(flat.shape[1])]
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in range(len(columns[0]) if columns else 0):
        writer.writerow(
            [repr(v.item()) if isinstance(v, np.floating) else v for col in columns for v in col[row]]
        )
    return out.getvalue()
