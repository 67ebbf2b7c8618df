import collections
import copy
import io
import json
import os
import pickle
import shlex
import subprocess
import sys
import textwrap
import threading
import types
from pathlib import Path

import numpy as np
import pytest

from trialog import Config, GridSearch
from trialog.config.config import Unresolved
from trialog.errors import ConfigError, TrialogWarning

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


DATA = Path(__file__).parent / "data_config"
TRIXI_FILE = DATA / "trixi_config.json"


class Outer:
    class Inner:
        pass


class Point:
    def __init__(self, x=0, y=0):
        self.x, self.y = x, y


def sample():
    return Config(
        {"a": {"b": [1, {"x": 2}], "c": 0.5}, "name": "run", "flag": False, "size": (3, 4), "none": None}
    )


# --- attribute access, nested Configs ------------------------------------------------------------------


def test_attribute_access_reads_writes_and_deletes_keys():
    c = Config(lr=0.1)
    assert c.lr == 0.1 and c["lr"] == 0.1
    c.model = {"depth": 3}
    assert isinstance(c.model, Config) and c.model.depth == 3
    c.model.depth = 4
    assert c["model"]["depth"] == 4
    del c.lr
    assert "lr" not in c
    with pytest.raises(AttributeError, match="'lr'"):
        c.lr  # noqa: B018
    with pytest.raises(AttributeError):
        del c.lr
    assert not hasattr(c, "missing") and "model" in dir(c)


def test_nested_dicts_become_configs_and_methods_win_over_keys():
    c = Config(config={"outer": collections.OrderedDict(inner={"leaf": 1})})
    assert type(c.outer) is Config and type(c.outer.inner) is Config
    c["items"] = 5
    assert callable(c.items) and c["items"] == 5
    assert isinstance(c, dict) and dict(c)["items"] == 5


def test_get_setdefault_copy_and_hasattr_not_none():
    c = sample()
    assert c.get("a.b.1.x") == 2 and c.get("a.nope", "dflt") == "dflt"
    assert c.setdefault("extra", {"k": 1}).k == 1 and isinstance(c.extra, Config)
    assert c.setdefault("extra", 2).k == 1
    shallow = c.copy()
    assert type(shallow) is Config and shallow == c and shallow.a is c.a
    assert c.hasattr_not_none("a.c") and not c.hasattr_not_none("none") and not c.hasattr_not_none("zz")


def test_pickle_copy_and_deepcopy_keep_configs_and_markers():
    c = sample()
    c.cls = Unresolved("type", "pkg.Cls")
    for clone in (pickle.loads(pickle.dumps(c)), copy.deepcopy(c), copy.copy(c)):
        assert clone == c and type(clone) is Config and type(clone.a) is Config
    assert copy.deepcopy(c).a is not c.a


# --- dotted keys (trixi's) --------------------------------------------------------------------------


def test_dotted_get_walks_configs_lists_and_int_keys():
    c = sample()
    c["levels"] = {1: {"name": "fine"}}
    assert c["a.b.0"] == 1 and c["a.b.1.x"] == 2 and c["a.b.-1"] == {"x": 2}
    assert c["size.1"] == 4 and c["levels.1.name"] == "fine"
    for missing in ("a.zz", "a.b.5", "a.c.deeper", "name.0", "zz.y"):
        with pytest.raises(KeyError):
            c[missing]
        assert missing not in c
    assert "a.b.1.x" in c and "a.c" in c


def test_dotted_set_creates_intermediate_configs_and_assigns_list_items():
    c = Config()
    c["a.b.c"] = 1
    assert c == {"a": {"b": {"c": 1}}} and type(c.a.b) is Config
    c["l"] = [1, 2, {"x": 0}]
    c["l.0"] = {"new": True}
    c["l.2.x"] = 5
    c["levels"] = {1: {}}
    c["levels.1.name"] = "fine"
    assert c.l[0].new is True and c.l[2]["x"] == 5 and c.levels[1] == {"name": "fine"}
    with pytest.raises(KeyError):
        c["l.7"] = 1
    with pytest.raises(ConfigError, match=r"'a\.b\.c\.d'.*'a\.b\.c' holds a int"):
        c["a.b.c.d"] = 2


