"""Model diagnostics (trixi's pytorchutils and visdom logger extras) on torch autograd.

Input gradients (saliency): vanilla, guided backprop (backward hooks on every ``nn.ReLU``) and their
SmoothGrad variants; per-layer weight and gradient statistics and histograms; gradient flow; a text
graph of a model's structure (no graphviz); classification metrics (accuracy, per-class precision,
recall and F1, confusion matrix, ROC and PR curves with their AUCs)::

    grads = get_input_gradient(model, images, lambda out: out[:, 3].sum(), grad_type="guided-smooth")
    stats = model_statistics(model)                       # {"fc.weight": {"mean", "std", "absmax", ...}}
    print(model_structure(model, input_size=(1, 1, 8, 8)))
    metrics = get_classification_metrics(probabilities, labels)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from trialog.api import optional_import
from trialog.errors import ConfigError

GRAD_TYPES = ("vanilla", "vanilla-smooth", "guided", "guided-smooth")


def set_seed(seed: int) -> None:
    """Seed python's ``random``, numpy's global generator and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------------------------------------------
# input gradients


def get_vanilla_image_gradient(
    model: nn.Module, inpt: torch.Tensor, err_fn: Callable[[torch.Tensor], torch.Tensor], abs: bool = False
) -> np.ndarray:
    """The gradient of ``err_fn(model(inpt))`` with respect to ``inpt`` (a saliency map), as a numpy array."""
    x = inpt.detach().clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    err = err_fn(model(x))
    if err.numel() != 1:
        raise ConfigError(f"err_fn must return one scalar, got a tensor of shape {tuple(err.shape)}")
    (grad,) = torch.autograd.grad(err, x)
    out = grad.detach().cpu().numpy()
    return np.abs(out) if abs else out


def get_guided_image_gradient(
    model: nn.Module, inpt: torch.Tensor, err_fn: Callable[[torch.Tensor], torch.Tensor], abs: bool = False
) -> np.ndarray:
    """Guided backprop: like the vanilla gradient, but every ReLU passes back only positive gradients."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ConfigError(
            "guided backprop needs nn.ReLU modules in the model (functional relu calls cannot be hooked); "
            "use grad_type='vanilla'"
        )
    inplace = [m.inplace for m in relus]
    handles = []
    try:
        for m in relus:
            m.inplace = False  # a full backward hook cannot wrap an in-place op

            def hook(module: nn.Module, grad_in: Any, grad_out: Any) -> Any:
                return tuple(None if g is None else g.clamp(min=0) for g in grad_in)

            handles.append(m.register_full_backward_hook(hook))
        return get_vanilla_image_gradient(model, inpt, err_fn, abs=abs)
    finally:
        for h in handles:
            h.remove()
        for m, flag in zip(relus, inplace):
            m.inplace = flag


def get_smooth_image_gradient(
    model: nn.Module,
    inpt: torch.Tensor,
    err_fn: Callable[[torch.Tensor], torch.Tensor],
    abs: bool = True,
    n_runs: int = 20,
    eps: float = 0.1,
    grad_type: str = "vanilla",
) -> np.ndarray:
    """SmoothGrad: the mean gradient over ``n_runs`` copies of ``inpt`` with N(0, 1) noise scaled by ``eps``."""
    if n_runs < 1:
        raise ConfigError(f"n_runs must be at least 1, got {n_runs}")
    one = {"vanilla": get_vanilla_image_gradient, "guided": get_guided_image_gradient}.get(grad_type)
    if one is None:
        raise ConfigError(f"grad_type {grad_type!r} unknown for smoothing; choose 'vanilla' or 'guided'")
    total: np.ndarray | None = None
    for _ in range(n_runs):
        noisy = inpt.detach() + eps * torch.randn_like(inpt)
        grad = one(model, noisy, err_fn, abs=abs)
        total = grad if total is None else total + grad
    assert total is not None
    return total / n_runs


def get_input_gradient(
    model: nn.Module,
    inpt: torch.Tensor,
    err_fn: Callable[[torch.Tensor], torch.Tensor],
    grad_type: str = "vanilla",
    n_runs: int = 20,
    eps: float = 0.1,
    abs: bool = False,
    results_fn: Callable[[np.ndarray], Any] = lambda x: None,
) -> np.ndarray:
    """The input gradient by ``grad_type`` (vanilla, vanilla-smooth, guided, guided-smooth); also passed to ``results_fn``."""
    if grad_type not in GRAD_TYPES:
        raise ConfigError(f"grad_type {grad_type!r} unknown; choose one of {', '.join(GRAD_TYPES)}")
    if grad_type == "vanilla":
        grads = get_vanilla_image_gradient(model, inpt, err_fn, abs)
    elif grad_type == "guided":
        grads = get_guided_image_gradient(model, inpt, err_fn, abs)
    else:
        base = grad_type.split("-")[0]
        grads = get_smooth_image_gradient(model, inpt, err_fn, abs, n_runs, eps, base)
    results_fn(grads)
    return grads


# ---------------------------------------------------------------------------------------------------------------
# model statistics


def _stats(t: torch.Tensor, bins: int) -> dict[str, Any]:
    v = t.detach().float().cpu().flatten()
    counts, edges = np.histogram(v.numpy(), bins=bins)
    return {
        "mean": float(v.mean()),
        "std": float(v.std()) if v.numel() > 1 else 0.0,
        "absmax": float(v.abs().max()),
        "histogram": counts,
        "bin_edges": edges,
    }


def model_statistics(model: nn.Module, plot_grad: bool = False, bins: int = 30) -> dict[str, dict[str, Any]]:
    """Per parameter (``"fc.weight"``): mean, std, abs max and a histogram of its weights (or gradients).

    With ``plot_grad`` parameters without a gradient (not used yet, frozen) are left out.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, p in model.named_parameters():
        t = p.grad if plot_grad else p
        if t is None:
            continue
        out[name] = _stats(t, bins)
    return out


