import threading
import warnings

import numpy as np
import pytest

from trialog import hookimpl
from trialog.errors import LoggerConfigError, TrialogWarning
from trialog.loggers.dispatch import CombinedLogger

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0


class Recorder:
    def __init__(self, log=None, tag_prefix=""):
        self.calls = []
        self.log = log if log is not None else []
        self.tag_prefix = tag_prefix

    @hookimpl
    def show_value(self, value, name, counter, tag):
        self.calls.append(("show_value", name, tag, value, counter))
        self.log.append(self)

    @hookimpl
    def show_image(self, image, name):
        self.calls.append(("show_image", name, image))

    @hookimpl
    def on_run_end(self, run, summary):
        self.calls.append(("on_run_end", run, summary))


class FakeTensor:
    """Duck-types a torch tensor: detach().cpu().numpy(), item()."""

    conversions = 0

    def __init__(self, data):
        self.data = np.asarray(data)

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        FakeTensor.conversions += 1
        return self.data

    def item(self):
        FakeTensor.conversions += 1
        return self.data.item()


def values(logger):
    return [c[3] for c in logger.calls if c[0] == "show_value"]


def test_every_counts_per_name_and_tag_and_first_call_logs():
    clog = CombinedLogger({"a": Recorder(), "b": (Recorder, {}, 3), "c": {"type": Recorder, "every": 2}})
    for i in range(7):
        clog.show_value(i, "loss", tag="train")
        clog.show_value(-i, "loss", tag="val")
    assert values(clog["a"]) == [v for i in range(7) for v in (i, -i)]
    assert values(clog["b"]) == [0, 0, 3, -3, 6, -6]
    assert values(clog["c"]) == [0, 0, 2, -2, 4, -4, 6, -6]


def test_control_keywords():
    clog = CombinedLogger({"every3": (Recorder, {}, 3)})
    rec = clog["every3"]
    clog.show_value(0, "x")  # count 0: due
    clog.show_value(1, "x", same_as_last=True)  # logged because the last call was logged; no count
    clog.show_value(2, "x")  # count 1: not due
    clog.show_value(3, "x", same_as_last=True)  # last call was not logged
    clog.show_value(4, "x", log_all=True)  # count 2: forced
    clog.show_value(5, "x", do_not_increase=True)  # count 3: due, stays at 3
    clog.show_value(6, "x")  # count 3: due again
    assert values(rec) == [0, 1, 4, 5, 6]


def test_loggers_are_called_in_config_order():
    order = []
    clog = CombinedLogger({"z": Recorder(order), "a": Recorder(order), "m": Recorder(order)})
    clog.show_value(1.0, "x")
    assert order == [clog["z"], clog["a"], clog["m"]]


def test_tensors_convert_once_and_only_when_due():
    clog = CombinedLogger({"a": (Recorder, {}, 2), "b": (Recorder, {}, 2)})
    FakeTensor.conversions = 0
    clog.show_image(FakeTensor(np.ones((2, 2))), "img")
    assert FakeTensor.conversions == 1
    assert isinstance(clog["a"].calls[0][2], np.ndarray) and clog["a"].calls[0][2] is clog["b"].calls[0][2]
    clog.show_image(FakeTensor(np.ones((2, 2))), "img")  # nobody due: no conversion
    clog.show_value(FakeTensor(2.5), "v")
    assert FakeTensor.conversions == 2 and values(clog["a"]) == [2.5]


def test_trixi_positional_calls_and_defaults():
    class Lines:
        def __init__(self):
            self.calls = []

        @hookimpl
        def show_lineplot(self, y_vals, x_vals, name, labels):
            self.calls.append((list(y_vals), x_vals, name, labels))

        @hookimpl
        def show_text(self, text, name):
            self.calls.append((text, name))

    clog = CombinedLogger({"l": Lines()})
    clog.show_lineplot([1, 2], [0, 1], "curve")
    clog.show_text("hello")
    assert clog["l"].calls == [([1, 2], [0, 1], "curve", None), ("hello", None)]
    with pytest.raises(TypeError, match="y_vals"):
        clog.show_lineplot(name="curve", x_vals=None)