def test_dotted_delete():
    c = sample()
    del c["a.b.1.x"]
    del c["a.b.0"]
    assert c.a.b == [{}]
    with pytest.raises(KeyError):
        del c["a.nope"]


def test_dotted_keys_in_sources_are_expanded_like_trixi():
    c = Config(config={"opt.lr": 0.1}, **{"model": {"enc.depth": 2}})
    c.loads('{"data.path": "/x"}')
    assert c == {"opt": {"lr": 0.1}, "model": {"enc": {"depth": 2}}, "data": {"path": "/x"}}


# --- update, update_missing, contains, deepcopy ------------------------------------------------------


def test_update_merges_nested_configs_and_shares_values():
    shared = [1, 2]
    c = Config(a={"x": 1, "y": 2}, top=0)
    c.update({"a": {"y": 3, "z": shared}, "new": 1}, other=2)
    assert c == {"a": {"x": 1, "y": 3, "z": [1, 2]}, "top": 0, "new": 1, "other": 2}
    assert c.a.z is shared
    c.update([("pairs", 1)])
    assert c.pairs == 1


def test_update_deep_copies_and_ignore_applies_to_merged_levels():
    source = {"a": {"keep": [1], "skip": 1}, "skip": 2, "new": {"skip": 3}}
    c = Config(a={})
    c.update(source, deep=True, ignore=["skip"])
    assert c == {"a": {"keep": [1]}, "new": {"skip": 3}}  # trixi: ignored inside merged Configs only
    assert c.a.keep is not source["a"]["keep"]
    d = Config()
    d.deepupdate(source)
    assert d.a.keep == [1] and d.a.keep is not source["a"]["keep"]


def test_allow_dict_overwrite():
    base = {"lvl0": {"lvl1": "string", "something": "else"}}
    new = {"lvl0": {"lvl1": {"lvl2": "string"}}}
    c = Config(config=base, deep=True)
    c.update(new)
    assert c == {"lvl0": {"lvl1": {"lvl2": "string"}, "something": "else"}}
    c = Config(config=base, deep=True)
    with pytest.raises(ConfigError, match=r"'lvl0\.lvl1'.*allow_dict_overwrite=True"):
        c.update(new, allow_dict_overwrite=False)
    with pytest.raises(ConfigError, match=r"'lvl0\.lvl1'"):
        c.deepupdate(new, allow_dict_overwrite=False)


def test_update_missing_fills_gaps_only():
    defaults = {"lr": 1.0, "model": {"depth": 3, "width": 8}, "tags": ["a"]}
    c = Config(lr=0.1, model={"depth": 5})
    c.update_missing(defaults)
    assert c == {"lr": 0.1, "model": {"depth": 5, "width": 8}, "tags": ["a"]}
    assert c.tags is defaults["tags"]
    d = Config(model={"depth": 5})
    d.update_missing(defaults, deep=True, ignore=["width"])
    assert d == {"model": {"depth": 5}, "lr": 1.0, "tags": ["a"]} and d.tags is not defaults["tags"]


def test_contains():
    c = sample()
    assert c.contains({"name": "run", "a": {"c": 0.5}})
    assert c.contains({})
    assert not c.contains({"a": {"c": 0.6}})
    assert not c.contains({"missing": 1})
    assert not c.contains({"name": {"sub": 1}})


def test_deepcopy_is_independent_but_shares_uncopyable_values():
    lock = threading.Lock()
    c = Config(a={"b": [1, {"x": 2}]}, lock=lock)
    d = c.deepcopy()
    d.a.b[1].x = 99
    d.a.b.append(3)
    assert c.a.b == [1, {"x": 2}] and type(d) is Config and type(d.a) is Config
    assert d.lock is lock


# --- flat (trixi's semantics) -----------------------------------------------------------------------


