"""Hook implementations read against their specs (trialog.hooks.markers): called on their own, as trixi's docs
call loggers, and through the dispatcher; parameters with defaults are passed (0.1.0's contract)."""

import inspect

import pluggy
import pytest

from trialog import hookimpl
from trialog.errors import LoggerConfigError
from trialog.hooks import specs as hookspecs
from trialog.hooks.markers import RAW_ATTRIBUTE, raw_impl
from trialog.hooks.plugins import PluginHooks
from trialog.loggers.dispatch import CombinedLogger


class Partial:
    """Declares a subset of each hook's parameters, in an order of its own."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def show_value(self, value, name, tag):
        self.calls.append(("value", value, name, tag))

    @hookimpl
    def show_text(self, text, name):
        self.calls.append(("text", text, name))

    @hookimpl
    def show_image(self, title, image):  # not the spec's order: a direct call binds by the spec's
        self.calls.append(("image", image, title))

    @hookimpl
    def show_histogram(self, array, bins, file_format=".png", **options):
        self.calls.append(("histogram", array, bins, file_format, options))

    @hookimpl
    def on_run_end(self, run):
        self.calls.append(("end", run))


def test_a_direct_call_fills_the_specs_defaults():
    logger = Partial()
    logger.show_value(1.0, "x")
    logger.show_text("Test")
    logger.show_image("pixels", "img", 3, "A title")  # the spec's (image, name, counter, title)
    logger.show_histogram([1, 2], "h")
    assert logger.calls == [
        ("value", 1.0, "x", None),
        ("text", "Test", None),
        ("image", "pixels", "A title"),
        ("histogram", [1, 2], 30, ".png", {}),
    ]


def test_extra_keywords_go_where_declared_and_are_ignored_elsewhere():
    logger = Partial()
    logger.show_value(1.0, "x", title="loss", file_format=".svg")  # show_value takes neither: ignored
    logger.show_histogram([1], "h", file_format=".svg", dpi=80, log_all=True)
    assert logger.calls == [
        ("value", 1.0, "x", None),
        ("histogram", [1], 30, ".svg", {"dpi": 80, "log_all": True}),
    ]


def test_bad_direct_calls_are_named():
    logger = Partial()
    with pytest.raises(TypeError, match=r"show_value\(\) missing required argument 'name'"):
        logger.show_value(1.0)
    with pytest.raises(TypeError, match="multiple values for argument 'name'"):
        logger.show_value(1.0, "x", name="y")
    with pytest.raises(TypeError, match=r"show_text\(\) takes at most 4 arguments \(5 given\)"):
        logger.show_text("a", "b", 1, "t", "extra")


class Defaults:
    """Written the obvious way (0.1.0's contract): spec parameters with defaults of their own."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def show_value(self, value, name, counter=None, tag="mine"):
        self.calls.append((value, name, counter, tag))

    @hookimpl
    def show_histogram(self, array, file_format=".png", bins=None):  # an extra keyword before a spec one
        self.calls.append((array, file_format, bins))

    @hookimpl
    def show_text(self, text, *, name="?", title=None):  # spec parameters by keyword only
        self.calls.append((text, name, title))


def test_spec_parameters_with_defaults_are_passed_through_the_dispatcher():
    clog = CombinedLogger({"d": Defaults()})
    clog.show_value(1.0, "loss", 3, "train")
    clog.show_value(2.0, "loss", tag="val")
    clog.show_value(3.0, "acc")  # the spec's defaults (None), never the implementation's own
    clog.show_histogram([1], "h", file_format=".svg")
    clog.show_histogram([2], "h", bins=7)
    clog.show_text("hi", "notes", title="T")
    assert clog["d"].calls == [
        (1.0, "loss", 3, "train"),
        (2.0, "loss", None, "val"),
        (3.0, "acc", None, None),
        ([1], ".svg", 30),
        ([2], ".png", 7),
        ("hi", "notes", "T"),
    ]
    clog.close()


def test_spec_parameters_with_defaults_are_passed_in_a_direct_call():
    logger = Defaults()
    logger.show_value(1.0, "loss", 3, "train")
    logger.show_value(2.0, "loss")
    logger.show_histogram([1], "h", 10, 5, file_format=".svg")
    logger.show_text("hi", title="T")
    assert logger.calls == [
        (1.0, "loss", 3, "train"),
        (2.0, "loss", None, None),
        ([1], ".svg", 5),
        ("hi", None, "T"),
    ]


def test_a_plugin_hook_with_defaults_gets_every_spec_parameter_it_names():
    class Plugin:
        seen = []

        @hookimpl
        def on_epoch_end(self, epoch=None, experiment="unset"):
            self.seen.append((epoch, experiment))

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs.LifecycleSpec)
    pm.register(Plugin(), name="defaults")
    PluginHooks(pm).call("on_epoch_end", experiment="exp", epoch=4)
    assert Plugin.seen == [(4, "exp")]


