"""Data: the dataset catalogue, the shared split and the shared preprocessing."""

from src.data.catalogue import BINARY, MULTICLASS, REGRESSION, Dataset, load_dataset
from src.data.preprocessing import PreparedData, prepare
from src.data.splits import Split, make_split, split_digest

__all__ = [
    "BINARY",
    "MULTICLASS",
    "REGRESSION",
    "Dataset",
    "PreparedData",
    "Split",
    "load_dataset",
    "make_split",
    "prepare",
    "split_digest",
]
