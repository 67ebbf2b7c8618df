"""The hook markers; plugins write ``from trialog import hookimpl``."""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "trialog"
hookspec = pluggy.HookspecMarker(PROJECT)


class HookimplMarker(pluggy.HookimplMarker):
    """pluggy's marker, and a logger-hook implementation also callable on its own (``trialog.standalone``)."""

    def __call__(  # type: ignore[override]
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
            super(HookimplMarker, self).__call__(
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


hookimpl = HookimplMarker(PROJECT)