def test_extra_keywords_reach_the_implementations_that_declare_them():
    """trixi's **kwargs: passed to an implementation declaring the keyword (or **kwargs), ignored by others."""

    class Declares:
        background = False

        def __init__(self):
            self.calls = []

        @hookimpl
        def show_value(self, value, name, title, file_format=".png"):
            self.calls.append((value, title, file_format))

        @hookimpl
        def show_image(self, image, name, **kwargs):
            self.calls.append((name, kwargs))

    class Background(Declares):
        background = True

    clog = CombinedLogger({"declares": Declares(), "plain": Recorder(), "bg": Background()})
    with pytest.warns(TrialogWarning, match=r"show_value\(\) got the keyword 'unknown'.*it is ignored"):
        clog.show_value(1.0, "x", title="Loss", file_format=".svg", unknown=3)  # file_format: declared
    clog.show_value(2.0, "x")
    clog.show_image(np.zeros((2, 2)), "img", file_format=".jpg", log_all=True)
    clog.wait_idle(HANG)
    for name in ("declares", "bg"):
        assert clog[name].calls == [
            (1.0, "Loss", ".svg"),
            (2.0, None, ".png"),
            ("img", {"file_format": ".jpg"}),
        ]
    assert values(clog["plain"]) == [1.0, 2.0]
    with pytest.raises(TypeError, match="multiple values for argument 'name'"):
        clog.show_image(np.zeros((2, 2)), "img", name="again")
    clog.close()


def test_a_keyword_no_logger_takes_is_named_once():
    """A typo (``coutner=``) is not an error (trixi passed **kwargs on) but never vanishes unsaid."""
    clog = CombinedLogger({"plain": Recorder()})
    with pytest.warns(TrialogWarning) as warned:
        for i in range(3):
            clog.show_value(i, "x", coutner=i)
            clog.show_text("t", colour="red")
    messages = [str(w.message) for w in warned]
    assert len(messages) == 2
    assert "show_value() got the keyword 'coutner'" in messages[0] and "plain" in messages[0]
    assert "show_text() got the keyword 'colour'" in messages[1]
    assert values(clog["plain"]) == [0, 1, 2]
    clog.close()


def test_extra_keywords_on_a_call_nobody_is_due_for_still_count():
    clog = CombinedLogger({"every2": (Recorder, {}, 2)})
    for i in range(4):
        clog.show_value(i, "x", title="t")
    assert values(clog["every2"]) == [0, 2]


def test_the_defaults_are_the_spec_signatures():
    """One place: the dispatcher's methods show the defaults written in LoggerSpec."""
    import inspect

    from trialog.hooks import specs as hookspecs

    for hook in hookspecs.LOGGER_HOOKS:
        if hook == "close":
            continue
        method = inspect.signature(getattr(CombinedLogger, hook)).parameters
        for param in hookspecs.LOGGER_SIGNATURES[hook].parameters.values():
            assert method[param.name].default == param.default, (hook, param.name)
    assert hookspecs.LOGGER_DEFAULTS["show_image_grid"] == {
        "counter": None,
        "title": None,
        "nrow": 8,
        "normalize": False,
    }


def test_failing_logger_warns_once_counts_disables_and_summarises():
    class Broken:
        @hookimpl
        def show_value(self, value):
            raise OSError("disk full")

    clog = CombinedLogger({"ok": Recorder(), "bad": Broken()}, max_failures=3)
    with pytest.warns(TrialogWarning) as caught:
        for i in range(10):
            clog.show_value(i, "x")
    messages = [str(w.message) for w in caught]
    assert any("'bad'" in m and "OSError: disk full" in m for m in messages)
    assert sum("disabled after 3" in m for m in messages) == 1
    assert len(messages) == 2
    assert values(clog["ok"]) == list(range(10))
    with pytest.warns(TrialogWarning, match="3 failures"):
        summary = clog.close()
    assert summary["bad"]["failures"] == 3 and summary["bad"]["disabled"]
    assert summary["ok"]["failures"] == 0


