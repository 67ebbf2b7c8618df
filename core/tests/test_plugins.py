import sys

import pytest
from fake_plugins import MEMORY_LOGGER, fake_dists

from trialog.errors import PluginConflictError, PluginDisabledError, PluginLoadError, UnknownPluginError
from trialog.hooks import plugins


def test_lookup_is_lazy_and_returns_the_class(fake_dists):
    fake_dists.add(
        "trialog-mem",
        entry_points={"trialog.loggers": {"mem": "tl_mem:MemoryLogger"}},
        modules={"tl_mem": MEMORY_LOGGER},
    )
    assert "mem" in plugins.names("trialog.loggers")
    assert "tl_mem" not in sys.modules  # discovery reads metadata only
    cls = plugins.load("trialog.loggers", "mem")
    assert cls.__name__ == "MemoryLogger" and "tl_mem" in sys.modules
    assert plugins.load("trialog.loggers", "mem") is cls


def test_unknown_name_lists_installed_names_and_hints_pip(fake_dists):
    fake_dists.add("trialog-mem", entry_points={"trialog.loggers": {"mem": "tl_mem:MemoryLogger"}})
    with pytest.raises(UnknownPluginError) as err:
        plugins.load("trialog.loggers", "nosuch")
    msg = str(err.value)
    assert "'nosuch'" in msg and "mem" in msg and "pip install trialog-nosuch" in msg


def test_same_entry_point_seen_twice_counts_once(fake_dists):
    eps = {"trialog.loggers": {"mem": "tl_mem:MemoryLogger"}}
    fake_dists.add("trialog-mem", entry_points=eps, modules={"tl_mem": MEMORY_LOGGER}, path="editable")
    fake_dists.add("trialog-mem", entry_points=eps, path="regular")
    assert [i.distribution for i in plugins.installed("trialog.loggers") if i.name == "mem"] == [
        "trialog-mem"
    ]
    assert plugins.load("trialog.loggers", "mem").__name__ == "MemoryLogger"


def test_two_distributions_claiming_one_name_is_an_error_naming_both(fake_dists):
    fake_dists.add("trialog-aaa", "1.2", entry_points={"trialog.loggers": {"dup": "aaa:Logger"}})
    fake_dists.add("trialog-bbb", "3.4", entry_points={"trialog.loggers": {"dup": "bbb:Logger"}})
    with pytest.raises(PluginConflictError) as err:
        plugins.load("trialog.loggers", "dup")
    assert "trialog-aaa 1.2" in str(err.value) and "trialog-bbb 3.4" in str(err.value)


def test_broken_plugin_names_distribution_version_and_cause(fake_dists):
    fake_dists.add(
        "trialog-broken",
        "0.7",
        entry_points={"trialog.loggers": {"broken": "tl_broken:Logger"}},
        modules={"tl_broken": "raise RuntimeError('missing CUDA toolkit')\n"},
    )
    with pytest.raises(PluginLoadError) as err:
        plugins.load("trialog.loggers", "broken")
    msg = str(err.value)
    assert "trialog-broken 0.7" in msg and "RuntimeError: missing CUDA toolkit" in msg


def test_disable_env_blocks_by_name_or_distribution(fake_dists, monkeypatch):
    fake_dists.add(
        "trialog-mem",
        entry_points={"trialog.loggers": {"mem": "tl_mem:MemoryLogger"}},
        modules={"tl_mem": MEMORY_LOGGER},
    )
    for value in ("mem", "other, trialog_mem"):
        monkeypatch.setenv(plugins.DISABLE_ENV, value)
        with pytest.raises(PluginDisabledError, match="TRIALOG_DISABLE_PLUGINS"):
            plugins.load("trialog.loggers", "mem")


def test_plugin_manager_registers_enabled_plugin_modules(fake_dists, monkeypatch):
    module = """
from trialog import hookimpl
seeded = []

@hookimpl
def seed_rngs(seed):
    seeded.append(seed)
"""
    fake_dists.add(
        "trialog-seeder",
        entry_points={"trialog.plugins": {"seeder": "tl_seeder"}},
        modules={"tl_seeder": module},
    )
    pm = plugins.get_plugin_manager()
    pm.hook.seed_rngs(seed=3)
    assert sys.modules["tl_seeder"].seeded == [3]
    monkeypatch.setenv(plugins.DISABLE_ENV, "seeder")
    plugins.refresh()
    assert plugins.get_plugin_manager().get_plugin("seeder") is None
    assert plugins.get_plugin_manager().is_blocked("seeder")  # blocked through the manager


def test_unknown_group_is_named():
    with pytest.raises(UnknownPluginError, match=r"trialog\.loggers"):
        plugins.names("trialog.nonsense")


def test_a_name_moved_out_of_the_core_says_what_to_install(monkeypatch):
    import trialog

    def not_installed(group, name):
        raise UnknownPluginError(f"no plugin {name!r} in {group}")

    monkeypatch.setattr(plugins, "load", not_installed)
    for name in ("Monitor", "MonitorHook", "param"):
        monkeypatch.delitem(vars(trialog), name, raising=False)  # a value an earlier test cached
        with pytest.raises(
            AttributeError, match=f"trialog.{name} comes with trialog-xmen.*pip install trialog-xmen"
        ):
            getattr(trialog, name)
