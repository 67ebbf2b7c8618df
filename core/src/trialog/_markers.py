"""The hook markers; plugins write ``from trialog import hookimpl``."""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "trialog"
hookspec = pluggy.HookspecMarker(PROJECT)
_mark = pluggy.HookimplMarker(PROJECT)


class HookimplMarker:
    """pluggy's hookimpl marker (same options), and logger hooks made callable on their own (``trialog.standalone``)."""

    project_name = PROJECT

    def __call__(
        self,
        function: Any = None,
        hookwrapper: bool = False,
        optionalhook: bool = False,
        tryfirst: bool = False,
        trylast: bool = False,
        specname: str | None = None,
        wrapper: bool = False,
    ) -> Any:
        def mark(func: Any) -> Any:
            _mark(
                func,
                hookwrapper=hookwrapper,
                optionalhook=optionalhook,
                tryfirst=tryfirst,
                trylast=trylast,
                specname=specname,
                wrapper=wrapper,
            )
            if hookwrapper or wrapper:
                return func
            from . import hookspecs, standalone  # here: hookspecs imports this module

            hook = specname or getattr(func, "__name__", "")
            if hook not in hookspecs.LOGGER_PARAMS:
                return func
            return standalone.direct_callable(func, hook)

        return mark if function is None else mark(function)


hookimpl = HookimplMarker()