def test_blocking_background_logger_does_not_slow_the_caller():
    release = threading.Event()

    class Stuck:
        background = True

        def __init__(self):
            self.got = []

        @hookimpl
        def show_value(self, value):
            release.wait(HANG)
            self.got.append(value)

    clog = CombinedLogger({"stuck": Stuck(), "rec": Recorder()})
    for i in range(100):
        clog.show_value(i, "x")
    # Every call returned while the background logger is still blocked on its first item.
    assert not release.is_set() and clog["stuck"].got == []
    assert values(clog["rec"]) == list(range(100))
    release.set()
    assert clog.wait_idle(HANG)
    assert clog["stuck"].got == list(range(100))
    assert clog.close()["stuck"]["undelivered"] == 0


def test_full_background_queue_drops_oldest_and_close_reports_undelivered():
    release = threading.Event()

    started = threading.Event()

    class Stuck:
        background = True

        @hookimpl
        def show_value(self, value):
            started.set()
            release.wait(HANG)

        @hookimpl
        def on_run_end(self, summary):
            pass

    clog = CombinedLogger({"s": {"type": Stuck, "queue_size": 5}})
    clog.show_value(0, "x")
    assert started.wait(HANG)
    with pytest.warns(TrialogWarning, match="queue"):
        for i in range(1, 20):
            clog.show_value(i, "x")
    clog.lifecycle("on_run_end", summary={})  # never dropped, even when the queue is full
    with pytest.warns(TrialogWarning, match="undelivered"):
        summary = clog.close(timeout=0.2)
    release.set()
    assert summary["s"]["dropped"] == 14  # 1 taken by the thread, 5 queued, 14 dropped
    assert summary["s"]["undelivered"] == 7  # 5 values + run end + the one in flight


def test_background_plots_of_one_name_are_coalesced():
    release = threading.Event()

    started = threading.Event()

    class Slow:
        background = True

        def __init__(self):
            self.images = []

        @hookimpl
        def show_image(self, image, name):
            started.set()
            release.wait(HANG)
            self.images.append((name, int(image.sum())))

    clog = CombinedLogger({"s": Slow()})
    clog.show_image(np.zeros((2, 2)), "a")
    assert started.wait(HANG)
    for i in range(1, 5):
        clog.show_image(np.full((2, 2), i), "a")
    clog.show_image(np.zeros((2, 2)), "b")
    release.set()
    assert clog.wait_idle(HANG)
    # the first was taken at once; the pending "a" images collapsed into the newest
    assert clog["s"].images == [("a", 0), ("a", 16), ("b", 0)]
    assert clog.close()["s"]["coalesced"] == 3


def test_background_gets_a_private_copy_of_arrays():
    release = threading.Event()

    class Slow:
        background = True

        def __init__(self):
            self.seen = None

        @hookimpl
        def show_image(self, image):
            release.wait(HANG)
            self.seen = image

    clog = CombinedLogger({"s": Slow()})
    buf = np.zeros(3)
    clog.show_image(buf, "a")
    buf[:] = 7  # the caller reuses its buffer
    release.set()
    clog.close()
    assert clog["s"].seen.tolist() == [0, 0, 0]


def test_lifecycle_reaches_loggers_with_missing_args_as_none():
    clog = CombinedLogger({"r": Recorder()})
    clog.lifecycle("on_run_end", summary={"acc": {"last": 1.0}})
    assert clog["r"].calls == [("on_run_end", None, {"acc": {"last": 1.0}})]
    with pytest.raises(ValueError, match="on_nothing"):
        clog.lifecycle("on_nothing")


def test_calls_after_close_are_ignored():
    clog = CombinedLogger({"r": Recorder()})
    clog.close()
    clog.show_value(1, "x")
    assert clog["r"].calls == []


@pytest.mark.parametrize(
    ("decl", "match"),
    [
        ({"prefix": "x"}, "no 'type'"),
        ({"type": Recorder, "every": 0}, "'every' must be a positive integer"),
        (
            {"type": Recorder, "colour": "red"},
            r"'r' \(Recorder\) does not accept option\(s\) 'colour'.*log, tag_prefix",
        ),
        (("a", "b", "c", "d"), "tuple declaration"),
    ],
)
def test_bad_declarations_name_the_logger(decl, match):
    with pytest.raises(LoggerConfigError, match=match):
        CombinedLogger({"r": decl})


