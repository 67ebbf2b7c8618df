"""The hook specifications: the logger interface (trixi's ``show_*`` names), the experiment lifecycle, frameworks.

A logger plugin is a class whose methods carry ``@hookimpl`` for the hooks it supports; a method names
any subset of a hook's parameters, in any order, with or without defaults (0.1.0's contract): every spec
parameter it names is passed. Arrays arrive as numpy arrays: the dispatcher converts torch tensors once,
before calling any logger.

Example logger::

    from trialog import hookimpl

    class PrintLogger:
        background = False          # True: fed through a bounded background queue (network loggers)

        def __init__(self, prefix: str = ""):
            self.prefix = prefix

        @hookimpl
        def show_value(self, value, name, tag=None):
            print(self.prefix, name, tag, value)

    PrintLogger().show_value(1.0, "loss")          # a direct call: tag is the spec's default, None

Defaults live here, once: in the ``LoggerSpec`` signatures (``counter: int | None = None``), read into
``LOGGER_SIGNATURES`` and ``LOGGER_DEFAULTS``; the specs themselves are never changed. The dispatcher
(``CombinedLogger``, typed by ``LoggerSpec`` itself) and direct calls fill what a call leaves out from
them; how an implementation is read against its spec (defaults, extra keywords such as trixi's
``file_format=``, the call number ``call=None``) is ``trialog.hooks.markers``'. To add a hook: write it in
``LoggerSpec`` with its defaults, ``**kwargs`` and a docstring; everything else follows from it. The
resume contract (``on_checkpoint``, ``on_resume`` in ``LifecycleSpec``) brings a logger's output back to
the checkpoint a killed run resumes from.

Lifecycle hooks are implemented by loggers (called through the dispatcher, like any logger hook) and
by ``trialog.plugins`` modules (called inline, with the live experiment). Framework hooks
(``FrameworkSpec``) are implemented by ``trialog.plugins`` modules only: RNGs, CLI commands, and
``run_config``, the one way a config-driven run is started by another plugin (trialog-sweep's trials;
trialog-torch implements it), never through the ``trialog`` command line's argv.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy

PROJECT = "trialog"
hookspec = pluggy.HookspecMarker(PROJECT)

Array = Any  # numpy.ndarray after the dispatcher's conversion; kept loose so the core needs no numpy import


class LoggerSpec:
    """Hooks a logger implements: trixi's logger interface."""

    @hookspec
    def show_value(
        self,
        value: float,
        name: str,
        counter: float | None = None,
        tag: str | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log one scalar; ``name`` is the quantity (``"loss"``), ``tag`` the phase or variant
        (``"train"``, ``"val"``): the file and TensorBoard loggers draw a plot / card per name with a line
        per tag (trixi grouped by tag; ``group_by="tag"`` keeps that). ``counter`` is the x position
        (an int step, or a float such as trixi's ``epoch + i / len(loader)``).

        ``title``: the plot's title where the logger draws one (trixi's keyword).

        Example: ``@hookimpl def show_value(self, value, name): self.values.setdefault(name, []).append(value)``
        """

    @hookspec
    def show_text(
        self,
        text: str,
        name: str | None = None,
        counter: int | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a piece of text under ``name`` (None: the default text log).

        Example: ``@hookimpl def show_text(self, text): print(text)``
        """

    @hookspec
    def show_image(
        self, image: Array, name: str, counter: int | None = None, title: str | None = None, **kwargs: Any
    ) -> None:
        """Log one image: (H, W), (C, H, W) or (H, W, C) with C in 1, 3, 4; float in [0, 1] or uint8.

        Example: ``@hookimpl def show_image(self, image, name): self.images[name] = image``
        """

    @hookspec
    def show_images(
        self, images: Array, name: str, counter: int | None = None, title: str | None = None, **kwargs: Any
    ) -> None:
        """Log a batch of images (N, C, H, W), (N, H, W) or a sequence of single images.

        Example: ``@hookimpl def show_images(self, images, name): self.images[name] = list(images)``
        """

    @hookspec
    def show_image_grid(
        self,
        images: Array,
        name: str,
        counter: int | None = None,
        title: str | None = None,
        nrow: int = 8,
        normalize: bool = False,
        **kwargs: Any,
    ) -> None:
        """Log a batch of images tiled as one grid image, ``nrow`` images per row.

        Example: ``@hookimpl def show_image_grid(self, images, name, nrow): save(make_grid(images, nrow), name)``
        """

    @hookspec
    def show_barplot(
        self,
        array: Array,
        name: str,
        counter: int | None = None,
        labels: Sequence[str] | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a bar plot of a 1-D array (or 2-D: one group of bars per row).

        Example: ``@hookimpl def show_barplot(self, array, name): print(name, array.tolist())``
        """

    @hookspec
    def show_lineplot(
        self,
        y_vals: Array,
        x_vals: Array | None = None,
        name: str = "lineplot",
        counter: int | None = None,
        labels: Sequence[str] | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a line plot; 2-D ``y_vals`` draws one line per row.

        Example: ``@hookimpl def show_lineplot(self, y_vals, name): print(name, y_vals[-1])``
        """

    @hookspec
    def show_scatterplot(
        self,
        array: Array,
        name: str,
        counter: int | None = None,
        labels: Sequence[str] | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a scatter plot of an (N, 2) array.

        Example: ``@hookimpl def show_scatterplot(self, array, name): print(name, array.shape)``
        """

    @hookspec
    def show_piechart(
        self,
        array: Array,
        name: str,
        counter: int | None = None,
        labels: Sequence[str] | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a pie chart of a 1-D array of non-negative parts.

        Example: ``@hookimpl def show_piechart(self, array, labels): print(dict(zip(labels, array)))``
        """

    @hookspec
    def show_boxplot(
        self,
        array: Array,
        name: str,
        counter: int | None = None,
        labels: Sequence[str] | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a box plot: a 1-D array, or 2-D with one box per column.

        Example: ``@hookimpl def show_boxplot(self, array, name): print(name, numpy.median(array, axis=0))``
        """

    @hookspec
    def show_histogram(
        self,
        array: Array,
        name: str,
        counter: int | None = None,
        bins: int = 30,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log the histogram of an array's values.

        Example: ``@hookimpl def show_histogram(self, array, bins): print(numpy.histogram(array, bins)[0])``
        """

    @hookspec
    def show_heatmap(
        self,
        array: Array,
        name: str,
        counter: int | None = None,
        title: str | None = None,
        labels: Sequence[str] | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a 2-D array as a heat map (a confusion matrix, an attention map).

        ``labels`` name the rows and columns of a square array (a confusion matrix's classes), ``xlabel``
        and ``ylabel`` its axes (``"predicted class"``, ``"true class"``); loggers that draw axes show them.

        Example: ``@hookimpl def show_heatmap(self, array, name): print(name, array.max())``
        """

    @hookspec
    def show_pr_curve(
        self,
        tensor: Array,
        labels: Array,
        name: str,
        counter: int | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a precision-recall curve of a binary problem: ``tensor`` the scores, ``labels`` 0/1 (trixi's order).

        Implementations check the labels with ``trialog_figures.binary_labels``, so arguments in the other
        order are an error naming the hook and the logger, never a wrong curve (unless the scores are 0/1 too: hard predictions look like labels, so check the order there).

        Example: ``@hookimpl def show_pr_curve(self, tensor, labels): print(binary_labels(labels, tensor, "pr"))``
        """

    @hookspec
    def show_roc_curve(
        self,
        tensor: Array,
        labels: Array,
        name: str,
        counter: int | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a ROC curve of a binary problem: ``tensor`` the scores, ``labels`` 0/1 (trixi's order).

        Example: ``@hookimpl def show_roc_curve(self, tensor, labels): print(roc(labels, tensor)[2])`` (``roc``,
        ``make_grid``, ``binary_labels``: trialog-figures' ``trialog_figures``)
        """

    @hookspec
    def show_embedding(
        self,
        features: Array,
        name: str,
        counter: int | None = None,
        labels: Sequence[Any] | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log an (N, D) embedding with optional per-point labels.

        trixi's ``method=`` ("tsne", ...) is an extra keyword: it reaches implementations that declare it;
        the built-in loggers project with PCA.

        Example: ``@hookimpl def show_embedding(self, features, labels): print(features.shape)``
        """

    @hookspec
    def show_figure(self, figure: Any, name: str, counter: int | None = None, **kwargs: Any) -> None:
        """Log a matplotlib figure (render it through ``figure.canvas``, never ``pyplot``).

        Example: ``@hookimpl def show_figure(self, figure, name): figure.savefig(f"{name}.png")``
        """

    @hookspec
    def log_config(self, config: Mapping[str, Any], **kwargs: Any) -> None:
        """Record the run's configuration (a plain, JSON-able dict).

        Example: ``@hookimpl def log_config(self, config): print(json.dumps(config))``
        """

    @hookspec
    def flush(self, **kwargs: Any) -> None:
        """Push anything buffered to the backend.

        Example: ``@hookimpl def flush(self): self.writer.flush()``
        """

    @hookspec
    def close(self, **kwargs: Any) -> None:
        """Flush and release the backend; called once, last.

        Example: ``@hookimpl def close(self): self.writer.close()``
        """

    @hookspec
    def show_video(
        self, frames: Array, name: str, counter: int | None = None, fps: int = 25, **kwargs: Any
    ) -> None:
        """Log a short video at ``fps`` frames per second: (L, H, W, C) or (L, C, H, W) frames, or a sequence
        of images (each read as by ``show_image``: when both ends could be channels, C first wins).

        Example: ``@hookimpl def show_video(self, frames, name, fps): write_gif(f"{name}.gif", frames, fps)``
        """


class LifecycleSpec:
    """Hooks fired by an Experiment at each stage, for loggers and ``trialog.plugins`` modules.

    ``experiment`` is the live Experiment: declare it only in hooks that run inline (not in a
    background logger, whose hooks run on another thread after the fact). ``run`` is a snapshot of the
    run's metadata (run.json) and ``config`` a plain dict: both are safe to keep.
    """

    @hookspec
    def on_run_start(self, experiment: Any, run: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        """A run started (or resumed: ``run["resumed_from"]`` is set).

        Example: ``@hookimpl def on_run_start(self, run): notify(f"{run['name']} started on {run['host']}")``
        """

    @hookspec
    def on_epoch_start(self, experiment: Any, epoch: int) -> None:
        """An epoch is about to start.

        Example: ``@hookimpl def on_epoch_start(self, epoch): self.t0 = time.time()``
        """

    @hookspec
    def on_epoch_end(self, experiment: Any, epoch: int) -> None:
        """An epoch (train and validate) ended.

        Example: ``@hookimpl def on_epoch_end(self, epoch): print("epoch", epoch, time.time() - self.t0)``
        """

    @hookspec
    def on_result_added(
        self, experiment: Any, name: str, value: Any, counter: int | None, tag: str | None, epoch: int | None
    ) -> None:
        """``add_result`` recorded a value in the run's results log.

        Example: ``@hookimpl def on_result_added(self, name, value): self.best = max(self.best, value)``
        """

    @hookspec
    def on_checkpoint_saved(
        self, experiment: Any, path: str, step: int, epoch: int | None, metric: float | None
    ) -> None:
        """A checkpoint file is complete on disk at ``path``.

        Example: ``@hookimpl def on_checkpoint_saved(self, path): upload(path)``
        """

    @hookspec
    def on_checkpoint(self, experiment: Any, step: int, epoch: int | None, position: int) -> None:
        """A checkpoint ``step`` (after ``epoch``, results log at byte ``position``) is about to be saved.

        The resume contract, first half: put everything logged so far on disk (flush, fsync) and remember
        where your output ends at this checkpoint, so that ``on_resume(step=...)`` can cut back to it. The
        experiment waits for every logger implementing it (background ones included) before it saves.

        Example: ``@hookimpl def on_checkpoint(self, step): self.marks[step] = self.file.tell()``
        """

    @hookspec
    def on_resume(
        self,
        experiment: Any,
        step: int | None,
        epoch: int | None,
        position: int,
        results: str,
        source: str,
    ) -> None:
        """The run continues from checkpoint ``step`` (None: killed before the first one, it starts over).

        The resume contract, second half, called before the first value logged after the resume:
        ``epoch`` is the checkpoint's epoch, ``position`` its byte position in the results log
        ``results`` (``result/results.jsonl``, already cut back to it), ``source`` the run folder
        resumed from (this one, or the old one for ``resume_new_folder``). Bring your own output back to
        exactly that point: discard what was logged after the checkpoint, redraw what is drawn from
        the whole run. Default counters need nothing: the dispatcher's call numbers are checkpoint state
        and continue. A logger that does not implement it is named once in a warning at the resume.

        Example::

            @hookimpl
            def on_checkpoint(self, step):
                self.file.flush()
                self.marks[step] = self.file.tell()      # kept on disk in a real logger

            @hookimpl
            def on_resume(self, step):
                self.file.truncate(self.marks.get(step, 0))
        """

    @hookspec
    def on_run_end(self, experiment: Any, run: Mapping[str, Any], summary: Mapping[str, Any]) -> None:
        """A run finished; ``summary`` maps result names to {"last", "min", "max", "mean", "count"}.

        Example: ``@hookimpl def on_run_end(self, run, summary): notify(f"done: {summary}")``
        """

    @hookspec
    def on_run_error(
        self, experiment: Any, run: Mapping[str, Any], error: BaseException, traceback: str
    ) -> None:
        """A run failed with ``error``; ``traceback`` is the formatted traceback.

        Example: ``@hookimpl def on_run_error(self, error, traceback): notify(traceback[-500:])``
        """


class FrameworkSpec:
    """Hooks for ``trialog.plugins`` modules that bring a framework (RNGs to seed and restore, CLI commands)."""

    @hookspec
    def seed_rngs(self, seed: int) -> None:
        """Seed the framework's random generators (python and numpy are seeded by the core).

        Example: ``@hookimpl def seed_rngs(seed): torch.manual_seed(seed)``
        """

    @hookspec
    def get_rng_state(self) -> Mapping[str, Any] | None:
        """Return the framework's RNG state as {key: state}; all plugins' answers are merged.

        Example: ``@hookimpl def get_rng_state(): return {"torch": torch.get_rng_state().numpy()}``
        """

    @hookspec
    def set_rng_state(self, state: Mapping[str, Any]) -> None:
        """Restore RNG state from the merged mapping ``get_rng_state`` produced (ignore unknown keys).

        Example: ``@hookimpl def set_rng_state(state): torch.set_rng_state(torch.as_tensor(state["torch"]))``
        """

    @hookspec
    def probe_resources(self) -> Mapping[str, float] | None:
        """Return resource figures under ``sys/`` names (trialog-xmen's Monitor ``probe`` spec records them); answers merged.

        Example: ``@hookimpl def probe_resources(): return {"sys/gpu_mem_peak_mb": peak_mb()}``
        """

    @hookspec
    def describe_machine(self) -> Mapping[str, Any] | None:
        """Return what the framework knows of the machine for run.json's ``machine`` (GPUs, CUDA); answers merged.

        Example: ``@hookimpl def describe_machine(): return {"cuda": torch.version.cuda}``
        """

    @hookspec
    def config_defaults(self, experiment_class: type, argv: list[str] | None) -> Mapping[str, Any] | None:
        """Return defaults ``experiment_class`` declares, for the config keys it lacks (before the ``argv``
        overrides apply; the config given wins). Called by :func:`trialog.config.overrides.prepare_config` before the
        run folder exists; an exception propagates (a ConfigError naming the key). A plugin may answer
        ``--help`` in ``argv`` here: print and ``raise SystemExit(0)``. trialog-xmen: ``trialog.param``.

        Example: ``@hookimpl def config_defaults(experiment_class): return getattr(experiment_class, "DEFAULTS", None)``
        """

    @hookspec
    def check_config(self, experiment_class: type, config: Any) -> None:
        """Check ``config`` after the overrides applied (before the run folder exists): raise a ConfigError
        naming the key whose value ``experiment_class``'s declarations refuse; the error propagates.

        Example::

            @hookimpl
            def check_config(config):
                if config.get("lr", 1) <= 0:
                    raise ConfigError(f"config 'lr' must be positive, not {config['lr']!r}")
        """

    @hookspec
    def preload_trials(self, config: Mapping[str, Any]) -> None:
        """Import now what the trials of a sweep with base ``config`` import lazily (in a warm trial server).

        Called once in the local sweeper's trial server, after it imported the trainer and the user's
        modules and before it forks any trial; import only: no computation, no thread (forks follow).

        Example: ``@hookimpl def preload_trials(): import torch._dynamo  # torch.optim imports it lazily``
        """

    @hookspec
    def add_cli_commands(self, subparsers: Any) -> None:
        """Add sub-commands to the ``trialog`` CLI (an ``argparse`` subparsers object); set ``func`` on each.

        Example::

            @hookimpl
            def add_cli_commands(subparsers):
                p = subparsers.add_parser("hello", help="say hello")
                p.set_defaults(func=lambda args: print("hello") or 0)
        """

    @hookspec(firstresult=True)
    def run_config(
        self, config: str, base_dir: str | None, resume: str | None, quiet: bool
    ) -> Sequence[Path] | None:
        """Run the config file ``config`` as the framework's config-driven run does; its run folder(s).

        The first implementation that answers (not None) runs it; trialog-torch implements it with what
        ``trialog run CONFIG --base-dir BASE_DIR [--resume RUN] [--quiet]`` does. ``base_dir``: where the
        run folder goes (None: the config's ``base_dir``); ``resume``: a run folder to continue from its
        latest checkpoint (None: a new run); ``quiet``: no progress bars. Returns the run folders the run
        wrote (one, or one per k-fold fold). A bad config is a :class:`~trialog.errors.ConfigError` naming
        the key; any failure of the run is raised to the caller. trialog-sweep runs every trial of a sweep
        whose config names no ``experiment`` class through this hook; no implementation: the caller says
        which plugin to install.

        Example::

            @hookimpl
            def run_config(config, base_dir, resume, quiet):
                return [train_from(config, base_dir=base_dir, resume=resume, quiet=quiet)]
        """


def _signatures(spec: type) -> dict[str, inspect.Signature]:
    """Each hook's signature as written, without ``self`` and ``**kwargs`` (the spec itself is left as it is)."""
    signatures = {}
    for hook, function in vars(spec).items():
        if not hook.startswith("_"):
            params = list(inspect.signature(function).parameters.values())[1:]
            signatures[hook] = inspect.Signature([p for p in params if p.kind is not p.VAR_KEYWORD])
    return signatures


#: Logger hook name -> its signature as written in LoggerSpec, defaults included.
LOGGER_SIGNATURES: dict[str, inspect.Signature] = _signatures(LoggerSpec)
#: Logger hook names, in the order trixi documents them; lifecycle hook names.
LOGGER_HOOKS: tuple[str, ...] = tuple(LOGGER_SIGNATURES)
LIFECYCLE_HOOKS: tuple[str, ...] = tuple(_signatures(LifecycleSpec))
#: Every hook (logger, lifecycle, framework) -> its parameter names, in the spec's order.
PARAMS: dict[str, tuple[str, ...]] = {
    h: tuple(s.parameters)
    for spec in (LoggerSpec, LifecycleSpec, FrameworkSpec)
    for h, s in _signatures(spec).items()
}
#: Logger hook name -> {parameter: default}: what a call may leave out.
LOGGER_DEFAULTS: dict[str, dict[str, Any]] = {
    h: {p.name: p.default for p in s.parameters.values() if p.default is not p.empty}
    for h, s in LOGGER_SIGNATURES.items()
}
