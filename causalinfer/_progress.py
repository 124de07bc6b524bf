"""Progress bars for long work: on in terminals and notebooks, off otherwise or with ``progress=False``."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from typing import Any


def wanted(progress: bool | None) -> bool:
    """``progress`` as given, or (None) whether output goes to a terminal or a notebook."""
    if progress is not None:
        return bool(progress)
    return bool(getattr(sys.stderr, "isatty", lambda: False)()) or "ipykernel" in sys.modules


def progress_bar(*, total: int | None = None, desc: str = "", unit: str = "it", progress: bool | None = None) -> Any:
    """A tqdm bar, or None when progress is off. Uses notebook widgets only where ipywidgets is installed."""
    if not wanted(progress):
        return None
    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(total=total, desc=desc, unit=unit, leave=False)


def quiet_import(module: str) -> Any:
    """Import ``module`` while silencing tqdm's notice about missing notebook widgets (dowhy imports tqdm.auto)."""
    import importlib

    with warnings.catch_warnings():
        try:
            from tqdm import TqdmWarning

            warnings.simplefilter("ignore", TqdmWarning)
        except ImportError:  # pragma: no cover
            pass
        return importlib.import_module(module)
