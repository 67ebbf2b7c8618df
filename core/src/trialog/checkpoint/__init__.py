"""Checkpoints.

- ``manager``: atomic checkpoints with a manifest, retention and an asynchronous mode; formats are plugins
- ``npz``: the built-in ``npz`` format (no pickle)
- ``writeback``: early-writeback files (disk writes overlap serialisation; hashed while written)
- ``checksum``: payload checksums, checked before anything is deserialised
- ``snapshot``: copies of large arrays split over the cores
"""
