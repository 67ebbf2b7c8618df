"""What trixi's Slack and Telegram loggers share: trixi's chat methods over a trialog notifier."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trialog_figures import decode_png

from trialog.errors import ConfigError

from .._dispatched import DispatchedLogger, refuse

_SERIAL = itertools.count()


@contextlib.contextmanager
def token_variable(kind: str, token: str | None, options: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The notifier's options with trixi's ``token`` argument handed over for its construction only.

    trialog's notifiers read their token from an environment variable (their options are stored with a
    run's config); a trixi script passes it in code, so it sits in a private variable while the notifier
    is built and is removed right after (the notifier keeps it in memory, never in a file).
    """
    if token is None:
        yield options
        return
    if "token_env" in options:
        raise ConfigError(f"{kind}: give the token or token_env, not both")
    name = f"TRIXI_{kind.upper()}_TOKEN_{os.getpid()}_{next(_SERIAL)}"
    os.environ[name] = str(token)
    try:
        yield {**options, "token_env": name}
    finally:
        os.environ.pop(name, None)


def _grid_options(method: str, padding: int, range: Any, scale_each: bool, pad_value: float) -> None:
    if padding != 2 or range is not None or scale_each or pad_value != 0:
        raise ConfigError(
            f"{method}: padding (other than 2), range, scale_each and pad_value are not provided by "
            "trialog-trixi; normalize=True stretches the batch's min..max to [0, 1]"
        )


class ChatLogger(DispatchedLogger):
    """trixi's message logger methods over a trialog notifier (``self.logger``), posting from its thread."""

    def _delete_last(self, method: str, delete_last: bool) -> None:
        if bool(delete_last) != bool(self.logger.delete_last):
            raise ConfigError(
                f"{method}(delete_last={delete_last}): trialog's notifiers replace posts per logger, not per "
                f"call; pass delete_last={delete_last} to the logger's constructor"
            )

    def show_text(self, text: Any, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Post ``text`` as a message."""
        if args:
            raise ConfigError(
                f"show_text: extra positional arguments {args!r} are not provided by trialog-trixi"
            )
        refuse("show_text", kwargs, ("name",))
        self.clog.show_text(text=str(text), name=kwargs.pop("name", None), **kwargs)

    def print(self, text: Any, *args: Any, **kwargs: Any) -> None:
        """``show_text(text)``."""
        self.show_text(text, *args, **kwargs)

    def show_value(  # type: ignore[override]
        self,
        value: Any,
        name: str,
        counter: Any = None,
        tag: Any = None,
        delete_last: bool = True,
        **kwargs: Any,
    ) -> None:
        """Add a point to the curve ``name`` (plot ``tag``, else ``name``); the plot is posted at most every
        ``min_interval`` seconds (a constructor option, default 60) and at close."""
        refuse("show_value", kwargs)
        self._delete_last("show_value", delete_last)
        self.clog.show_value(value=value, name=name, counter=counter, tag=tag, **kwargs)

    def show_image(self, image: Any, name: Any = None, delete_last: bool = True, **kwargs: Any) -> None:  # type: ignore[override]
        """Post an image: an array or tensor, or the path of a PNG file."""
        refuse("show_image", kwargs, ("title", "counter"))
        self._delete_last("show_image", delete_last)
        if isinstance(image, (str, os.PathLike)):
            path = Path(image)
            if path.suffix.lower() != ".png":
                raise ConfigError(f"show_image: {path} is not a .png file (trialog-trixi posts PNG files)")
            name = name or path.stem
            image = decode_png(path.read_bytes())
            if image.ndim == 3:  # (C, H, W): never mistaken for channels-last, whatever H is
                image = image.transpose(2, 0, 1)
        self.clog.show_image(image=image, name=name or "image", **kwargs)

    def show_image_grid(
        self,
        image_array: Any,
        name: Any = None,
        nrow: int = 8,
        padding: int = 2,
        normalize: bool = False,
        range: Any = None,
        scale_each: bool = False,
        pad_value: float = 0,
        delete_last: bool = True,
        **kwargs: Any,
    ) -> None:
        """Post a batch tiled into one image, ``nrow`` per row."""
        refuse("show_image_grid", kwargs)
        _grid_options("show_image_grid", padding, range, scale_each, pad_value)
        self._delete_last("show_image_grid", delete_last)
        self.clog.show_image_grid(
            images=image_array, name=name or "image_grid", nrow=nrow, normalize=normalize, **kwargs
        )

    def show_barplot(
        self, array: Any, name: Any = "barplot", delete_last: bool = True, **kwargs: Any
    ) -> None:  # type: ignore[override]
        """Post a bar plot."""
        refuse("show_barplot", kwargs, ("labels", "title"))
        self._delete_last("show_barplot", delete_last)
        self.clog.show_barplot(array=array, name=name or "barplot", **kwargs)

    def show_lineplot(  # type: ignore[override]
        self, y_vals: Any, x_vals: Any = None, name: Any = "lineplot", delete_last: bool = True, **kwargs: Any
    ) -> None:
        """Post a line plot."""
        refuse("show_lineplot", kwargs, ("labels", "title"))
        self._delete_last("show_lineplot", delete_last)
        self.clog.show_lineplot(y_vals=y_vals, x_vals=x_vals, name=name or "lineplot", **kwargs)

    def show_piechart(
        self, array: Any, name: Any = "piechart", delete_last: bool = True, **kwargs: Any
    ) -> None:  # type: ignore[override]
        """Post a pie chart."""
        refuse("show_piechart", kwargs, ("labels", "title"))
        self._delete_last("show_piechart", delete_last)
        self.clog.show_piechart(array=array, name=name or "piechart", **kwargs)

    def show_scatterplot(  # type: ignore[override]
        self, array: Any, name: Any = "scatterplot", delete_last: bool = True, **kwargs: Any
    ) -> None:
        """Post a scatter plot."""
        refuse("show_scatterplot", kwargs, ("labels", "title"))
        self._delete_last("show_scatterplot", delete_last)
        self.clog.show_scatterplot(array=array, name=name or "scatterplot", **kwargs)


__all__ = ["ChatLogger", "token_variable"]
