"""The hook specifications: the logger interface (trixi's ``show_*`` names) and the experiment lifecycle.

A logger plugin is a class whose methods carry ``@hookimpl`` for the hooks it supports; a method may
declare any subset of a hook's parameters (pluggy passes only those). Arrays arrive as numpy arrays:
the dispatcher converts torch tensors once, before calling any logger.

Example logger::

    from trialog import hookimpl

    class PrintLogger:
        background = False          # True: fed through a bounded background queue (network loggers)

        def __init__(self, prefix: str = ""):
            self.prefix = prefix

        @hookimpl
        def show_value(self, value, name, tag):
            print(self.prefix, name, tag, value)

Lifecycle hooks are implemented by loggers (called through the dispatcher, like any logger hook) and
by ``trialog.plugins`` modules (called inline, with the live experiment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._markers import hookspec

Array = Any  # numpy.ndarray after the dispatcher's conversion; kept loose so the core needs no numpy import


class LoggerSpec:
    """Hooks a logger implements: trixi's logger interface."""

    @hookspec
    def show_value(self, value: float, name: str, counter: int | None, tag: str | None) -> None:
        """Log one scalar; values sharing ``tag`` belong in one plot, ``counter`` is the x position.

        Example: ``@hookimpl def show_value(self, value, name): self.values.setdefault(name, []).append(value)``
        """

    @hookspec
    def show_text(self, text: str, name: str | None, counter: int | None) -> None:
        """Log a piece of text under ``name`` (None: the default text log).

        Example: ``@hookimpl def show_text(self, text): print(text)``
        """

    @hookspec
    def show_image(self, image: Array, name: str, counter: int | None, title: str | None) -> None:
        """Log one image: (H, W), (C, H, W) or (H, W, C) with C in 1, 3, 4; float in [0, 1] or uint8.

        Example: ``@hookimpl def show_image(self, image, name): self.images[name] = image``
        """

    @hookspec
    def show_images(self, images: Array, name: str, counter: int | None, title: str | None) -> None:
        """Log a batch of images (N, C, H, W), (N, H, W) or a sequence of single images.

        Example: ``@hookimpl def show_images(self, images, name): self.images[name] = list(images)``
        """

    @hookspec
    def show_image_grid(
        self,
        images: Array,
        name: str,
        counter: int | None,
        title: str | None,
        nrow: int,
        normalize: bool,
    ) -> None:
        """Log a batch of images tiled as one grid image, ``nrow`` images per row.

        Example: ``@hookimpl def show_image_grid(self, images, name, nrow): save(make_grid(images, nrow), name)``
        """

    @hookspec
    def show_barplot(
        self, array: Array, name: str, counter: int | None, labels: Sequence[str] | None, title: str | None
    ) -> None:
        """Log a bar plot of a 1-D array (or 2-D: one group of bars per row).

        Example: ``@hookimpl def show_barplot(self, array, name): print(name, array.tolist())``
        """

    @hookspec
    def show_lineplot(
        self,
        y_vals: Array,
        x_vals: Array | None,
        name: str,
        counter: int | None,
        labels: Sequence[str] | None,
        title: str | None,
    ) -> None:
        """Log a line plot; 2-D ``y_vals`` draws one line per row.

        Example: ``@hookimpl def show_lineplot(self, y_vals, name): print(name, y_vals[-1])``
        """

    @hookspec
    def show_scatterplot(
        self, array: Array, name: str, counter: int | None, labels: Sequence[str] | None, title: str | None
    ) -> None:
        """Log a scatter plot of an (N, 2) array.

        Example: ``@hookimpl def show_scatterplot(self, array, name): print(name, array.shape)``
        """

    @hookspec
    def show_piechart(
        self, array: Array, name: str, counter: int | None, labels: Sequence[str] | None, title: str | None
    ) -> None:
        """Log a pie chart of a 1-D array of non-negative parts.

        Example: ``@hookimpl def show_piechart(self, array, labels): print(dict(zip(labels, array)))``
        """

    @hookspec
    def show_boxplot(
        self, array: Array, name: str, counter: int | None, labels: Sequence[str] | None, title: str | None
    ) -> None:
        """Log a box plot: a 1-D array, or 2-D with one box per column.

        Example: ``@hookimpl def show_boxplot(self, array, name): print(name, numpy.median(array, axis=0))``
        """

    @hookspec
    def show_histogram(
        self, array: Array, name: str, counter: int | None, bins: int, title: str | None
    ) -> None:
        """Log the histogram of an array's values.

        Example: ``@hookimpl def show_histogram(self, array, bins): print(numpy.histogram(array, bins)[0])``
        """

    @hookspec
    def show_heatmap(self, array: Array, name: str, counter: int | None, title: str | None) -> None:
        """Log a 2-D array as a heat map (a confusion matrix, an attention map).

        Example: ``@hookimpl def show_heatmap(self, array, name): print(name, array.max())``
        """

    @hookspec
    def show_pr_curve(
        self, labels: Array, predictions: Array, name: str, counter: int | None, title: str | None
    ) -> None:
        """Log a precision-recall curve of a binary problem (labels 0/1, predictions scores in [0, 1]).

        Example: ``@hookimpl def show_pr_curve(self, labels, predictions): print(labels.mean())``
        """

    @hookspec
    def show_roc_curve(
        self, labels: Array, predictions: Array, name: str, counter: int | None, title: str | None
    ) -> None:
        """Log a ROC curve of a binary problem (labels 0/1, predictions scores).

        Example: ``@hookimpl def show_roc_curve(self, labels, predictions): print(len(labels))``
        """

    @hookspec
    def show_embedding(
        self, features: Array, name: str, counter: int | None, labels: Sequence[Any] | None, title: str | None
    ) -> None:
        """Log an (N, D) embedding with optional per-point labels.

        Example: ``@hookimpl def show_embedding(self, features, labels): print(features.shape)``
        """

    @hookspec
    def show_figure(self, figure: Any, name: str, counter: int | None) -> None:
        """Log a matplotlib figure (render it through ``figure.canvas``, never ``pyplot``).

        Example: ``@hookimpl def show_figure(self, figure, name): figure.savefig(f"{name}.png")``
        """

    @hookspec
    def log_config(self, config: Mapping[str, Any]) -> None:
        """Record the run's configuration (a plain, JSON-able dict).

        Example: ``@hookimpl def log_config(self, config): print(json.dumps(config))``
        """

    @hookspec
    def flush(self) -> None:
        """Push anything buffered to the backend.

        Example: ``@hookimpl def flush(self): self.writer.flush()``
        """

    @hookspec
    def close(self) -> None:
        """Flush and release the backend; called once, last.

        Example: ``@hookimpl def close(self): self.writer.close()``
        """

    @hookspec
    def show_video(self, frames: Array, name: str, counter: int | None, fps: int) -> None:
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
    def add_cli_commands(self, subparsers: Any) -> None:
        """Add sub-commands to the ``trialog`` CLI (an ``argparse`` subparsers object); set ``func`` on each.

        Example::

            @hookimpl
            def add_cli_commands(subparsers):
                p = subparsers.add_parser("hello", help="say hello")
                p.set_defaults(func=lambda args: print("hello") or 0)
        """


#: Logger hook names, in the order trixi documents them.
LOGGER_HOOKS: tuple[str, ...] = tuple(n for n in vars(LoggerSpec) if not n.startswith("_"))
#: Lifecycle hook names.
LIFECYCLE_HOOKS: tuple[str, ...] = tuple(n for n in vars(LifecycleSpec) if not n.startswith("_"))
