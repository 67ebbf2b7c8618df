"""``trixi.logger.visdom.numpyvisdomlogger``: trixi's NumpyVisdomLogger on :class:`trialog_visdom.VisdomLogger`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError

from .._dispatched import DispatchedLogger, backend, refuse, untitled

_visdom = backend("trialog_visdom", "trialog-visdom", "trixi.logger.visdom")

#: Servers :func:`start_visdom` started (each a ``trialog_visdom.server.ServerProcess``; ``.port``).
started_servers: list[Any] = []


def _plain(method: str, kwargs: dict[str, Any], allowed: Iterable[str] = ()) -> dict[str, Any]:
    """Drop trixi's per-call Visdom options left at their defaults; refuse the others by name."""
    if kwargs.get("env_appendix", "") == "":
        kwargs.pop("env_appendix", None)
    if not kwargs.get("opts"):
        kwargs.pop("opts", None)
    if kwargs.get("show_legend", True) is True:
        kwargs.pop("show_legend", None)
    if kwargs.get("caption") is None:
        kwargs.pop("caption", None)
    refuse(method, kwargs, allowed, ignored=True)
    return kwargs


def _not_provided(method: str, why: str) -> ConfigError:
    return ConfigError(f"NumpyVisdomLogger.{method} is not provided by trialog-trixi: {why}")


def start_visdom(port_list: Iterable[int] = (8080, 8000)) -> int:
    """Start a local Visdom server on the first port of ``port_list`` it can listen on; that port, or -1.

    The server keeps running (it is listed in ``started_servers``); ``0`` lets the OS pick a free port.
    """
    from trialog_visdom.server import start_server

    for port in port_list:
        try:
            process = start_server(int(port), Path.home() / ".visdom")
        except RuntimeError:
            continue
        started_servers.append(process)
        return int(process.port)
    return -1