def gradient_flow(model: nn.Module) -> dict[str, dict[str, float]]:
    """Mean and max absolute gradient per weight tensor (biases left out), in forward order."""
    flow: dict[str, dict[str, float]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad and "bias" not in name and p.grad is not None:
            g = p.grad.detach().abs().float()
            flow[name] = {"mean": float(g.mean()), "max": float(g.max())}
    return flow


def model_structure(
    model: nn.Module, input_size: Iterable[int] | None = None, forward_kwargs: Mapping[str, Any] | None = None
) -> str:
    """A text graph of ``model``: one line per module with its parameters and, given ``input_size``
    (with the batch dimension), its output shape from one forward pass on zeros."""
    shapes: dict[str, str] = {}
    handles = []
    if input_size is not None:
        for name, module in model.named_modules():

            def hook(mod: nn.Module, args: Any, output: Any, name: str = name) -> None:
                if isinstance(output, torch.Tensor):
                    shapes[name] = str(tuple(output.shape))

            handles.append(module.register_forward_hook(hook))
        try:
            param = next(model.parameters(), None)
            device = param.device if param is not None else torch.device("cpu")
            with torch.no_grad():
                model(torch.zeros(tuple(input_size), device=device), **dict(forward_kwargs or {}))
        finally:
            for h in handles:
                h.remove()
    lines = []
    for name, module in model.named_modules():
        depth = 0 if not name else name.count(".") + 1
        own = sum(p.numel() for p in module.parameters(recurse=False))
        label = name or type(model).__name__
        line = f"{'  ' * depth}{label}: {type(module).__name__}"
        if own:
            line += f" [{own} params]"
        if name in shapes:
            line += f" -> {shapes[name]}"
        lines.append(line)
    total = sum(p.numel() for p in model.parameters())
    lines.append(f"total parameters: {total}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# heat maps

#: OpenCV's colormap constants (trixi passed ``cv2.COLORMAP_JET``) -> the matplotlib colormap of that name.
CV2_COLORMAPS = {
    0: "autumn", 1: "bone", 2: "jet", 3: "winter", 4: "rainbow", 5: "ocean", 6: "summer", 7: "spring",
    8: "cool", 9: "hsv", 10: "pink", 11: "hot", 13: "magma", 14: "inferno", 15: "plasma", 16: "viridis",
    17: "cividis", 18: "twilight", 19: "twilight_shifted", 20: "turbo",
}  # fmt: skip


def _colormap(colormap: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A matplotlib colormap from its name, an OpenCV constant or a callable (values in [0, 1] -> RGBA)."""
    if callable(colormap):
        return colormap  # type: ignore[no-any-return]
    name = CV2_COLORMAPS.get(colormap) if isinstance(colormap, int) else colormap
    colormaps = optional_import(
        "matplotlib", "colouring a heat map", "trialog-torch[plots]", error=ConfigError
    ).colormaps
    if not isinstance(name, str) or name not in colormaps:
        raise ConfigError(
            f"colormap {colormap!r} unknown; pass a matplotlib colormap name ('jet', 'viridis', ...), "
            f"an OpenCV constant ({', '.join(map(str, CV2_COLORMAPS))}) or a callable"
        )
    return colormaps[name]  # type: ignore[no-any-return]


def heatmap_overlay(
    heatmap: Any,
    background: Any = None,
    ratio: float = 0.3,
    normalize: bool = True,
    colormap: Any = "jet",
) -> np.ndarray:
    """trixi's heat-map grid: ``heatmap`` (N, 1, H, W) / (N, H, W) coloured by ``colormap``, mixed into
    ``background`` (N, C, H, W) as ``(1 - ratio) * background + ratio * map``; float (N, 3, H, W) in [0, 1].

    ``normalize`` stretches the heat maps' (and the backgrounds') min..max to [0, 1] (one range per
    batch, as torchvision's make_grid); otherwise values are clipped to [0, 1]. A heat map with C > 1
    channels uses its first one.
    """
    maps = _to_np(heatmap).astype(np.float32)
    if maps.ndim == 4:
        maps = maps[:, 0]
    elif maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3:
        raise ConfigError(f"heatmap must be (N, 1, H, W), (N, H, W) or (H, W), got shape {maps.shape}")
    if not 0.0 <= float(ratio) <= 1.0:
        raise ConfigError(f"ratio must be in [0, 1] (0: only background, 1: only the map), got {ratio!r}")
    coloured = _colormap(colormap)(_unit(maps, normalize))[..., :3].transpose(0, 3, 1, 2).astype(np.float32)
    if background is None:
        return coloured
    back = _to_np(background).astype(np.float32)
    if back.ndim == 3:
        back = back[:, None]
    if back.ndim != 4 or back.shape[0] != maps.shape[0] or back.shape[2:] != maps.shape[1:]:
        raise ConfigError(
            f"background must be (N, C, H, W) matching the heat maps {maps.shape[0]} x {maps.shape[1:]}, "
            f"got shape {back.shape}"
        )
    if back.shape[1] == 1:
        back = np.repeat(back, 3, axis=1)
    elif back.shape[1] != 3:
        raise ConfigError(f"background must have 1 or 3 channels, got {back.shape[1]}")
    return np.clip((1.0 - ratio) * _unit(back, normalize) + ratio * coloured, 0.0, 1.0)


def _unit(values: np.ndarray, normalize: bool) -> np.ndarray:
    if not normalize:
        return np.clip(np.nan_to_num(values), 0.0, 1.0)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return np.clip(np.nan_to_num((values - low) / max(high - low, 1e-5)), 0.0, 1.0)


# ---------------------------------------------------------------------------------------------------------------
# embeddings

EMBEDDING_METHODS = (
    "pca",
    "tsne",
    "umap",
    "standard",
    "ltsa",
    "hessian",
    "modified",
    "isomap",
    "mds",
    "spectral",
)


def get_tensor_embedding(
    tensor: Any, method: str = "tsne", n_dims: int = 2, n_neigh: int = 30, **meth_args: Any
) -> np.ndarray:
    """(N, D) features embedded into (N, ``n_dims``): "pca" built in (numpy SVD); "tsne", "isomap", "mds",
    "spectral" and the locally linear ones ("standard", "ltsa", "hessian", "modified") need scikit-learn,
    "umap" needs umap-learn; a missing package is a ConfigError that names it."""
    x = _to_np(tensor).astype(float)
    x = x.reshape(x.shape[0], -1)
    if not 1 <= n_dims <= x.shape[1]:
        raise ConfigError(f"n_dims must be between 1 and the feature size {x.shape[1]}, got {n_dims}")
    if method == "pca":
        centred = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        return centred @ vt[:n_dims].T
    if method not in EMBEDDING_METHODS:
        raise ConfigError(
            f"embedding method {method!r} unknown; choose one of {', '.join(EMBEDDING_METHODS)}"
        )
    purpose = f"embedding method {method!r}"
    if method == "umap":
        umap = optional_import("umap", purpose, "umap-learn", package="umap-learn", error=ConfigError)
        return np.asarray(umap.UMAP(n_components=n_dims, n_neighbors=n_neigh, **meth_args).fit_transform(x))
    manifold = optional_import(
        "sklearn.manifold", purpose, "scikit-learn", package="scikit-learn", error=ConfigError
    )
    if method == "tsne":
        perplexity = meth_args.pop("perplexity", min(float(n_neigh), (x.shape[0] - 1) / 3))
        est = manifold.TSNE(n_components=n_dims, perplexity=perplexity, init="pca", **meth_args)
    elif method == "isomap":
        est = manifold.Isomap(n_neighbors=n_neigh, n_components=n_dims, **meth_args)
    elif method == "mds":
        est = manifold.MDS(n_components=n_dims, **meth_args)
    elif method == "spectral":
        est = manifold.SpectralEmbedding(n_components=n_dims, n_neighbors=n_neigh, **meth_args)
    else:
        est = manifold.LocallyLinearEmbedding(
            n_neighbors=n_neigh, n_components=n_dims, method=method, **meth_args
        )
    return np.asarray(est.fit_transform(x))


# ---------------------------------------------------------------------------------------------------------------
# classification metrics


def _to_np(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _curves(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], y.size - 1]
    tps = np.cumsum(y)[distinct].astype(float)
    fps = (distinct + 1 - tps).astype(float)
    pos, neg = tps[-1], fps[-1]
    tpr = np.r_[0.0, tps / pos] if pos else np.full(tps.size + 1, np.nan)
    fpr = np.r_[0.0, fps / neg] if neg else np.full(fps.size + 1, np.nan)
    precision = np.r_[1.0, tps / (tps + fps)]
    recall = np.r_[0.0, tps / pos] if pos else np.full(tps.size + 1, np.nan)
    roc_auc = float(np.trapezoid(tpr, fpr)) if pos and neg else float("nan")
    ap = float(np.sum(np.diff(recall) * precision[1:])) if pos else float("nan")
    return {
        "fpr": fpr,
        "tpr": tpr,
        "roc_auc": roc_auc,
        "precision": precision,
        "recall": recall,
        "pr_auc": ap,
    }


def get_classification_metrics(
    tensor: Any, labels: Any, name: str = "", metric: Iterable[str] = ("roc-auc", "pr-score"), **kwargs: Any
) -> dict[str, Any]:
    """Classification metrics of scores ``tensor`` ((N,) binary scores or (N, C) class scores) and ``labels`` (N,).

    Returns ``accuracy``, ``precision``/``recall``/``f1`` per class, ``confusion_matrix`` (rows: true
    class), and for binary problems ``roc`` (fpr, tpr), ``pr`` (precision, recall), ``roc-auc``,
    ``pr-auc`` (average precision), ``pr-score`` and ``f1`` at 0.5 and ``mcc``. Labels must be class
    indices (0/1 for binary scores): anything else is a ConfigError, never a wrong curve.
    """
    scores = _to_np(tensor).astype(float)
    y = _to_np(labels)
    if y.ndim != 1 or scores.shape[0] != y.shape[0]:
        raise ConfigError(
            f"{name or 'classification metrics'}: labels must be (N,) matching scores of shape {scores.shape}, "
            f"got {y.shape}"
        )
    if y.size and (not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0):
        raise ConfigError(
            f"{name or 'classification metrics'}: labels must be class indices (0, 1, ...), got {y[:5]}"
        )
    y = y.astype(int)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    binary = scores.ndim == 1
    n_classes = 2 if binary else scores.shape[1]
    if y.size and y.max() >= n_classes:
        raise ConfigError(
            f"{name or 'classification metrics'}: label {int(y.max())} out of range for {n_classes} classes "
            "(binary scores need 0/1 labels; did you swap scores and labels?)"
        )
    pred = (scores >= 0.5).astype(int) if binary else scores.argmax(axis=1)
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(cm.sum(0) > 0, tp / cm.sum(0), 0.0)
        recall = np.where(cm.sum(1) > 0, tp / cm.sum(1), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    out: dict[str, Any] = {
        "accuracy": float(tp.sum() / max(y.size, 1)),
        "precision": precision,
        "recall": recall,
        "f1_per_class": f1,
        "confusion_matrix": cm,
    }
    if binary:
        c = _curves(scores, y)
        out["roc"] = (c["fpr"], c["tpr"])
        out["pr"] = (c["precision"], c["recall"])
        out["roc-auc"] = c["roc_auc"]
        out["pr-auc"] = c["pr_auc"]
        out["pr-score"] = float(precision[1])
        out["f1"] = float(f1[1])
        tn, fp, fn, tpos = cm[0, 0], cm[0, 1], cm[1, 0], cm[1, 1]
        denom = np.sqrt(float((tpos + fp) * (tpos + fn) * (tn + fp) * (tn + fn)))
        out["mcc"] = float((tpos * tn - fp * fn) / denom) if denom else 0.0
    else:
        aucs = []
        for k in range(n_classes):
            c = _curves(scores[:, k], (y == k).astype(int))
            aucs.append(c["roc_auc"])
        out["roc-auc"] = float(np.nanmean(aucs)) if not np.all(np.isnan(aucs)) else float("nan")
        out["f1"] = float(f1.mean())
    out["metric"] = {m: out[m] for m in metric if m in out}
    return out


__all__ = [
    "CV2_COLORMAPS",
    "EMBEDDING_METHODS",
    "GRAD_TYPES",
    "get_classification_metrics",
    "get_guided_image_gradient",
    "get_input_gradient",
    "get_smooth_image_gradient",
    "get_tensor_embedding",
    "get_vanilla_image_gradient",
    "gradient_flow",
    "heatmap_overlay",
    "model_statistics",
    "model_structure",
    "set_seed",
]
