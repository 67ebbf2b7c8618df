"""The ``python`` entry of ``trialog.plugins``: seeds and snapshots python's and numpy's global RNGs.

Registered through the core's own entry points exactly like trialog-torch's ``torch`` plugin, so the
core seeds and restores generators only through the ``seed_rngs`` / ``get_rng_state`` /
``set_rng_state`` hooks, whatever framework a plugin brings.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from trialog.hooks.markers import hookimpl

#: Keys this plugin contributes to the merged RNG state.
PYTHON_KEY = "python"
NUMPY_KEY = "numpy"


@hookimpl
def seed_rngs(seed: int) -> None:
    """Seed ``random`` and numpy's global generator (numpy takes the seed modulo 2**32)."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)


@hookimpl
def get_rng_state() -> Mapping[str, Any] | None:
    """Python's Mersenne Twister and numpy's legacy global generator, as plain numbers and arrays."""
    import numpy as np

    version, internal, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)
    return {
        PYTHON_KEY: {
            "version": int(version),
            "internal": np.asarray(internal, dtype=np.int64),
            "gauss_next": gauss,
        },
        NUMPY_KEY: {
            "bit_generator": np_state["bit_generator"],
            "key": np.asarray(np_state["state"]["key"]).copy(),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
    }


@hookimpl
def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`get_rng_state` produced; keys of other plugins are ignored."""
    import numpy as np

    py = state.get(PYTHON_KEY)
    if py is not None:
        internal = tuple(int(x) for x in np.asarray(py["internal"]).tolist())
        gauss = py.get("gauss_next")
        random.setstate((int(py["version"]), internal, None if gauss is None else float(gauss)))
    npy = state.get(NUMPY_KEY)
    if npy is not None:
        np.random.set_state(
            {
                "bit_generator": str(npy["bit_generator"]),
                "state": {"key": np.asarray(npy["key"], dtype=np.uint32), "pos": int(npy["pos"])},
                "has_gauss": int(npy["has_gauss"]),
                "gauss": float(npy["gauss"]),
            }
        )