def test_flat_matches_trixi():
    c = Config(a=1, b=[2, 3], c={"x": 4, "y": {"z": 5}}, d=(6, 7))
    assert c.flat() == {"a": 1, "b": [2, 3], "c.x": 4, "c.y.z": 5, "d": (6, 7)}
    split = {"a": 1, "b.0": 2, "b.1": 3, "c.x": 4, "c.y.z": 5, "d.0": 6, "d.1": 7}
    assert c.flat(keep_lists=False) == split
    assert c.flat(keep_lists=False, max_split_size=0) == split
    assert c.flat(keep_lists=False, max_split_size=None) == split
    assert c.flat(keep_lists=False, max_split_size=1) == c.flat()
    assert Config(l=[{"a": 1}]).flat(keep_lists=False) == {"l.0": {"a": 1}}  # one level only


def test_flat_non_string_keys_and_flatten_int():
    c = Config(m={1: "one", "s": 2})
    c[3] = {"q": 1}
    c[5] = [1, 2]
    c["model"] = {Point: {"x": 1}}
    assert c.flat(keep_lists=False) == {
        "m.s": 2,
        "m": {1: "one"},
        3: {"q": 1},
        5: [1, 2],
        "model": {Point: {"x": 1}},
    }
    assert c.flat(keep_lists=False, flatten_int=True) == {
        "m.1": "one",
        "m.s": 2,
        "3.q": 1,
        "5.0": 1,
        "5.1": 2,
        "model": {Point: {"x": 1}},
    }


# --- difference_config ------------------------------------------------------------------------------


def test_difference_config():
    c1 = Config(lr=0.1, model={"depth": 3, "width": 8}, same=1, only1=None)
    c2 = Config(lr=0.01, model={"depth": 3, "width": 16}, same=1, only2="x")
    c3 = Config(lr=0.1, model={"depth": 3, "width": 8}, same=1)
    diff = c1.difference_config(c2, c3)
    assert diff == {
        "lr": (0.1, 0.01, 0.1),
        "model": {"width": (8, 16, 8)},
        "only1": (None, None, None),  # a missing key differs from a present None, as in trixi
        "only2": (None, "x", None),
    }
    assert list(diff) == ["lr", "model", "only1", "only2"]
    assert Config.difference_config_static(c1, c2, c3, only_set=True)["lr"] == (0.1, 0.01)
    assert Config.difference_config_static(c1, c1.deepcopy()) == {}


def test_difference_config_compares_dumped_forms_and_unhashable_values():
    a = Config(cls=collections.OrderedDict, l=[1, 2])
    b = Config(cls=Unresolved("type", "collections.OrderedDict"), l=[1, 3])
    assert Config.difference_config_static(a, b, a, only_set=True) == {"l": ([1, 2], [1, 3])}
    assert Config.difference_config_static({"k": {"x": 1}}, {"k": 2}) == {"k": ({"x": 1}, 2)}


# --- JSON with trixi's tags -------------------------------------------------------------------------


def test_dump_writes_trixi_tags():
    c = Config(
        cls=collections.OrderedDict,
        nested_cls=Outer.Inner,
        fn=textwrap.dedent,
        builtin=len,
        module=json,
        size=(1, "a", (2, 3)),
        tags={"b", "a"},
        empty=set(),
        np_int=np.int64(3),
        np_float=np.float32(0.5),
        arr=np.arange(3),
        path=Path("/data/x"),
        marker=Unresolved("type", "pkg.Model"),
    )
    c[1] = "int key"
    c[0.5] = "float key"
    c[(1, 2)] = "tuple key"
    c[None] = "none key"
    plain = c.to_plain()
    assert plain == {
        "cls": "__type__(collections.OrderedDict)",
        "nested_cls": f"__type__({__name__}.Outer.Inner)",
        "fn": "__function__(textwrap.dedent)",
        "builtin": "__function__(builtins.len)",
        "module": "__module__(json)",
        "size": "__tuple__((1, 'a', (2, 3)))",
        "tags": "__set__({'a', 'b'})",
        "empty": "__set__(set())",
        "np_int": 3,
        "np_float": 0.5,
        "arr": [0, 1, 2],
        "path": "/data/x",
        "marker": "__type__(pkg.Model)",
        "__int__(1)": "int key",
        "__float__(0.5)": "float key",
        "__tuple__((1, 2))": "tuple key",
        "null": "none key",
    }
    assert type(plain["np_int"]) is int
    assert json.loads(c.dumps()) == plain
    assert json.loads(str(c)) == plain and list(json.loads(str(c))) == sorted(plain)
    assert repr(Config(a=1)) == "Config({'a': 1})"