def test_the_specs_are_never_changed_and_no_manager_is_made_per_logger(monkeypatch):
    spec = hookspecs.LoggerSpec.show_value
    assert spec.__defaults__ == (None, None, None) and "__signature__" not in vars(spec)
    assert str(hookspecs.LOGGER_SIGNATURES["show_value"]).startswith("(value: 'float', name: 'str', counter")

    def no_manager(*args, **kwargs):
        raise AssertionError("a pluggy PluginManager was made for a logger")

    monkeypatch.setattr(pluggy, "PluginManager", no_manager)
    clog = CombinedLogger({"p": Partial(), "d": Defaults()})
    clog.show_value(1.0, "x", tag="t")
    assert clog["p"].calls == [("value", 1.0, "x", "t")] and clog["d"].calls == [(1.0, "x", None, "t")]
    clog.close()


@pytest.mark.parametrize(
    "body, match",
    [
        (
            "@hookimpl\n    def show_valu(self, value): pass",
            "'show_valu', which is no logger or lifecycle hook",
        ),
        ("@hookimpl(wrapper=True)\n    def flush(self): yield", "flush is a hook wrapper"),
    ],
)
def test_a_logger_hook_the_dispatcher_cannot_call_is_named(body, match):
    namespace = {"hookimpl": hookimpl}
    exec(f"class Odd:\n    {body}\n    @hookimpl\n    def show_text(self, text): pass", namespace)
    with pytest.raises(LoggerConfigError, match=match):
        CombinedLogger({"odd": namespace["Odd"]()})


def test_a_parameter_outside_the_spec_is_refused_at_the_definition():
    with pytest.raises(TypeError, match=r"'colour' is not a parameter of hook show_value.*give it a default"):

        class Bad:
            @hookimpl
            def show_value(self, value, colour):
                pass


def test_the_implementation_keeps_its_own_signature():
    assert list(inspect.signature(Partial.show_image).parameters) == ["self", "title", "image"]
    assert raw_impl(Partial().show_image).__name__ == "show_image"


def test_the_dispatcher_calls_the_implementation_not_the_wrapper():
    clog = CombinedLogger({"p": Partial()})
    (logger,) = clog._loggers
    function = logger.impls["show_value"].call
    assert not hasattr(function, RAW_ATTRIBUTE) and function.__self__ is clog["p"]
    assert raw_impl(clog["p"].show_value).__func__ is function.__func__
    clog.show_image("pixels", "img", title="T")
    assert clog["p"].calls == [("image", "pixels", "T")]


def test_only_plain_logger_hook_implementations_are_wrapped():
    class Hooks:
        @hookimpl(tryfirst=True)
        def show_value(self, value, name):
            pass

        @hookimpl
        def on_run_end(self, run):
            pass

        @hookimpl(wrapper=True)
        def flush(self):
            yield

    assert hasattr(Hooks.show_value, RAW_ATTRIBUTE) and Hooks.show_value.trialog_impl["tryfirst"]
    assert not hasattr(Hooks.on_run_end, RAW_ATTRIBUTE) and not hasattr(Hooks.flush, RAW_ATTRIBUTE)
    Hooks().show_value(1.0, "x", tag="t")


def test_a_module_level_implementation_is_callable_too():
    @hookimpl
    def show_text(text, name):
        return (text, name)

    assert show_text("hi") == ("hi", None)
