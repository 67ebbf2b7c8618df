"""The version of trialog; every distribution in this repository moves with it (see ``nox -s bump``)."""

__version__ = "0.1.0"