def test_torch_dtypes_are_written_as_trixi_does_without_importing_torch(monkeypatch):
    class FakeDtype:
        def __str__(self):
            return "torch.float16"

    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(dtype=FakeDtype))
    assert Config(dtype=FakeDtype()).to_plain() == {"dtype": "__type__(torch.float16)"}


def test_objects_that_are_not_json_able_are_written_as_repr_with_a_warning():
    c = Config(opt={"lock": threading.Lock()})
    with pytest.warns(TrialogWarning, match=r"'opt\.lock'.*lock"):
        plain = c.to_plain()
    assert plain["opt"]["lock"].startswith("<unlocked _thread.lock")


def test_literal_tags_round_trip_and_dicts_in_lists_become_configs():
    c = Config(size=(1, (2, "x")), tags={1, 2}, levels={0: "a", 2.5: "b"}, items=[{"a": [{"b": 1}]}])
    c["pair"] = (Unresolved("function", "m.f"), 1)
    back = Config()
    back.loads(c.dumps())
    assert back == c
    assert type(back["items"][0]) is Config and type(back["items"][0].a[0]) is Config


def test_strings_that_only_look_like_tags_stay_strings():
    text = '{"a": "__tuple__(not python)", "b": "__int__(x)", "c": "__tuple__(5)", "d": "__set__({{}})",'
    text += ' "__set__({1})": "unhashable key", "__tuple__(([1],))": "unhashable key"}'
    c = Config()
    c.loads(text)
    assert c == json.loads(text)
    assert json.loads(c.dumps()) == json.loads(text)


