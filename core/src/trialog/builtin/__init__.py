"""The core's default plugins, registered in ``core/pyproject.toml`` exactly like a third party's.

- ``console``: a run says where it writes, how each epoch went and how it ended
- ``rng``: seeds and snapshots python's and numpy's RNGs
"""
