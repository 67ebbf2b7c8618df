"""The run filter language (trialog_runs.query) shared by `trialog runs ls --where` and the browser."""

from __future__ import annotations

import pytest
from trialog_runs.query import QueryError, compile_query, run_fields

RUN = run_fields(
    {"name": "resnet", "status": "finished", "tags": ["baseline", "v2"], "starred": True, "seed": 3},
    {"lr": 0.001, "model.depth": 18, "opt": "adam"},
    {"loss": {"last": 0.3, "min": 0.1, "max": 2.0}},
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", True),
        ("lr<0.01 and status=finished and tag:baseline", True),
        ("lr<0.0001", False),
        ("lr>=0.001", True),
        ("config.lr == 0.001", True),
        ("model.depth>18 or opt=adam", True),
        ("not starred", False),
        ("starred", True),
        ("removed", False),
        ("tag:missing", False),
        ("name~RES", True),
        ("loss<0.5", True),  # a bare result name is its last value
        ("loss.min<0.05", False),
        ("seed!=3", False),
        ("(lr<0.01 or seed=1) and not tag:v3", True),
        ("missing_key=1", False),
        ("missing_key!=1", False),
        ("opt='adam'", True),
        ('name="resnet" tag:v2', True),  # juxtaposition is "and"
    ],
)
def test_matches(text, expected):
    assert compile_query(text).matches(RUN) is expected


@pytest.mark.parametrize("text", ["lr<", "(lr<1", "lr", "and", "lr<1 )", "tag:", "lr<<1", "x" * 3000])
def test_malformed_is_a_clear_error(text):
    with pytest.raises(QueryError, match="filter"):
        compile_query(text)


def test_browsing_names_come_from_trialog_runs_not_the_core_api():
    import trialog.api as api
    from trialog.results import series
    from trialog.run import folder as run

    assert api.read_columns is series.read_columns and api.read_appended is series.read_appended
    assert api.find_runs is run.find_runs and api.update_run_meta is run.update_run_meta
    moved = {
        "compile_query",
        "QueryError",
        "run_fields",
        "search_text",
        "config_difference",
        "registry",
    }
    assert not moved & set(dir(api))
    assert {"run_status", "parse_time", "registry_of", "change_note"} <= set(dir(api))