def test_trixi_file_loads_without_importing_and_dumps_back_identically(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("loading a config ran code")

    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(subprocess.Popen, "__init__", forbidden)
    before = set(sys.modules)
    c = Config(TRIXI_FILE)
    text = c.dumps()
    assert set(sys.modules) == before
    assert text == TRIXI_FILE.read_text()
    assert c.launcher == Unresolved("type", "subprocess.Popen") and str(c.hook) == "__function__(os.system)"
    assert c.backend == Unresolved("module", "shutil")
    assert c.optimizer[Unresolved("type", "subprocess.Popen")].args == ["echo", "pwned"]
    assert c.patch_size == (128, 128, 128) and c.per_level == {0: "coarse", 1: "fine"}
    assert c["augment.1.name"] == Unresolved("function", "os.system")


def test_loading_imports_nothing_in_a_fresh_interpreter(tmp_path):
    script = f"""
import sys
import trialog.config.config
before = set(sys.modules)
c = trialog.config.config.Config({str(TRIXI_FILE)!r})
c.deepcopy(); c.flat(); c.difference_config(c); str(c)
text = c.dumps()
c.dump({str(tmp_path / "out.json")!r})
assert text == open({str(TRIXI_FILE)!r}).read()
new = set(sys.modules) - before
assert not new, new
assert "subprocess" not in sys.modules and "shutil" not in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert (tmp_path / "out.json").read_text() == TRIXI_FILE.read_text()


CANARY = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")


class Boom:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


def boom():
    return "called"
"""


@pytest.fixture
def canary(tmp_path, monkeypatch):
    """A module that leaves a marker file when imported: proof of whether a tag was resolved."""
    marker = tmp_path / "imported.txt"
    (tmp_path / "trialog_canary.py").write_text(CANARY.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("trialog_canary", None)


def test_tags_are_imported_only_by_resolve_and_init_objects(canary, tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(
        json.dumps(
            {
                "cls": "__type__(trialog_canary.Boom)",
                "fn": "__function__(trialog_canary.boom)",
                "mod": "__module__(trialog_canary)",
                "model": {"__type__(trialog_canary.Boom)": {"depth": 3}},
                "layers": [
                    {"__type__(trialog_canary.Boom)": [1, 2]},
                    {"__type__(trialog_canary.Boom)": None},
                ],
            }
        )
    )
    c = Config(path)
    c.dump(tmp_path / "again.json")
    assert Config(tmp_path / "again.json") == c
    assert not canary.exists() and "trialog_canary" not in sys.modules

    resolved = c.resolve()
    assert canary.exists()
    canary_module = sys.modules["trialog_canary"]
    assert resolved.cls is canary_module.Boom and resolved.fn() == "called" and resolved.mod is canary_module
    assert resolved.model == {canary_module.Boom: {"depth": 3}}
    assert isinstance(c.cls, Unresolved)  # resolve returns a copy

    built = c.init_objects()
    assert isinstance(built.model, canary_module.Boom) and built.model.kwargs == {"depth": 3}
    assert built.layers[0].args == (1, 2) and built.layers[1].args == ()
    trixi_style = Config.init_objects(Config(model={canary_module.Boom: {"depth": 1}}))
    assert trixi_style.model.kwargs == {"depth": 1}
    plain_dict = Config.init_objects({"p": {Point: {"x": 1}}, "q": [{Point: (2, 3)}], "n": 1})
    assert (plain_dict.p.x, plain_dict.q[0].y, plain_dict.n) == (1, 3, 1)


def test_resolve_errors_name_the_key_and_the_tag():
    c = Config(
        model={"cls": Unresolved("type", "no_such_pkg_xyz.Model")}, fn=Unresolved("function", "json.nope")
    )
    with pytest.raises(ConfigError, match=r"'model\.cls'.*__type__\(no_such_pkg_xyz\.Model\)"):
        c.resolve()
    del c.model
    with pytest.raises(ConfigError, match=r"'fn'.*__function__\(json\.nope\)"):
        c.resolve()


def test_resolve_nested_and_torch_style_targets():
    assert Unresolved("type", f"{__name__}.Outer.Inner").resolve() is Outer.Inner
    assert Unresolved("type", "collections.abc.Mapping").resolve() is collections.abc.Mapping
    assert Unresolved("function", "builtins.len").resolve() is len


# --- files: JSON, YAML, errors ----------------------------------------------------------------------


def test_dump_and_load_paths_and_open_files(tmp_path):
    c = sample()
    path = tmp_path / "config.json"
    c.dump(path)
    assert Config(path) == c and Config(str(path)) == c
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary file left
    buffer = io.StringIO()
    c.dump(buffer, indent=None)
    assert "\n" not in buffer.getvalue()
    buffer.seek(0)
    loaded = Config(file_=buffer)
    assert loaded == c
    merged = Config(name="old", keep=1)
    merged.load(path)
    assert merged.name == "run" and merged.keep == 1


def test_yaml_files_by_extension(tmp_path):
    c = sample()
    c.cls = Unresolved("type", "subprocess.Popen")
    for name in ("c.yml", "c.YAML"):
        c.dump(tmp_path / name)
        text = (tmp_path / name).read_text()
        assert "cls: __type__(subprocess.Popen)" in text and not text.lstrip().startswith("{")
        assert Config(tmp_path / name) == c
    (tmp_path / "empty.yaml").write_text("")
    assert Config(tmp_path / "empty.yaml") == {}


def test_yaml_without_pyyaml_is_a_named_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ConfigError, match=r"c\.yml.*pip install 'trialog\[yaml\]'"):
        Config().dump(tmp_path / "c.yml")


def test_missing_file_is_a_config_error_naming_the_path(tmp_path):
    with pytest.raises(ConfigError, match=r"not found: .*nope\.json"):
        Config(tmp_path / "nope.json")
    with pytest.raises(ConfigError, match="cannot read config file"):
        Config(tmp_path)
    with pytest.raises(ConfigError, match="cannot write config file"):
        Config(a=1).dump(tmp_path / "missing_dir" / "c.json")


def test_malformed_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n    "a": 1,\n    "b": oops\n}')
    with pytest.raises(ConfigError, match=r"bad\.json: malformed JSON at line 3, column 10"):
        Config(path)
    with pytest.raises(ConfigError, match=r"<string>: malformed JSON at line 1"):
        Config().loads('{"a": }')


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: malformed YAML at line \d+, column \d+"):
        Config(path)


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match=r"list\.json: a config must be a mapping at top level, found list"):
        Config(path)


def test_loads_accepts_trixi_brace_less_text():
    c = Config(a={"x": 1})
    c.loads('"a": {"y": 2}, "b": "__tuple__((1, 2))"')
    assert c == {"a": {"x": 1, "y": 2}, "b": (1, 2)}


