"""``trialog run CONFIG``: build model, data, trainer and loggers from one config file and train.

The config names everything by import path; a module next to the config file (``"model:DigitsCNN"``)
is importable because the config's folder is put first on ``sys.path`` while the run builds::

    {
      "name": "digits", "seed": 0, "base_dir": "runs",
      "model": {"type": "model:DigitsCNN", "params": {"num_classes": 10}},
      "data": {
        "train": {"type": "data:Digits", "params": {"split": "train"}},
        "val": {"type": "data:Digits", "params": {"split": "val"}},
        "loader": {"batch_size": 64, "shuffle": true}
      },
      "trainer": {"type": "classification", "epochs": 15, ...},
      "loggers": {"file": "file"},
      "kfold": {"k": 5, "stratified": true}
    }

``data.loader`` holds ``torch.utils.data.DataLoader`` options shared by every split; a split may
override them in its own ``loader`` entry. ``shuffle`` applies to the train split only, and
``"sampler": "balanced"`` draws train batches with :class:`~trialog_torch.data.ClassBalancedSampler`,
the names in :data:`trialog_torch.samplers.SAMPLERS` (``prevalence_random``, ``weighted``, ...) with theirs.
With ``kfold``, ``data.train`` is split into ``k`` folds, each trained as a run of its own named
``{name}_fold{i}``. Every failure is a :class:`~trialog.errors.ConfigError` naming the config key.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import inspect
import os
import random
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialog.api import ResumeFrom, code_folder, latest_run
from trialog.errors import ConfigError, TrialogError

__all__ = ["RunOutcome", "add_commands", "run_command", "run_config"]

DATA_SPLITS = ("train", "val", "test")
_SPLIT_KEYS = ("loader",)
_PROBE_ITEMS = 2


@dataclass
class RunOutcome:
    """What ``run_config`` produced: one entry per run (one, or one per fold) and the k-fold summary."""

    run_dirs: list[Path | None]  # None on DDP ranks other than 0
    metrics: list[dict[str, Any]]
    kfold_summary: dict[str, dict[str, float]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------- the command


def add_commands(subparsers: Any) -> None:
    """Add ``trialog run`` to the ``trialog`` CLI's subparsers."""
    parser = subparsers.add_parser(
        "run",
        help="train a model from a config file (model, data, trainer, loggers)",
        description=(
            "Build the model, data, trainer and loggers a config file names and train. Modules next to "
            'the config file are importable by name ("model:MyNet").'
        ),
        epilog=(
            "examples:\n"
            "  trialog run examples/digits/config.json\n"
            "  trialog run config.json --set trainer.epochs=3 --set data.loader.batch_size=128\n"
            "  trialog run config.json --resume last\n"
            "  trialog run config.json --eval runs/20260101-120000_digits --checkpoint best --split test\n"
            '  trialog run config.json --set \'kfold={"k": 5, "stratified": true}\' --set data.val=null'
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", type=Path, help="the config file (JSON, or YAML with pyyaml installed)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value by dotted key, e.g. --set trainer.epochs=3 (the key must exist; the value is read as JSON); repeatable",
    )
    parser.add_argument(
        "--resume", metavar="RUN|last", help="continue a run folder (or the newest run) from its checkpoint"
    )
    parser.add_argument(
        "--fallback",
        action="store_true",
        help="with --resume: when the latest checkpoint fails verification, resume from the newest intact one",
    )
    parser.add_argument(
        "--skip-unreadable",
        action="store_true",
        help="with --resume last: skip run folders whose run.json cannot be read instead of stopping",
    )
    parser.add_argument(
        "--eval",
        dest="eval_run",
        type=Path,
        metavar="RUN",
        help="evaluate a checkpoint of the run folder RUN without training; writes metrics and predictions "
        "into a new run folder <name>-eval beside RUN (RUN itself is never written)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="best|last|STEP",
        help="with --eval: which checkpoint of RUN (default: best)",
    )
    parser.add_argument(
        "--split", choices=("test", "val"), help="with --eval: the data split (default: test)"
    )
    parser.add_argument("--purpose", help="why this run exists (stored in run.json; see trialog runs ls)")
    parser.add_argument("--quiet", action="store_true", default=None, help="no progress bars")
    parser.add_argument(
        "--base-dir",
        type=Path,
        metavar="DIR",
        help="where run folders are created (default: the config's base_dir)",
    )
    parser.set_defaults(func=run_command)


def _resume_request(args: argparse.Namespace) -> Any:
    """``--resume`` with ``--fallback``/``--skip-unreadable`` folded in: "last" resolved, a ResumeFrom."""
    fallback, skip = getattr(args, "fallback", False), getattr(args, "skip_unreadable", False)
    if args.resume is None:
        if fallback or skip:
            raise ConfigError("--fallback and --skip-unreadable go with --resume")
        return None
    if not (fallback or skip):
        return args.resume
    target = args.resume
    if target == "last":
        base = args.base_dir
        if base is None:
            base = _load_config(Path(args.config)).get("base_dir") or "runs"
        target = latest_run(base, skip_unreadable=skip)
    return ResumeFrom(target, fallback=fallback)


def run_command(args: argparse.Namespace) -> int:
    """Run ``args.config``; print the run folder(s) and final metrics. A config error is one line on stderr."""
    try:
        outcome = run_config(
            args.config,
            overrides=args.overrides,
            resume=_resume_request(args),
            purpose=args.purpose,
            quiet=args.quiet,
            base_dir=args.base_dir,
            **_evaluation_args(args),
        )
    except TrialogError as exc:
        print(f"trialog run: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("trialog run: interrupted", file=sys.stderr)
        return 130
    if any(run_dir is None for run_dir in outcome.run_dirs):
        return 0  # a DDP rank other than 0: rank 0 reports
    for run_dir, metrics in zip(outcome.run_dirs, outcome.metrics):
        print(f"run folder: {run_dir}")
        print(f"final metrics: {_format_metrics(metrics)}")
    if outcome.kfold_summary:
        print(f"k-fold summary over {len(outcome.run_dirs)} folds:")
        for name, stats in outcome.kfold_summary.items():
            print(
                f"  {name}: {stats['mean']:.4g} ± {stats['std']:.2g} (min {stats['min']:.4g}, max {stats['max']:.4g})"
            )
    return 0


def _evaluation_args(args: argparse.Namespace) -> dict[str, Any]:
    """``--eval``, ``--checkpoint`` ("best", "last" or a step number) and ``--split`` for run_config."""
    run, checkpoint, split = (getattr(args, name, None) for name in ("eval_run", "checkpoint", "split"))
    if run is None:
        if checkpoint is not None or split is not None:
            raise ConfigError("--checkpoint and --split go with --eval RUN")
        return {}
    if checkpoint is None or checkpoint in ("best", "last"):
        return {"evaluate": run, "checkpoint": checkpoint or "best", "split": split or "test"}
    try:
        return {"evaluate": run, "checkpoint": int(checkpoint), "split": split or "test"}
    except ValueError:
        raise ConfigError(
            f"--checkpoint must be 'best', 'last' or a step number, got {checkpoint!r}"
        ) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _format_metrics(metrics: Mapping[str, Any]) -> str:
    if not metrics:
        return "(none)"
    parts = []
    for name, value in metrics.items():
        parts.append(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------- the run


def run_config(
    config: str | Path | Mapping[str, Any],
    *,
    overrides: Sequence[str] = (),
    resume: str | None = None,
    quiet: bool | None = None,
    base_dir: str | Path | None = None,
    config_dir: str | Path | None = None,
    purpose: str | None = None,
    evaluate: str | Path | None = None,
    checkpoint: str | int = "best",
    split: str = "test",
) -> RunOutcome:
    """Build everything ``config`` names and train; the Python face of ``trialog run``.

    With ``evaluate`` (a trained run's folder) nothing is trained: checkpoint ``checkpoint`` ("best",
    "last" or a step) of that run is evaluated on ``split``, in a new run folder ``<name>-eval`` beside it
    (or in ``base_dir``) that receives the metrics, ``<split>/epoch`` and ``result/predictions/<split>.npz``;
    the evaluated run is only read.

    Args:
        config: a config file path or an already loaded mapping.
        overrides: ``"dotted.key=value"`` strings; the key must exist in the config.
        resume: a run folder or ``"last"`` to continue from its latest checkpoint.
        base_dir: where run folders go (default: ``config["base_dir"]``, else the trainer's default).
        config_dir: the folder whose modules are importable by name (default: the config file's folder,
            or the working directory for a mapping).
    """
    if isinstance(config, Mapping):
        cfg = _apply_overrides(config, overrides)
        folder = Path(config_dir) if config_dir is not None else Path.cwd()
        default_name = "run"
    else:
        path = Path(config)
        cfg = _apply_overrides(_load_config(path), overrides)
        folder = Path(config_dir) if config_dir is not None else path.resolve().parent
        # examples/digits/config.json is the "digits" run, not the "config" run
        default_name = path.stem if path.stem != "config" else path.resolve().parent.name

    _check_top_level(cfg)
    if evaluate is not None:
        _check_evaluation(cfg, Path(evaluate), split, resume)
        cfg["evaluated"] = {"run": str(Path(evaluate).resolve()), "checkpoint": checkpoint, "split": split}
        if base_dir is None:
            base_dir = Path(evaluate).resolve().parent
    if purpose:
        cfg["purpose"] = purpose  # Experiment records it in run.json (a registry field: trialog-runs)
    seed = cfg.get("seed")
    if seed is None and resume is None:
        # The model is built before the trainer seeds anything, so a seed is needed now; the trainer's
        # experiment records it in run.json, so the run stays reproducible. (A resumed run keeps the
        # seed its run.json recorded, and its weights come from the checkpoint.)
        cfg["seed"] = secrets.randbelow(2**31)
    elif seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ConfigError(f"config key 'seed' must be an integer, got {seed!r}")
    if base_dir is None and cfg.get("base_dir") is not None:
        base_dir = cfg["base_dir"]
    name = str(cfg.get("name") or default_name)

    with _importable(folder, cfg):
        trainer_cls = _trainer_class(cfg)
        datasets = {
            split: _build_dataset(cfg, split) for split in DATA_SPLITS if cfg["data"].get(split) is not None
        }
        if evaluate is not None:
            run_dir, metrics = _fit(
                cfg, trainer_cls, datasets, name=f"{name}-eval", resume=None, quiet=quiet, base_dir=base_dir,
                evaluate=(Path(evaluate), checkpoint, split),
            )  # fmt: skip
            return RunOutcome([run_dir], [metrics])
        if cfg.get("kfold") is not None:
            return _run_kfold(
                cfg, trainer_cls, datasets, name=name, resume=resume, quiet=quiet, base_dir=base_dir
            )
        run_dir, metrics = _fit(
            cfg, trainer_cls, datasets, name=name, resume=resume, quiet=quiet, base_dir=base_dir
        )
        return RunOutcome([run_dir], [metrics])


def _fit(
    cfg: dict[str, Any],
    trainer_cls: Any,
    datasets: Mapping[str, Any],
    *,
    name: str,
    resume: str | None,
    quiet: bool | None,
    base_dir: str | Path | None,
    evaluate: tuple[Path, str | int, str] | None = None,
) -> tuple[Path | None, dict[str, Any]]:
    """Seed, build the model and loaders, check the first batch, train (or ``evaluate``: run folder,
    checkpoint, split); (run folder, final metrics)."""
    if cfg.get("seed") is not None:
        _seed_everything(cfg["seed"])
    model = _build_model(cfg)
    loaders = {split: _build_loader(cfg, split, dataset) for split, dataset in datasets.items()}
    _probe_first_batch(model, datasets["train"], loaders["train"], cfg["trainer"].get("input_key", "input"))
    trainer = trainer_cls(
        cfg,
        model,
        loaders["train"],
        loaders.get("val"),
        loaders.get("test"),
        name=name,
        base_dir=None if base_dir is None else Path(base_dir),
        loggers=cfg.get("loggers"),
        resume=resume,
        quiet=quiet,
    )
    metrics = trainer.fit() if evaluate is None else trainer.evaluate_run(*evaluate)
    run_dir = trainer.run_dir  # None on DDP ranks other than 0, which write nothing
    return (None if run_dir is None else Path(run_dir)), dict(metrics or {})


def _run_kfold(
    cfg: dict[str, Any],
    trainer_cls: Any,
    datasets: Mapping[str, Any],
    *,
    name: str,
    resume: str | None,
    quiet: bool | None,
    base_dir: str | Path | None,
) -> RunOutcome:
    from .data import run_kfold

    spec = cfg["kfold"]
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f'config key \'kfold\' must be a mapping such as {{"k": 5, "stratified": true}}, got {spec!r}'
        )
    unknown = sorted(set(spec) - {"k", "stratified", "seed"})
    if unknown:
        raise ConfigError(
            f"config key 'kfold' has unknown key(s) {unknown}; allowed: ['k', 'seed', 'stratified']"
        )
    if not isinstance(spec.get("stratified", False), bool):
        raise ConfigError(f"config key 'kfold.stratified' must be true or false, got {spec['stratified']!r}")
    if "k" not in spec:
        raise ConfigError("config key 'kfold.k' is missing: give the number of folds, e.g. \"k\": 5")
    if "val" in datasets:
        raise ConfigError(
            "config key 'data.val' cannot be combined with 'kfold': the folds of data.train are the validation "
            "sets; remove data.val (data.test stays a held-out set for every fold)"
        )
    if resume is not None:
        raise ConfigError(
            "--resume continues one run and cannot be combined with 'kfold'; run the k-fold again "
            "(each fold is seeded, so it repeats the same folds)"
        )
    k = spec["k"]
    if not isinstance(k, int) or isinstance(k, bool):
        raise ConfigError(f"config key 'kfold.k' must be an integer >= 2, got {k!r}")
    run_dirs: list[Path | None] = []

    def run_fold(index: int, fold_name: str, train: Any, val: Any) -> dict[str, Any]:
        fold_data = {**datasets, "train": train, "val": val}
        run_dir, metrics = _fit(
            cfg, trainer_cls, fold_data, name=fold_name, resume=None, quiet=quiet, base_dir=base_dir
        )
        run_dirs.append(run_dir)
        return metrics

    try:
        results, summary = run_kfold(
            datasets["train"],
            k,
            run_fold,
            name=name,
            stratified=bool(spec.get("stratified", False)),
            seed=_fold_seed(spec, cfg),
        )
    except ConfigError as exc:
        if run_dirs or str(exc).startswith("config key"):
            raise  # a fold's own error, or one that names its key already
        raise ConfigError(f"config key 'kfold': {exc}") from exc  # the split itself failed
    return RunOutcome(run_dirs, [dict(r) for r in results], summary)


def _check_evaluation(cfg: Mapping[str, Any], run: Path, split: str, resume: Any) -> None:
    """``--eval``: a run folder with checkpoints, a split the config has, no resume or k-fold."""
    from trialog.api import MANIFEST_NAME

    if resume is not None or cfg.get("kfold") is not None:
        raise ConfigError("--eval evaluates one trained run; it cannot be combined with --resume or 'kfold'")
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise ConfigError("--eval runs in one process; start it without torchrun")
    if not (run / "checkpoint" / MANIFEST_NAME).is_file():
        raise ConfigError(
            f"--eval {run}: not a run folder with checkpoints (no checkpoint/{MANIFEST_NAME}); give the folder "
            "of a trained run"
        )
    if split not in ("test", "val"):
        raise ConfigError(f"--split must be 'test' or 'val', got {split!r}")
    if cfg["data"].get(split) is None:
        raise ConfigError(f"config key 'data.{split}' is missing: --eval with --split {split} needs it")


def _fold_seed(spec: Mapping[str, Any], cfg: Mapping[str, Any]) -> int:
    seed = spec.get("seed", cfg.get("seed"))
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"config key 'kfold.seed' must be an integer (it picks the folds), got {seed!r}")
    return seed


# ---------------------------------------------------------------------------------------- building


#: The top-level keys a ``trialog run`` config may have; any other is a ConfigError before anything is built.
TOP_LEVEL_KEYS = ("name", "seed", "base_dir", "purpose", "model", "data", "trainer", "loggers", "kfold")


def _check_top_level(cfg: Mapping[str, Any]) -> None:
    for key in cfg:
        if key not in TOP_LEVEL_KEYS:
            close = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"config key {key!r} is not a trialog run key; {hint}allowed: {', '.join(TOP_LEVEL_KEYS)}"
            )
    for key in ("model", "data", "trainer"):
        if cfg.get(key) is None:
            raise ConfigError(
                f"config key '{key}' is missing: trialog run needs 'model', 'data' and 'trainer'"
            )
    data = cfg["data"]
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"config key 'data' must be a mapping with 'train' (and 'val', 'test', 'loader'), got {data!r}"
        )
    unknown = sorted(set(data) - {*DATA_SPLITS, "loader"})
    if unknown:
        raise ConfigError(
            f"config key 'data' has unknown key(s) {unknown}; allowed: train, val, test, loader"
        )
    if data.get("train") is None:
        raise ConfigError(
            'config key \'data.train\' is missing: name the training dataset ({"type": ..., "params": ...})'
        )
    trainer = cfg["trainer"]
    if not isinstance(trainer, Mapping) or "type" not in trainer:
        raise ConfigError(
            "config key 'trainer.type' is missing: name a trainer type such as \"classification\""
        )