class NumpyVisdomLogger(DispatchedLogger):
    """trixi's ``NumpyVisdomLogger(exp_name="main", server="http://localhost", port=8080, auto_close=True,
    auto_start=False, auto_start_ports=(8080, 8000))``: plots in the Visdom environment ``exp_name``.

    :class:`trialog_visdom.VisdomLogger` sends them from its own thread (further keyword arguments are its
    options). ``auto_start`` starts a local server on the first of ``auto_start_ports`` when none answers
    there; ``auto_close`` closes the logger at exit (the environment is saved, pending plots are sent).
    """

    def __init__(
        self,
        exp_name: str = "main",
        server: str = "http://localhost",
        port: int = 8080,
        auto_close: bool = True,
        auto_start: bool = False,
        auto_start_ports: Iterable[int] = (8080, 8000),
        **kwargs: Any,
    ) -> None:
        if auto_start:
            ports = list(auto_start_ports)
            if not ports:
                raise ConfigError("NumpyVisdomLogger: auto_start needs at least one port in auto_start_ports")
            port, server = ports[0], "http://localhost"
        logger = _visdom.VisdomLogger(server=server, port=port, env=exp_name, auto_start=auto_start, **kwargs)
        super().__init__(logger, "visdom", close_at_exit=auto_close)
        self.name = exp_name
        self.server = server
        self.port = logger.port

    def show_image(self, image: Any, name: Any = None, title: Any = None, **kwargs: Any) -> None:
        """An image in window ``name``."""
        _plain("show_image", kwargs)
        self.clog.show_image(image=image, name=name or "image", title=title)

    def show_images(self, images: Any, name: Any = None, title: Any = None, **kwargs: Any) -> None:
        """A batch of images in window ``name``."""
        _plain("show_images", kwargs)
        self.clog.show_images(images=images, name=name or "images", title=title)

    def show_value(
        self, value: Any, name: Any = None, counter: Any = None, tag: Any = None, **kwargs: Any
    ) -> None:
        """Append ``value`` to the line ``name`` in window ``tag`` (else ``name``)."""
        _plain("show_value", kwargs)
        self.clog.show_value(
            value=value, name=name if name is not None else "value", counter=counter, tag=tag, **kwargs
        )

    def show_values(self, val_dict: Mapping[str, Any]) -> None:
        """``show_value(value, name)`` for each ``name: value``."""
        for name, value in val_dict.items():
            self.show_value(value, name)

    def show_text(self, text: str, name: Any = None, **kwargs: Any) -> None:
        """A text in window ``name`` (later texts are appended)."""
        _plain("show_text", kwargs)
        self.clog.show_text(text=text, name=name or "text", **kwargs)

    def show_progress(self, num: float, total: float | None = None, name: Any = None, **kwargs: Any) -> None:
        """Progress as a pie: ``num`` of ``total``, or a fraction in [0, 1]."""
        untitled("show_progress", _plain("show_progress", kwargs))
        self.logger.show_progress(num, total, name or "progress")

    def show_histogram(self, array: Any, name: Any = None, bins: int = 30, **kwargs: Any) -> None:
        """The histogram of ``array``."""
        _plain("show_histogram", kwargs)
        self.clog.show_histogram(array=array, name=name or "histogram", bins=bins, **kwargs)

    def show_histogram_3d(self, array: Any, name: str, bins: int = 50, **kwargs: Any) -> None:
        """Histograms of the last samples, one row each."""
        untitled("show_histogram_3d", _plain("show_histogram_3d", kwargs))
        self.logger.show_histogram_3d(array, name, bins)

    def show_barplot(
        self,
        array: Any,
        legend: Any = None,
        rownames: Any = None,
        name: Any = None,
        title: Any = None,
        **kwargs: Any,
    ) -> None:
        """A bar plot; ``rownames`` name the bars (2-D: the groups)."""
        _plain("show_barplot", kwargs)
        if legend is not None:
            raise ConfigError(
                "show_barplot: legend is not provided by trialog-trixi; name the bars with rownames"
            )
        self.clog.show_barplot(array=array, name=name or "barplot", labels=rownames, title=title)

    def show_lineplot(
        self,
        y_vals: Any,
        x_vals: Any = None,
        name: Any = None,
        title: Any = None,
        legend: Any = None,
        **kwargs: Any,
    ) -> None:
        """Lines of ``y_vals`` (2-D: one per row); ``legend`` names them."""
        _plain("show_lineplot", kwargs)
        self.clog.show_lineplot(
            y_vals=y_vals, x_vals=x_vals, name=name or "lineplot", labels=legend, title=title
        )

    def show_boxplot(
        self, array: Any, name: Any = None, title: Any = None, legend: Any = None, **kwargs: Any
    ) -> None:
        """A box plot (2-D: one box per column, named by ``legend``)."""
        _plain("show_boxplot", kwargs)
        self.clog.show_boxplot(array=array, name=name or "boxplot", labels=legend, title=title)

    def show_piechart(
        self, array: Any, name: Any = None, title: Any = None, legend: Any = None, **kwargs: Any
    ) -> None:
        """A pie chart; ``legend`` names the parts."""
        _plain("show_piechart", kwargs)
        self.clog.show_piechart(array=array, name=name or "piechart", labels=legend, title=title)

    def show_scatterplot(
        self, array: Any, labels: Any = None, name: Any = None, title: Any = None, **kwargs: Any
    ) -> None:
        """A scatter plot of (N, 2) points; ``labels`` give each point's class."""
        _plain("show_scatterplot", kwargs)
        self.clog.show_scatterplot(array=array, name=name or "scatterplot", labels=labels, title=title)

    def show_contourplot(self, array: Any, name: Any = None, title: Any = None, **kwargs: Any) -> None:
        """A contour plot of a 2-D array."""
        _plain("show_contourplot", kwargs)
        self.logger.show_contourplot(array, name or "contour", title)

    def show_surfaceplot(self, array: Any, name: Any = None, title: Any = None, **kwargs: Any) -> None:
        """A surface plot of a 2-D array."""
        _plain("show_surfaceplot", kwargs)
        self.logger.show_surfaceplot(array, name or "surface", title)

    def show_svg(self, svg: str, name: Any = None, **kwargs: Any) -> None:
        """An SVG document."""
        _plain("show_svg", kwargs)
        self.logger.show_svg(svg, name or "svg", kwargs.get("title"))

    def show_matplot_plt(self, plt: Any, name: Any = None, **kwargs: Any) -> None:
        """A matplotlib figure, rendered to an image at the call."""
        untitled("show_matplot_plt", _plain("show_matplot_plt", kwargs))
        self.clog.show_figure(figure=plt, name=name or "figure")

    def show_plotly_plt(self, *args: Any, **kwargs: Any) -> None:
        """Not provided (no plotly figures in trialog)."""
        raise _not_provided("show_plotly_plt", "send matplotlib figures with show_matplot_plt")

    def add_to_graph(self, *args: Any, **kwargs: Any) -> None:
        """Not provided (trixi's internal curve update)."""
        raise _not_provided("add_to_graph", "use show_value; curves are appended to by name and tag")

    def send_data(self, *args: Any, **kwargs: Any) -> None:
        """Not provided (trixi's internal process queue)."""
        raise _not_provided("send_data", "every show_* call is sent from the logger's own thread")

    def close_all(self) -> None:
        """Not provided (closing every window of the environment)."""
        raise _not_provided("close_all", "close windows in the Visdom UI, or use another exp_name")

    def save_vis(self) -> None:
        """Send everything pending (the environment itself is saved on the server at close and exit)."""
        self.flush()

    def exit(self) -> None:
        """Close the logger: pending plots are sent, the environment is saved."""
        self.close()


__all__ = ["NumpyVisdomLogger", "start_visdom"]