def test_hook_typo_and_hookless_objects_are_named():
    class Typo:
        @hookimpl
        def show_valeu(self, value):
            pass

    with pytest.raises(LoggerConfigError, match=r"'t'.*show_valeu"):
        CombinedLogger({"t": Typo()})
    with pytest.raises(LoggerConfigError, match="implements no trialog hook"):
        CombinedLogger({"n": object()})


def test_unknown_logger_type_names_installed_ones():
    from trialog.errors import UnknownPluginError

    with pytest.raises(UnknownPluginError, match="pip install trialog-nosuchlogger"):
        CombinedLogger({"x": "nosuchlogger"})


def test_run_dir_is_given_to_loggers_that_take_it(tmp_path):
    clog = CombinedLogger({"m": "tl_mem"} if False else {"m": (Recorder, {})}, run_dir=tmp_path)
    assert clog["m"].calls == []

    class WithDir(Recorder):
        def __init__(self, run_dir=None):
            super().__init__()
            self.run_dir = run_dir

    assert CombinedLogger({"w": WithDir}, run_dir=tmp_path)["w"].run_dir == tmp_path
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CombinedLogger({"w": WithDir}, run_dir=tmp_path).close()


def test_close_reaches_disabled_loggers_and_reports_their_stats():
    class Flaky:
        def __init__(self):
            self.closed = False
            self.stats = {"posts_undelivered": 2}

        @hookimpl
        def show_value(self, value):
            raise ConnectionError("down")

        @hookimpl
        def close(self):
            self.closed = True

    clog = CombinedLogger({"f": Flaky()}, max_failures=1)
    with pytest.warns(TrialogWarning):
        clog.show_value(1, "x")
    with pytest.warns(TrialogWarning, match="disabled"):
        summary = clog.close()
    assert clog["f"].closed and summary["f"]["stats"] == {"posts_undelivered": 2}


def test_background_calls_arriving_together_are_delivered_in_order():
    class Slow:
        background = True

        def __init__(self):
            self.got = []

        @hookimpl
        def show_value(self, value):
            self.got.append(value)

    clog = CombinedLogger({"s": Slow()})
    for i in range(1000):
        clog.show_value(i, "x")
    assert clog.wait_idle(HANG)
    assert clog["s"].got == list(range(1000))
    clog.close()


def test_a_block_queue_never_drops_and_the_caller_waits_for_room():
    release = threading.Event()
    started = threading.Event()

    class Writer:
        background = True
        queue_policy = "block"

        def __init__(self):
            self.got = []

        @hookimpl
        def show_value(self, value):
            started.set()
            release.wait(HANG)
            self.got.append(value)

    clog = CombinedLogger({"w": {"type": Writer, "queue_size": 3}})
    clog.show_value(0, "x")
    assert started.wait(HANG)
    done = threading.Event()

    def loop():
        for i in range(1, 50):
            clog.show_value(i, "x")
        done.set()

    thread = threading.Thread(target=loop)
    thread.start()
    release.set()
    assert done.wait(HANG)
    thread.join(10)
    summary = clog.close()
    assert clog["w"].got == list(range(50))
    assert summary["w"]["dropped"] == 0 and summary["w"]["undelivered"] == 0
    assert summary["w"]["blocked"] >= 1 and summary["w"]["blocked_s"] > 0


def test_queue_policy_can_be_set_in_the_declaration_and_is_checked():
    class Net:
        background = True

        @hookimpl
        def show_value(self, value):
            pass

    clog = CombinedLogger({"n": {"type": Net, "dispatch": {"queue_policy": "block", "queue_size": 2}}})
    assert clog._loggers[0].queue.policy == "block" and clog._loggers[0].queue.maxsize == 2
    clog.close()
    with pytest.raises(LoggerConfigError, match="queue_policy"):
        CombinedLogger({"n": {"type": Net, "queue_policy": "sometimes"}})


