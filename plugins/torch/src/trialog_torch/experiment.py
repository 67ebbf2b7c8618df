"""``TorchExperiment``: trixi's PytorchExperiment on trialog's crash-safe run folder with exact resume.

Modules, optimizers, LR schedulers, AMP grad scalers and tensors assigned as attributes are found
automatically and go into every checkpoint, with the "simple" attributes (numbers, strings, lists,
tuples, sets and dicts of those) and the torch CPU/CUDA RNG states, so a run killed and resumed
produces the results an uninterrupted run would::

    class MNIST(TorchExperiment):
        def setup(self):
            self.model = Net().to(self.device)
            self.optimizer = torch.optim.Adam(self.model.parameters())
        def train(self, epoch):
            ...
            self.add_result(loss.item(), "loss", tag="train")

    MNIST(config, n_epochs=10, seed=1, base_dir="runs").run()
    MNIST(config, n_epochs=10, base_dir="runs", resume="last").run()   # continues where it died

Attributes whose name starts with an underscore, and those that exist when the constructor returns
(name, n_epochs, seed, the run folders, options), are not checkpointed. Built only on
:mod:`trialog.api`'s extension surface: the torch state is the experiment's ``get_state``/``set_state``
(what a restore applies is the :class:`~trialog.api.RestoreContext` it receives), named checkpoints are
:meth:`~trialog.Experiment.checkpoint_series`, loading is :meth:`~trialog.Experiment.restore_state`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trialog.api import MANIFEST_NAME, CheckpointManager, Experiment, RestoreContext, check_flags, is_simple
from trialog.errors import CheckpointError, TrialogWarning

from .utils import map_structure, move_to_device, name_and_iter_to_filename, resolve_device, update_model

#: What a checkpoint can hold (trixi's names): modules, optimizers (with schedulers and grad scalers),
#: simple attributes, tensor attributes, and the results log position.
SAVE_TYPES: tuple[str, ...] = ("model", "optimizer", "simple", "th_vars", "results")
_SERIES_SELECTORS = ("last", "best")
_FILE_SUFFIXES = (".pt", ".pth", ".tar", ".ckpt", ".bin")


class TorchExperiment(Experiment):
    """An :class:`trialog.Experiment` that checkpoints torch state and restores it exactly.

    Args (besides :class:`trialog.Experiment`'s ``config, name, n_epochs, seed, base_dir, loggers,
    resume, resume_new_folder, append_rnd_to_name, folder_format, checkpoint, save_sources``):
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``;
            available as :attr:`device` (the experiment does not move your modules, ``self.to_device``
            does).
        resume: as in Experiment (a run folder or ``"last"``), or another TorchExperiment.
        resume_save_types: which parts of the checkpoint a resume restores (see :data:`SAVE_TYPES`).
        resume_reset_epochs: start again at epoch 0 after restoring (trixi's fine-tuning behaviour;
            trixi's default was True, here it is False so a resume continues exactly).
        checkpoint_to_cpu: copy tensors to the CPU before a synchronous save (asynchronous saves always
            snapshot to host memory).
        save_checkpoint_every_epoch: checkpoint every N epochs (``checkpoint["every"]``; 0 disables).
        default_save_types: what automatic checkpoints hold.
        deterministic: ask torch and cuDNN for deterministic kernels (slower on GPU).
        globs: accepted for trixi compatibility; the sources are packed automatically (``save_sources``).
        save_checkpoints_default: also write trixi's named checkpoints: ``checkpoint_current`` after each
            checkpointed epoch and ``checkpoint_last`` at the end of :meth:`run` (trixi's default was True).

    The default checkpoint format is ``torch`` (:class:`trialog_torch.checkpoint.TorchFormat`).
    """

    def __init__(
        self,
        config: Any = None,
        name: str | None = None,
        n_epochs: int | None = None,
        seed: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        *,
        device: str | torch.device | None = "auto",
        resume: Any = None,
        resume_save_types: Iterable[str] = SAVE_TYPES,
        resume_reset_epochs: bool = False,
        checkpoint_to_cpu: bool = True,
        save_checkpoint_every_epoch: int | None = None,
        default_save_types: Iterable[str] = SAVE_TYPES,
        checkpoint: Mapping[str, Any] | bool | None = None,
        deterministic: bool = False,
        globs: Any = None,
        save_checkpoints_default: bool = False,
        **kwargs: Any,
    ) -> None:
        check_flags(
            "TorchExperiment",
            {
                "checkpoint_to_cpu": checkpoint_to_cpu,
                "deterministic": deterministic,
                "save_checkpoints_default": save_checkpoints_default,
            },
        )
        self.save_checkpoints_default = bool(save_checkpoints_default)
        self.device: torch.device = resolve_device(device)
        self.resume_save_types = _check_save_types(resume_save_types, "resume_save_types")
        self.default_save_types = _check_save_types(default_save_types, "default_save_types")
        self.checkpoint_to_cpu = bool(checkpoint_to_cpu)
        self.deterministic = bool(deterministic)
        if deterministic:
            _make_deterministic()
        if isinstance(resume, Experiment):
            resume = resume.run_dir
        if checkpoint is not False:
            options = dict(checkpoint) if isinstance(checkpoint, Mapping) else {}
            options.setdefault("format", "torch")
            if save_checkpoint_every_epoch is not None:
                options["every"] = int(save_checkpoint_every_epoch)
            checkpoint = options
        # What a save is currently asked to include; read by get_state.
        self._save_types: tuple[str, ...] | None = None
        super().__init__(
            config=config,
            name=name,
            n_epochs=n_epochs,
            seed=seed,
            base_dir=base_dir,
            resume=resume,
            checkpoint=checkpoint,
            resume_reset_epochs=resume_reset_epochs,
            **kwargs,
        )

    #: The torch format stores sets: a set of simple values is simple here (see :func:`trialog.api.is_simple`).
    simple_sets = True

    # ------------------------------------------------------------------ discovery (trixi's names)
    def _public_items(self) -> Iterable[tuple[str, Any]]:
        return ((k, v) for k, v in list(self.__dict__.items()) if not k.startswith("_"))

    def get_pytorch_modules(self, from_config: bool = True) -> dict[str, nn.Module]:
        """Modules held by attributes (also inside dicts: ``"models.encoder"``) and, optionally, by the config."""
        found: dict[str, nn.Module] = {}

        def visit(prefix: str, value: Any) -> None:
            if isinstance(value, nn.Module):
                found[prefix] = value
            elif type(value) is dict:
                for key, inner in value.items():
                    visit(f"{prefix}.{key}", inner)

        for key, value in self._public_items():
            if key != "config":
                visit(key, value)
        if from_config and isinstance(self.config, Mapping):
            for key, value in self.config.items():
                if isinstance(value, nn.Module):
                    found[f"config.{key}"] = value
        return found

    def get_pytorch_optimizers(self, from_config: bool = True) -> dict[str, torch.optim.Optimizer]:
        """Optimizers held by attributes (also in dicts: ``"optimizers.generator"``) and, optionally, by the config."""
        found = _held(self._public_items(), (torch.optim.Optimizer,))
        if from_config and isinstance(self.config, Mapping):
            for key, value in self.config.items():
                if isinstance(value, torch.optim.Optimizer):
                    found[f"config.{key}"] = value
        return found

    def get_pytorch_schedulers(self) -> dict[str, Any]:
        """LR schedulers (ReduceLROnPlateau included) and AMP grad scalers held by attributes (also in dicts)."""
        kinds: tuple[type, ...] = (
            torch.optim.lr_scheduler.LRScheduler,
            torch.optim.lr_scheduler.ReduceLROnPlateau,
            torch.amp.GradScaler,
        )
        return _held(self._public_items(), kinds)

    def get_pytorch_tensors(self, ignore: Iterable[str] = ()) -> dict[str, torch.Tensor]:
        """Tensor attributes (not the parameters inside modules, which the model state holds)."""
        skip = set(ignore)
        return {k: v for k, v in self._public_items() if k not in skip and isinstance(v, torch.Tensor)}

    def get_pytorch_variables(self, ignore: Iterable[str] = ()) -> dict[str, torch.Tensor]:
        """Same as :meth:`get_pytorch_tensors` (trixi's name)."""
        return self.get_pytorch_tensors(ignore)

    def checkpointed_attributes(self) -> list[str]:
        """Modules, optimizers, schedulers, tensors and simple attributes: what the torch save types store."""
        held = [*self.get_pytorch_modules(from_config=False), *self.get_pytorch_optimizers(from_config=False)]
        names = {key.split(".", 1)[0] for key in [*held, *self.get_pytorch_schedulers()]}
        names |= set(self.get_pytorch_tensors()) | set(self.get_simple_variables())
        return sorted(names)

    def to_device(self, obj: Any, non_blocking: bool = False) -> Any:
        """``obj`` (a module, tensor, or nested dicts/lists/tuples of tensors) on :attr:`device`."""
        if isinstance(obj, (nn.Module, torch.Tensor)):
            return obj.to(self.device, non_blocking=non_blocking)
        return move_to_device(obj, self.device, non_blocking=non_blocking)

    # ------------------------------------------------------------------ checkpoint state
    def get_state(self) -> dict[str, Any]:
        """The torch state of a checkpoint: the parts :attr:`default_save_types` (or the save call) names.

        The simple attributes are not in it: the core stores them under ``state["simple"]`` when the save
        types name "simple" (:meth:`stores_simple`); checkpoints written before kept them in here, and
        still load."""
        types = self._save_types or self.default_save_types
        return self.get_checkpoint_state([t for t in types if t != "simple"])

    def stores_simple(self) -> bool:
        """Whether the checkpoint being written holds the simple attributes (its save types name "simple")."""
        return "simple" in (self._save_types or self.default_save_types)

    def restores_simple(self, context: RestoreContext) -> bool:
        """Whether a restore applies the simple attributes: "simple" among its save types (on resume
        :attr:`resume_save_types`)."""
        return "simple" in _check_save_types(
            context.options.get("save_types", self.resume_save_types), "save_types"
        )

    def get_checkpoint_state(self, save_types: Iterable[str] = SAVE_TYPES) -> dict[str, Any]:
        """``{"model": {name: state_dict}, "optimizer": ..., "scheduler": ..., "simple": ..., "th_vars": ...}``."""
        types = _check_save_types(save_types, "save_types")
        state: dict[str, Any] = {}
        if "model" in types:
            state["model"] = {k: _unwrap(m).state_dict() for k, m in self.get_pytorch_modules().items()}
        if "optimizer" in types:
            state["optimizer"] = {k: o.state_dict() for k, o in self.get_pytorch_optimizers().items()}
            state["scheduler"] = {k: s.state_dict() for k, s in self.get_pytorch_schedulers().items()}
        if "simple" in types:
            state["simple"] = self.get_simple_variables()
        if "th_vars" in types:
            state["th_vars"] = self.get_pytorch_tensors()
        if self.checkpoint_to_cpu and not getattr(self.checkpoints, "async_save", False):
            state = move_to_device(state, "cpu")
        return state

    def set_state(self, state: Mapping[str, Any], context: RestoreContext | None = None) -> None:
        """Restore what :meth:`get_state` saved: on resume the :attr:`resume_save_types`, on a load what
        :meth:`load_checkpoint` was asked for (the restore ``context``'s options)."""
        if context is None:
            context = self.restoring
        options: Mapping[str, Any] = context.options if context is not None else {}
        self.apply_checkpoint_state(
            state,
            save_types=options.get("save_types", self.resume_save_types),
            exclude_layers=options.get("exclude_layers", ()),
            strict=bool(options.get("strict", False)),
            source=context.source if context is not None else "the checkpoint",
        )

    def apply_checkpoint_state(
        self,
        state: Mapping[str, Any],
        save_types: Iterable[str] = SAVE_TYPES,
        exclude_layers: Iterable[str] = (),
        strict: bool = False,
        source: str = "the checkpoint",
    ) -> None:
        """Load modules (partially, like trixi's ``update_model``), optimizers, schedulers and attributes.

        Modules are matched by attribute name. Missing or unexpected keys and shape mismatches are named
        in TrialogWarnings (CheckpointError with ``strict``); ``exclude_layers`` skips parameters by name,
        prefix or glob. Tensors are moved to the device of what they replace.
        """
        types = _check_save_types(save_types, "save_types")
        state = _as_tensors(state)
        if "model" in types and "model" in state:
            self._load_group(
                "module", state["model"], self.get_pytorch_modules(), strict, source,
                lambda key, module, sd: update_model(
                    _unwrap(module), sd, exclude_layers, strict=strict, name=f"module {key!r} from {source}"
                ),
            )  # fmt: skip
        if "optimizer" in types:
            if "optimizer" in state:
                self._load_group(
                    "optimizer",
                    state["optimizer"],
                    self.get_pytorch_optimizers(),
                    strict,
                    source,
                    _load_optimizer,
                )
            if "scheduler" in state:
                self._load_group(
                    "scheduler", state["scheduler"], self.get_pytorch_schedulers(), strict, source, _load_into
                )
        if "simple" in types and "simple" in state:
            self.update_attributes(state["simple"])
        if "th_vars" in types and "th_vars" in state:
            for key, value in state["th_vars"].items():
                current = getattr(self, key, None)
                if (
                    isinstance(current, torch.Tensor)
                    and current.shape == value.shape
                    and current.dtype == value.dtype
                ):
                    with torch.no_grad():
                        current.copy_(value)  # in place: other references to the tensor see the values
                elif not key.startswith("_") and key not in self.reserved_attributes:
                    device = current.device if isinstance(current, torch.Tensor) else self.device
                    setattr(self, key, value.to(device))

    def _load_group(
        self,
        kind: str,
        saved: Mapping[str, Any],
        current: Mapping[str, Any],
        strict: bool,
        source: str,
        load: Any,
    ) -> None:
        absent = [k for k in current if k not in saved]
        extra = [k for k in saved if k not in current]
        if (absent or extra) and strict:
            parts = []
            if absent:
                parts.append(f"no saved state for the experiment's {kind}(s) {', '.join(map(repr, absent))}")
            if extra:
                parts.append(
                    f"saved {kind}(s) {', '.join(map(repr, extra))} have no attribute of that name here"
                )
            raise CheckpointError(f"{source}: {'; '.join(parts)}; pass strict=False to load the rest")
        if absent:
            warnings.warn(
                f"{source} holds no state for {kind}(s) {', '.join(map(repr, absent))}; they keep their current state",
                TrialogWarning,
                stacklevel=4,
            )
        if extra:
            warnings.warn(
                f"{source} holds state for {kind}(s) {', '.join(map(repr, extra))} that this experiment does "
                "not have (no attribute of that name); ignored",
                TrialogWarning,
                stacklevel=4,
            )
        for key, obj in current.items():
            if key in saved:
                try:
                    load(key, obj, saved[key])
                except CheckpointError:
                    raise
                except (ValueError, KeyError, RuntimeError, TypeError) as err:
                    if strict:
                        raise CheckpointError(f"{source}: cannot load {kind} {key!r}: {err}") from err
                    warnings.warn(
                        f"{source}: {kind} {key!r} not loaded ({err}); it keeps its current state",
                        TrialogWarning,
                        stacklevel=4,
                    )

    # ------------------------------------------------------------------ saving
    def save_checkpoint(  # type: ignore[override]  # trixi's signature: name first, metrics/step keywords
        self,
        name: str | None = None,
        save_types: Iterable[str] | None = None,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        *,
        metrics: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> Any:
        """Save a checkpoint through the run's atomic checkpoint manager; returns its manifest entry.

        Without ``name`` it joins the run's checkpoint series (``checkpoint/step-N.pt``, retention, resume;
        ``n_iter`` is its step). With ``name`` it is a named checkpoint (``"best_model"``; with ``n_iter``,
        trixi's ``name_00012``), kept in ``checkpoint/<name>/`` and replaced by the next save of that name.
        """
        types = _check_save_types(save_types or self.default_save_types, "save_types")
        if step is None:
            step = n_iter
        self._save_types = types
        try:
            if name is None:
                return super().save_checkpoint(metrics=metrics, step=step)
            manager = self.checkpoint_series(
                _checked_name(name_and_iter_to_filename(name, n_iter, "", iter_format, prefix))
            )
            state = self.checkpoint_state()
            return manager.save(
                state, step=self.epoch if step is None else step, epoch=self.epoch, metrics=metrics
            )
        finally:
            self._save_types = None

    def save_end_checkpoint(self) -> Any:
        """Save the named checkpoint ``checkpoint_last`` with :attr:`default_save_types` (trixi's end checkpoint)."""
        return self.save_checkpoint(name="checkpoint_last", save_types=self.default_save_types)

    def save_temp_checkpoint(self) -> Any:
        """Save the named checkpoint ``checkpoint_current`` (trixi's per-epoch checkpoint)."""
        return self.save_checkpoint(name="checkpoint_current", save_types=self.default_save_types)

    # ------------------------------------------------------------------ loading
    def load_checkpoint(
        self,
        name: str | int | None = None,
        save_types: Iterable[str] = SAVE_TYPES,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        path: str | os.PathLike[str] | None = None,
        *,
        exclude_layers: Iterable[str] = (),
        strict: bool = False,
        map_location: Any = "cpu",
        weights_only: bool | None = None,
        restore_rng: bool = True,
        restore_results: bool | None = None,
    ) -> dict[str, Any]:
        """Load a checkpoint into the experiment; returns the loaded state.

        ``name``: ``None``/``"last"``, ``"best"`` or a step number select from the run's checkpoint series;
        any other name is a named checkpoint (:meth:`save_checkpoint`), formatted with ``n_iter``.
        ``path``: load from elsewhere instead: a checkpoint file (``.pt``, also a trixi ``.pth.tar``, whose
        flat ``{attribute: state_dict}`` layout is understood), a run folder or a checkpoint folder.
        ``save_types``: what to restore; "results" rewinds this run's results log to the checkpoint (a
        checkpoint of another run never touches it). ``exclude_layers``/``strict``: see
        :meth:`apply_checkpoint_state`. ``map_location``: where tensors are read to (modules and optimizers
        then copy them to their own devices). ``weights_only=False`` unpickles arbitrary objects: unsafe,
        only for files you trust. ``restore_rng``: also restore the RNG states saved with it.
        ``restore_results`` (the core Experiment's keyword) overrides whether "results" is restored.
        """
        types = _check_save_types(save_types, "save_types")
        manager, which, own = self._locate(name, n_iter, iter_format, prefix, path)
        if manager is None:
            file = Path(path)  # type: ignore[arg-type]
            from .checkpoint import TorchFormat

            state = TorchFormat(map_location=map_location).load(file, weights_only=weights_only)
            where = str(file)
        else:
            entry = manager.get(which)
            kwargs: dict[str, Any] = {}
            if entry.format == "torch":
                kwargs = {"map_location": map_location}
                if weights_only is not None:
                    kwargs["weights_only"] = weights_only
            state, entry = manager.load(which, **kwargs)
            where = str(entry.path)
        if "user" not in state and "trialog" not in state:
            state = {"user": _from_flat(state, self)}
        rewind = "results" in types if restore_results is None else restore_results
        self.restore_state(
            state,
            kind="load",
            results=own and rewind,
            rng=restore_rng,
            source=where,
            options={"save_types": types, "exclude_layers": tuple(exclude_layers), "strict": strict},
        )
        return state

    def _locate(
        self, name: Any, n_iter: int | None, iter_format: str, prefix: bool, path: Any
    ) -> tuple[CheckpointManager | None, str | int, bool]:
        """(manager or None for a plain file, which, whether it is this run's own checkpoint)."""
        if path is not None:
            path = Path(path)
            if path.is_file():
                return None, "last", False
            if not path.is_dir():
                raise CheckpointError(f"checkpoint path {str(path)!r} does not exist")
            folder = path / "checkpoint" if (path / "checkpoint" / MANIFEST_NAME).is_file() else path
            if name not in (None, *_SERIES_SELECTORS) and not isinstance(name, int):
                folder = folder / name_and_iter_to_filename(str(name), n_iter, "", iter_format, prefix)
                name = None
            if not (folder / MANIFEST_NAME).is_file():
                raise CheckpointError(
                    f"{str(folder)!r} holds no checkpoint manifest ({MANIFEST_NAME}); pass a run folder, its "
                    "checkpoint folder, a named checkpoint's folder or a checkpoint file"
                )
            own = folder.resolve().is_relative_to(self.checkpoint_dir.resolve())
            manager: CheckpointManager | None = None
            if own and folder.resolve() == self.checkpoint_dir.resolve():
                manager = self.checkpoints
            elif own and folder.resolve().parent == self.checkpoint_dir.resolve():
                manager = self.checkpoint_series(folder.name)
            return manager or CheckpointManager(folder), _which(name, n_iter), own
        if name is None or name in _SERIES_SELECTORS or isinstance(name, int):
            return self.checkpoints, _which(name, n_iter), True
        filename = _checked_name(name_and_iter_to_filename(str(name), n_iter, "", iter_format, prefix))
        folder = self.checkpoint_dir / filename
        if not (folder / MANIFEST_NAME).is_file() and filename not in self.checkpoint_series_names():
            raise CheckpointError(
                f"no checkpoint named {filename!r} in {self.checkpoint_dir} (saved ones: "
                f"{', '.join(self.named_checkpoints()) or 'none'}); save it with save_checkpoint(name=...)"
            )
        return self.checkpoint_series(filename), "last", True

    def named_checkpoints(self) -> list[str]:
        """Names of the named checkpoints saved in this run folder."""
        return self.checkpoint_series_names()

    # ------------------------------------------------------------------ trixi's names (issue 10)
    def end_epoch(self, epoch: int) -> None:
        """The core's epoch end, then trixi's ``checkpoint_current`` when :attr:`save_checkpoints_default`."""
        super().end_epoch(epoch)
        every = self.checkpoint_every or 1
        if self.save_checkpoints_default and ((epoch + 1) % every == 0 or epoch + 1 >= self.n_epochs):
            self.save_temp_checkpoint()

    def finish_run(self, status: str | None = None) -> None:
        """trixi's ``checkpoint_last`` (when :attr:`save_checkpoints_default`), then the core's run end."""
        if self.save_checkpoints_default:
            self.save_end_checkpoint()
        super().finish_run(status)

    def prepare_resume(self) -> int:
        """trixi's name for :meth:`restore_resumed`: restore the resumed run's latest checkpoint once."""
        return self.restore_resumed(full=True)

    def save_pytorch_models(self) -> Any:
        """Save every module's state as the named checkpoint ``pytorch_models``."""
        return self.save_checkpoint(name="pytorch_models", save_types=("model",))

    def load_pytorch_models(self) -> dict[str, Any]:
        """Load the modules saved by :meth:`save_pytorch_models`."""
        return self.load_checkpoint(name="pytorch_models", save_types=("model",), restore_rng=False)

    def log_simple_vars(self) -> Path:
        """Write the simple attributes to ``log/simple_vars.json`` (tuples and sets kept)."""
        from trialog.api import Config

        path = self.log_dir / "simple_vars.json"
        values = {
            k: (v.tolist() if isinstance(v, np.ndarray) else v)
            for k, v in self.get_simple_variables().items()
        }
        Config(config=values).dump(path)
        return path

    def load_simple_vars(self) -> dict[str, Any]:
        """Set the attributes written by :meth:`log_simple_vars`; returns them."""
        from trialog.api import Config

        path = self.log_dir / "simple_vars.json"
        if not path.is_file():
            raise CheckpointError(f"{path} does not exist; call log_simple_vars() first")
        values = dict(Config(path))
        self.update_attributes(values)
        return values

    def at_exit_func(self) -> None:
        """Store the results summary and, for a run that did not finish, the checkpoint ``checkpoint_exit``."""
        self.save_results()
        if self.meta.data.get("status") not in ("finished", "stopped"):
            self.save_checkpoint(name="checkpoint_exit")
        self.wait_checkpoints()


def _held(items: Iterable[tuple[str, Any]], kinds: tuple[type, ...]) -> dict[str, Any]:
    """The values of ``kinds`` among ``items`` and inside plain dicts of them (keyed ``"attr.key"``)."""
    found: dict[str, Any] = {}
    for key, value in items:
        if isinstance(value, kinds):
            found[key] = value
        elif type(value) is dict:
            found.update((f"{key}.{k}", v) for k, v in value.items() if isinstance(v, kinds))
    return found


def _check_save_types(save_types: Iterable[str], what: str) -> tuple[str, ...]:
    types = (save_types,) if isinstance(save_types, str) else tuple(save_types)
    unknown = [t for t in types if t not in SAVE_TYPES]
    if unknown:
        raise CheckpointError(f"{what} {unknown} unknown; choose from {', '.join(SAVE_TYPES)}")
    return types


def _checked_name(filename: str) -> str:
    if (
        not filename
        or filename in _SERIES_SELECTORS
        or Path(filename).name != filename
        or filename.startswith((".", "step-"))
        or filename == MANIFEST_NAME
    ):
        raise CheckpointError(
            f"checkpoint name {filename!r} is not usable: it must be a plain folder name, not 'last', 'best', "
            "or one starting with '.' or 'step-' (those select or name the run's checkpoint series)"
        )
    return filename


def _which(name: Any, n_iter: int | None) -> str | int:
    if isinstance(name, int):
        return name
    if name in _SERIES_SELECTORS:
        return name
    return "last" if n_iter is None else int(n_iter)


def _unwrap(module: nn.Module) -> nn.Module:
    """The module inside DataParallel / DistributedDataParallel / torch.compile wrappers (portable keys)."""
    while True:
        if isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            module = module.module
        elif isinstance(getattr(module, "_orig_mod", None), nn.Module):
            module = module._orig_mod
        else:
            return module


def _load_into(key: str, obj: Any, state: Any) -> None:
    obj.load_state_dict(state)


# Per-parameter state of torch's optimizers that has the parameter's shape. load_state_dict checks only
# the number of parameters, so a changed layer would otherwise load and fail at the next step().
_PARAM_SHAPED = frozenset(
    {"exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "square_avg", "grad_avg", "acc_delta",
     "sum", "exp_inf", "ax", "prev", "step_size"}
)  # fmt: skip


def _load_optimizer(key: str, optimizer: torch.optim.Optimizer, state: Mapping[str, Any]) -> None:
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_ids = [i for group in state.get("param_groups", []) for i in group["params"]]
    if len(saved_ids) == len(params):
        for param, saved_id in zip(params, saved_ids):
            for name, value in state.get("state", {}).get(saved_id, {}).items():
                if name in _PARAM_SHAPED and isinstance(value, torch.Tensor) and value.shape != param.shape:
                    raise ValueError(
                        f"its state {name!r} of parameter {saved_id} has shape {list(value.shape)}, "
                        f"the parameter {list(param.shape)}"
                    )
    optimizer.load_state_dict(state)


def _as_tensors(state: Mapping[str, Any]) -> dict[str, Any]:
    """Numpy arrays in torch state back to tensors (a checkpoint written by the npz format)."""

    def leaf(value: Any) -> Any:
        return torch.from_numpy(np.array(value)) if isinstance(value, np.ndarray) else value

    return {
        k: map_structure(v, leaf) if k in ("model", "optimizer", "scheduler", "th_vars") else v
        for k, v in state.items()
    }


def _from_flat(state: Mapping[str, Any], exp: TorchExperiment) -> dict[str, Any]:
    """trixi's flat checkpoint ``{attribute: state_dict or value}`` in TorchExperiment's layout."""
    modules, optimizers, schedulers = (
        exp.get_pytorch_modules(),
        exp.get_pytorch_optimizers(),
        exp.get_pytorch_schedulers(),
    )
    user: dict[str, Any] = {"model": {}, "optimizer": {}, "scheduler": {}, "simple": {}, "th_vars": {}}
    for key, value in state.items():
        if key in modules or (
            isinstance(value, Mapping)
            and key not in optimizers
            and key not in schedulers
            and _looks_like_state_dict(value)
        ):
            user["model"][key] = value
        elif key in optimizers:
            user["optimizer"][key] = value
        elif key in schedulers:
            user["scheduler"][key] = value
        elif isinstance(value, torch.Tensor):
            user["th_vars"][key] = value
        elif is_simple(value, sets=True) and key != "results":
            user["simple"][key] = value
    return user


def _looks_like_state_dict(value: Mapping[str, Any]) -> bool:
    return bool(value) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def _make_deterministic() -> None:
    # cuBLAS needs a fixed workspace for deterministic matmuls; set before the first CUDA call to count.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
