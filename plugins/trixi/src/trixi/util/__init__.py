"""``trixi.util``: Config, GridSearch and the helpers of ``trixi.util.util``."""

from .config import Config
from .gridsearch import GridSearch
from .util import (
    LogDict,
    ResultElement,
    ResultLogDict,
    SafeDict,
    chw_to_hwc,
    figure_to_image,
    get_tensor_embedding,
    name_and_iter_to_filename,
    np_make_grid,
)

__all__ = [
    "Config",
    "GridSearch",
    "LogDict",
    "ResultElement",
    "ResultLogDict",
    "SafeDict",
    "chw_to_hwc",
    "figure_to_image",
    "get_tensor_embedding",
    "name_and_iter_to_filename",
    "np_make_grid",
]