class TakesQueueSize:
    background = True

    def __init__(self, queue_size: int = 100, every: int = 1):
        self.queue_size = queue_size
        self.every = every

    @hookimpl
    def show_value(self, value):
        pass


def test_a_reserved_key_the_plugin_also_takes_is_refused_naming_both():
    with pytest.raises(LoggerConfigError, match="'queue_size' is both a dispatcher option") as info:
        CombinedLogger({"vis": {"type": TakesQueueSize, "queue_size": 7}})
    assert "TakesQueueSize" in str(info.value) and '"dispatch"' in str(info.value)
    with pytest.raises(LoggerConfigError, match="'every' is both"):
        CombinedLogger({"vis": {"type": TakesQueueSize, "every": 2}})


def test_namespaced_options_reach_their_owner():
    clog = CombinedLogger(
        {
            "own": {"type": TakesQueueSize, "options": {"queue_size": 7, "every": 3}},
            "disp": {"type": TakesQueueSize, "dispatch": {"queue_size": 9, "every": 2}},
            "both": {"type": TakesQueueSize, "options": {"queue_size": 5}, "dispatch": {"queue_size": 11}},
            "trixi": (TakesQueueSize, {"queue_size": 13}, 4),
        }
    )
    by_name = {lg.name: lg for lg in clog._loggers}
    assert clog["own"].queue_size == 7 and clog["own"].every == 3 and by_name["own"].every == 1
    assert by_name["own"].queue.maxsize == 1000
    assert (
        clog["disp"].queue_size == 100 and by_name["disp"].queue.maxsize == 9 and by_name["disp"].every == 2
    )
    assert clog["both"].queue_size == 5 and by_name["both"].queue.maxsize == 11
    assert clog["trixi"].queue_size == 13 and by_name["trixi"].every == 4
    clog.close()


def test_flat_reserved_keys_still_work_for_plugins_that_do_not_take_them():
    class Plain:
        background = True

        @hookimpl
        def show_value(self, value):
            pass

    clog = CombinedLogger({"p": {"type": Plain, "queue_size": 7, "every": 2}})
    assert clog._loggers[0].queue.maxsize == 7 and clog._loggers[0].every == 2
    clog.close()


@pytest.mark.parametrize(
    ("decl", "match"),
    [
        ({"type": TakesQueueSize, "dispatch": {"colour": 1}}, "'dispatch' must be a mapping"),
        ({"type": TakesQueueSize, "dispatch": 3}, "'dispatch' must be a mapping"),
        ({"type": TakesQueueSize, "options": [1]}, "'options' must be a mapping"),
        (
            {"type": TakesQueueSize, "background": True, "dispatch": {"background": True}},
            "both flat and under 'dispatch'",
        ),
        ({"type": TakesQueueSize, "colour": 3, "options": {"colour": 3}}, "both flat and under 'options'"),
    ],
)
def test_bad_namespaces_are_named(decl, match):
    with pytest.raises(LoggerConfigError, match=match):
        CombinedLogger({"x": decl})


def test_the_typed_surface_is_the_logger_spec():
    """Type checkers read CombinedLogger's hook methods from LoggerSpec (its base under TYPE_CHECKING), and
    the methods built at runtime carry exactly the spec's signatures: no restated stub that could drift."""
    import ast
    import inspect
    from pathlib import Path

    import trialog.loggers.dispatch as dispatch
    from trialog.hooks import specs as hookspecs

    tree = ast.parse(Path(dispatch.__file__).read_text(encoding="utf-8"))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CombinedLogger"]
    assert [ast.unparse(b) for b in cls.bases] == ["_TypedHooks"]
    typed = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    assert any("import LoggerSpec as _TypedHooks" in ast.unparse(n) for n in typed)
    for hook in hookspecs.LOGGER_HOOKS:
        if hook == "close":  # the dispatcher's own: a drain timeout, and the summary
            continue
        spec = inspect.signature(getattr(hookspecs.LoggerSpec, hook))
        method = inspect.signature(getattr(dispatch.CombinedLogger, hook))
        assert [(p.name, p.kind, p.default) for p in method.parameters.values()] == [
            (p.name, p.kind, p.default) for p in spec.parameters.values()
        ], hook
