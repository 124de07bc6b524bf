"""Data: the Dataset (a table plus column roles), bundled data sets, and readers for files and databases."""

from ._bundled import DataCard, data_card, list_datasets, load_dataset
from ._dataset import ROLE_NAMES, Dataset, as_dataset

__all__ = ["ROLE_NAMES", "DataCard", "Dataset", "as_dataset", "data_card", "list_datasets", "load_dataset"]