def _trainer_class(cfg: Mapping[str, Any]) -> Any:
    from .trainers import trainer_class

    return trainer_class(cfg["trainer"]["type"])


def _build_dataset(cfg: Mapping[str, Any], split: str) -> Any:
    from .building import build_object

    spec = cfg["data"][split]
    if spec is None:
        return None
    return _user_code(
        f"data.{split}",
        spec,
        lambda: build_object(spec, f"data.{split}", kind="dataset", extra_keys=_SPLIT_KEYS),
    )


def _build_model(cfg: Mapping[str, Any]) -> Any:
    from torch import nn

    from .building import build_object

    model = _user_code("model", cfg["model"], lambda: build_object(cfg["model"], "model", kind="model"))
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"config key 'model.type' built a {type(model).__name__}, not a torch.nn.Module; name a model class"
        )
    return model


def _user_code(key: str, spec: Any, build: Callable[[], Any]) -> Any:
    """Run ``build``; any error a user's constructor raises becomes a ConfigError naming ``key``."""
    try:
        return build()
    except TrialogError:
        raise
    except Exception as exc:
        what = spec.get("type") if isinstance(spec, Mapping) else spec
        raise ConfigError(
            f"config key '{key}.params': building {what} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _loader_options(cfg: Mapping[str, Any], split: str) -> tuple[dict[str, Any], str]:
    """DataLoader options for ``split``: the shared ``data.loader`` merged with ``data.<split>.loader``."""
    shared = cfg["data"].get("loader") or {}
    if not isinstance(shared, Mapping):
        raise ConfigError(f"config key 'data.loader' must be a mapping of DataLoader options, got {shared!r}")
    options = dict(shared)
    key = "data.loader"
    if split != "train":
        # Shuffling and sampling are for training; evaluation sees every sample once, in order.
        options.pop("shuffle", None)
        options.pop("sampler", None)
    else:
        options.setdefault("shuffle", "sampler" not in options)
    spec = cfg["data"].get(split)  # None for the validation folds of k-fold
    if isinstance(spec, Mapping) and spec.get("loader") is not None:
        own = spec["loader"]
        if not isinstance(own, Mapping):
            raise ConfigError(
                f"config key 'data.{split}.loader' must be a mapping of DataLoader options, got {own!r}"
            )
        if "sampler" in own and "shuffle" not in own:
            options.pop("shuffle", None)
        options.update(own)
        key = f"data.{split}.loader"
    return options, key


def _build_loader(cfg: Mapping[str, Any], split: str, dataset: Any) -> Any:
    if dataset is None:
        return None
    from torch.utils.data import DataLoader

    options, key = _loader_options(cfg, split)
    allowed = set(inspect.signature(DataLoader.__init__).parameters) - {"self", "dataset", "batch_sampler"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ConfigError(
            f"config key '{key}' has unknown DataLoader option(s) {unknown}; see torch.utils.data.DataLoader"
        )
    if options.get("sampler") is not None:
        options["sampler"] = _build_sampler(
            options["sampler"], f"{key}.sampler", dataset, cfg.get("seed"), options.get("batch_size", 1)
        )
    for name in ("collate_fn", "worker_init_fn"):
        if isinstance(options.get(name), str):
            from .building import import_object

            options[name] = import_object(options[name], f"{key}.{name}")
    try:
        return DataLoader(dataset, **options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"config key '{key}': DataLoader rejected the options {sorted(options)}: {exc}"
        ) from exc


def _build_sampler(spec: Any, key: str, dataset: Any, seed: int | None, batch_size: Any) -> Any:
    from .building import build_object, split_spec
    from .samplers import SAMPLERS, build_sampler

    kind, params, _ = split_spec(spec, key)
    if isinstance(kind, str) and kind in SAMPLERS:
        # The order then depends on seed and epoch only: exact on resume, and equal on every DDP rank.
        return build_sampler(kind, params, key, dataset, seed=seed, batch_size=batch_size)
    return build_object(spec, key, dataset, kind="sampler")


def _probe_first_batch(model: Any, dataset: Any, loader: Any, input_key: str) -> None:
    """Run the model on a tiny first batch so shape mismatches name the config keys, not a deep frame.

    Runs on CPU in eval mode without gradients and restores every RNG, so training is unchanged.
    """
    import numpy as np
    import torch

    n = min(_PROBE_ITEMS, len(dataset))
    if n == 0:
        raise ConfigError("config key 'data.train': the training dataset is empty")
    try:
        items = [dataset[i] for i in range(n)]
    except Exception as exc:
        raise ConfigError(
            f"config key 'data.train': reading item 0 of {type(dataset).__name__} failed: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        batch = loader.collate_fn(items)
    except Exception as exc:
        raise ConfigError(
            f"config key 'data.loader.collate_fn': collating the first items of data.train failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    inputs = _model_input(batch, input_key)
    if inputs is None:
        return  # an unusual batch layout: the trainer's own first-batch check names the problem
    model_name = type(model).__name__
    py_state, np_state = random.getstate(), np.random.get_state()
    was_training = model.training
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            model.eval()
            model(inputs)
    except Exception as exc:
        raise ConfigError(
            f"config key 'model': {model_name} failed on the first batch of data.train (input {_describe(inputs)}): "
            f"{type(exc).__name__}: {exc}; check model.params against the data"
        ) from exc
    finally:
        model.train(was_training)
        random.setstate(py_state)
        np.random.set_state(np_state)


def _model_input(batch: Any, input_key: str) -> Any:
    """What the trainers feed the model (item 0 of a pair, ``batch[input_key]`` of a dict), else None."""
    if isinstance(batch, Mapping):
        return batch.get(input_key)
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        return batch[0]
    return None


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"shape {list(shape)}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in value.items()) + "}"
    return type(value).__name__


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def _importable(folder: Path, cfg: Mapping[str, Any]) -> Iterator[None]:
    """Put ``folder`` first on ``sys.path`` while building, so ``"model:Net"`` is the config's own model.py,
    and make it a code folder of the run (``trialog.api.code_folder``: sources and git state from there).

    A module of the same name imported earlier from elsewhere (another config's model.py) is dropped
    from ``sys.modules`` first, or the import would silently return the stale one.
    """
    folder = folder.resolve()
    for top in _local_modules(cfg, folder):
        loaded = sys.modules.get(top)
        origin = getattr(loaded, "__file__", None)
        if loaded is not None and (
            origin is None or Path(origin).resolve().parent not in (folder, folder / top)
        ):
            for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
                del sys.modules[name]
    entry = str(folder)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        with code_folder(folder):  # the run's sources.zip and git state come from here, whatever the cwd
            yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def _local_modules(cfg: Any, folder: Path) -> set[str]:
    """Top-level module names that config ``type`` entries use and that exist in ``folder``."""
    found: set[str] = set()
    stack = [cfg]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            value = node.get("type")
            if isinstance(value, str):
                top = value.partition(":")[0].split(".")[0].strip()
                if top and ((folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file()):
                    found.add(top)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


# ---------------------------------------------------------------------------------------- config files


def _plain(value: Any) -> Any:
    """A deep copy as plain dicts and lists (a trialog.Config or any mapping in)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _load_config(path: Path) -> Any:
    """The config file as a ``trialog.Config`` (JSON, or YAML with pyyaml); nothing in it is imported."""
    from trialog.api import Config

    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; give the path of a JSON or YAML config")
    return Config(file_=path)


def _apply_overrides(config: Any, overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set dotted.key=value`` overrides and return a plain dict.

    Only keys the config has can be set (a typo must not start a long run with the default), and values
    are read guided by the type they replace (``--set trainer.epochs=3`` stays an int).
    """
    if not overrides:
        return _plain(config)
    from trialog.api import Config

    cfg = config if isinstance(config, Config) else Config(config=_plain(config))
    argv = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. --set trainer.epochs=3"
            )
        argv.append(f"--{key.strip()}={value}")
    try:
        cfg.update_from_argv(argv)
    except TrialogError as exc:
        message = _one_line(exc)
        for option in argv:
            name = option.partition("=")[0]
            message = message.replace(f"{name} ", f"--set {name[2:]} ").replace(
                f"{name})", f"--set {name[2:]})"
            )
        raise ConfigError(message) from exc
    return _plain(cfg)