# --- set_from_string ----------------------------------------------------------------------------------


def test_set_from_string_parses_json_or_keeps_a_string():
    c = Config(a={"b": 0})
    c.set_from_string("a.b=1")
    c.set_from_string("a.c=hello")
    c.set_from_string("a.d=[1, 2]")
    c.set_from_string("url=http://host/?q=1")
    c.set_from_string("cls=__type__(subprocess.Popen)")
    c.set_from_string("num=7", stringify_value=True)
    c.set_from_string('obj={"k": {"v": null}}')
    assert c.a == {"b": 1, "c": "hello", "d": [1, 2]}
    assert c.url == "http://host/?q=1" and c.num == "7" and c.cls == Unresolved("type", "subprocess.Popen")
    assert type(c.obj) is Config and c["obj.k.v"] is None
    c.set_with_decode("a.b", "2.5")
    assert c.a.b == 2.5
    for bad in ("no equals sign", "=1"):
        with pytest.raises(ConfigError, match="key=value"):
            c.set_from_string(bad)
    with pytest.raises(TypeError):
        c.set_with_decode("a", 1)


# --- command-line overrides ---------------------------------------------------------------------------


def test_argv_overrides_both_spellings_guided_by_current_types():
    c = Config(
        lr=0.1, epochs=10, name="run", debug=False, sizes=[1, 2], shape=(1, 1), opt={"beta": 0.9}, note=None
    )
    argv = ["--lr", "1", "--epochs=3", "--name", "123", "--debug", "--sizes", "4", "5", "6"]
    c.update_from_argv([*argv, "--shape", "[2, 3]", "--opt.beta=0.5", "--note", '{"k": 1}'])
    assert c == {
        "lr": 1.0,
        "epochs": 3,
        "name": "123",
        "debug": True,
        "sizes": [4, 5, 6],
        "shape": (2, 3),
        "opt": {"beta": 0.5},
        "note": {"k": 1},
    }
    assert type(c.lr) is float and type(c.note) is Config
    c.update_from_argv(["--debug", "no", "--sizes", "7", "--note", "None", "--opt", '{"gamma": 1}'])
    assert c.debug is False and c.sizes == [7] and c.note is None and c.opt == {"gamma": 1}


def test_argv_unknown_key_is_an_error_with_close_matches():
    c = Config(lr=0.1, model={"depth": 3})
    with pytest.raises(
        ConfigError, match=r"unknown config key 'model\.dpeth' \(from --model\.dpeth\).*'model\.depth'"
    ):
        c.update_from_argv(["--lr", "0.5", "--model.dpeth", "4"])
    assert c.lr == 0.1  # nothing applied
    with pytest.raises(ConfigError, match=r"unknown config key 'zzz'.*known keys: lr, model"):
        c.update_from_argv(["--zzz", "1"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stray"], r"unexpected command-line argument 'stray'"),
        (["--epochs", "many"], r"--epochs expects int, got 'many'"),
        (["--epochs", "2.5"], r"--epochs expects int"),
        (["--lr", "true"], r"--lr expects float"),
        (["--debug", "maybe"], r"--debug expects true or false"),
        (["--epochs"], r"--epochs needs a value"),
        (["--epochs", "1", "2"], r"--epochs takes one value"),
    ],
)
def test_argv_bad_values_are_named_errors(argv, message):
    c = Config(lr=0.1, epochs=10, debug=False)
    with pytest.raises(ConfigError, match=message):
        c.update_from_argv(argv)


def test_argv_is_read_only_when_asked(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["prog", "--lr", "0.5"])
    assert Config(lr=0.1).lr == 0.1
    assert Config(lr=0.1, update_from_argv=True).lr == 0.5
    c = Config(lr=0.1)
    c.update_from_argv()
    assert c.lr == 0.5


def test_argv_keeps_unresolved_kinds():
    c = Config(cls=Unresolved("type", "a.B"))
    c.update_from_argv(["--cls", "pkg.Other"])
    assert c.cls == Unresolved("type", "pkg.Other")
    c.update_from_argv(["--cls", "__function__(pkg.f)"])
    assert c.cls == Unresolved("function", "pkg.f")


