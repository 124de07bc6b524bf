"""Data: the Dataset (a table plus column roles), bundled data sets, readers for files and databases, and sources
(Parquet files, SQL tables) analysed inside an engine."""

from ._bundled import DataCard, data_card, list_datasets, load_dataset
from ._dataset import ROLE_NAMES, Dataset, as_dataset
from ._engine import ParquetSource, SQLTable

__all__ = [
    "ROLE_NAMES",
    "DataCard",
    "Dataset",
    "ParquetSource",
    "SQLTable",
    "as_dataset",
    "data_card",
    "list_datasets",
    "load_dataset",
]
