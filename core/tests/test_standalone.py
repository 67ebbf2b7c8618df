"""A logger's hook implementations called on their own (trialog.standalone), as trixi's docs call loggers."""

import inspect

import pluggy
import pytest

from trialog import hookimpl, hookspecs
from trialog.dispatch import CombinedLogger
from trialog.standalone import RAW_ATTRIBUTE, raw_impl


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


def test_a_spec_parameter_with_a_default_is_refused_at_the_definition():
    with pytest.raises(TypeError, match=r"Bad.show_text: parameter 'name' of hook show_text has a default"):

        class Bad:
            @hookimpl
            def show_text(self, text, name=None):
                pass


def test_a_parameter_outside_the_spec_is_refused_at_the_definition():
    with pytest.raises(TypeError, match=r"'colour' is not a parameter of hook show_value.*give it a default"):

        class Bad:
            @hookimpl
            def show_value(self, value, colour):
                pass


def test_pluggy_sees_the_implementations_own_parameters():
    pm = pluggy.PluginManager("trialog")
    pm.add_hookspecs(hookspecs.LoggerSpec)
    pm.add_hookspecs(hookspecs.LifecycleSpec)
    logger = Partial()
    pm.register(logger)
    impls = {c.name: c.get_hookimpls()[0] for c in pm.get_hookcallers(logger)}
    # pluggy sees the spec's parameters in the spec's order (it passes them all), whatever pluggy version
    assert impls["show_image"].argnames == ("image", "name", "counter", "title")
    assert impls["show_histogram"].argnames == ("array", "name", "counter", "bins", "title")
    # The spec is all-required for pluggy; its defaults are kept in LOGGER_SIGNATURES.
    assert pm.hook.show_value.spec.argnames == ("value", "name", "counter", "tag", "title")
    assert str(hookspecs.LOGGER_SIGNATURES["show_value"]).startswith("(value: 'float', name: 'str', counter")
    assert list(inspect.signature(Partial.show_value).parameters) == [
        "self",
        "value",
        "name",
        "counter",
        "tag",
        "title",
    ]


def test_a_hook_call_through_pluggy_reaches_the_implementation_in_its_own_order():
    """The implementation declares (title, image): pluggy's call must not scramble them."""
    pm = pluggy.PluginManager("trialog")
    pm.add_hookspecs(hookspecs.LoggerSpec)
    logger = Partial()
    pm.register(logger)
    pm.hook.show_image(image="pixels", name="n", counter=None, title="T")
    pm.hook.show_value(value=1.0, name="loss", counter=7, tag="train", title=None)
    assert logger.calls[-2:] == [("image", "pixels", "T"), ("value", 1.0, "loss", "train")]


def test_the_dispatcher_calls_the_implementation_not_the_wrapper():
    clog = CombinedLogger({"p": Partial()})
    (logger,) = clog._loggers
    function = logger.impls["show_value"][0]
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