def test_to_cmd_args_str_round_trips_through_update_from_argv():
    c = sample()
    c.update(tricky=["--x", "null", '"q"', "", "a b"], cls=Unresolved("type", "m.C"), tags={1, 2}, empty=[])
    args = c.to_cmd_args_str()
    assert args.startswith("--a.b 1 '{\"x\":2}' --a.c 0.5 --name run --flag false --size 3 4")
    other = c.deepcopy()
    other.update(
        {"a": {"b": [0, {"x": 0}], "c": 9.0}, "name": "x", "flag": True, "size": (0,), "none": 1},
        tricky=["y"],
        cls=Unresolved("type", "z.Z"),
        tags=set(),
        empty=[5],
    )
    other.update_from_argv(shlex.split(args))
    assert other == c


# --- GridSearch ---------------------------------------------------------------------------------------


def test_grid_search_order_length_and_indexing():
    grid = GridSearch({"lr": [0.1, 0.01], "bs": [8, 16], "opt.name": ["sgd"]})
    configs = list(grid)
    assert len(grid) == 4 == len(configs)
    assert [(c.bs, c.lr) for c in configs] == [(8, 0.1), (8, 0.01), (16, 0.1), (16, 0.01)]
    assert all(type(c) is Config and c.opt.name == "sgd" for c in configs)
    assert [grid[i] for i in range(4)] == configs and grid[-1] == configs[-1]
    assert list(grid) == configs  # iterating again gives the same sequence
    with pytest.raises(IndexError, match="4 combinations"):
        grid[4]
    assert "4 combinations" in repr(grid)


def test_grid_search_with_base_gives_independent_full_configs():
    base = Config(lr=0.1, model={"depth": 3, "layers": [1]}, epochs=5)
    grid = GridSearch({"model.depth": [2, 4], "lr": [1e-3]}, base=base)
    first, second = grid
    assert first == {"lr": 1e-3, "model": {"depth": 2, "layers": [1]}, "epochs": 5}
    assert second["model.depth"] == 4
    first.model.layers.append(9)
    assert second.model.layers == [1] and base.model.layers == [1] and base.model.depth == 3
    with pytest.raises(ConfigError, match=r"unknown config key 'model\.dept'.*'model\.depth'"):
        GridSearch({"model.dept": [1]}, base=base)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"lr": "0.1"}, r"'lr': give a list of values"),
        ({"lr": 0.1}, r"'lr': give a list of values"),
        ({"lr": []}, r"'lr' has no values"),
        ({1: [1]}, r"keys must be strings"),
    ],
)
def test_grid_search_bad_inputs(grid, message):
    with pytest.raises(ConfigError, match=message):
        GridSearch(grid)


class _Allowed:
    pass


def _allowed_fn():
    return 1


def test_builtin_and_allowed_classes_round_trip_and_others_stay_tags(tmp_path):
    from trialog.config.config import allow_config_types

    c = Config(
        cls=str, err=ValueError, mine=_Allowed, fn=_allowed_fn, popen=Unresolved("type", "subprocess.Popen")
    )
    c.dump(tmp_path / "c.json")
    loaded = Config(tmp_path / "c.json")
    assert loaded.cls is str and loaded.err is ValueError  # built-in classes: nothing to import
    assert loaded.mine == Unresolved("type", f"{__name__}._Allowed")  # not allowed yet: never imported
    assert loaded.fn == Unresolved("function", f"{__name__}._allowed_fn")
    allow_config_types(_Allowed, _allowed_fn)
    loaded = Config(tmp_path / "c.json")
    assert loaded.mine is _Allowed and loaded.fn is _allowed_fn
    assert loaded.popen == Unresolved("type", "subprocess.Popen")
    evil = Config()
    evil.loads('{"f": "__function__(builtins.eval)"}')
    assert evil.f == Unresolved("function", "builtins.eval")  # built-in functions are not restored
    assert json.loads(loaded.dumps()) == json.loads((tmp_path / "c.json").read_text())
    with pytest.raises(ConfigError, match="allow_config_types takes classes and functions"):
        allow_config_types("subprocess.Popen")
