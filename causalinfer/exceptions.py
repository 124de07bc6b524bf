"""Exceptions and warnings raised by causalinfer.

Every error the package raises on purpose is a :class:`CausalInferError`, so a caller can catch them all
with one ``except``. The subclasses also derive from the built-in exception a Python user would
naturally catch (``ValueError`` for bad values, ``TypeError`` for wrong types), so existing
``except ValueError`` code keeps working::

    CausalInferError (Exception)
    ├── DataError (ValueError)              the data cannot be used as given: NaN, empty, wrong dtype
    │   └── RoleError                        a column role is wrong: missing column, duplicate role,
    │                                        one-level treatment, constant covariate
    ├── ArgumentError (ValueError)          an option has a bad value: alpha outside (0, 1), unknown method
    ├── ArgumentTypeError (TypeError)       an argument has the wrong type
    ├── ConvergenceError (RuntimeError)     an iterative fit or root-finder did not converge
    ├── IdentificationError (ValueError)    the causal effect cannot be identified from the graph
    ├── SourceError (OSError)               a file, database or other data source could not be read
    └── DependencyError (ImportError)       an optional dependency is not installed

    CausalInferWarning (UserWarning)
    ├── AssumptionWarning                    an assumption check failed or is doubtful
    └── DataWarning                          the data were used, but something about them deserves a look

Messages name the argument, echo the offending value and say what to do about it.
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "AssumptionWarning",
    "CausalInferError",
    "CausalInferWarning",
    "ConvergenceError",
    "DataError",
    "DataWarning",
    "DependencyError",
    "IdentificationError",
    "RoleError",
    "SourceError",
]


class CausalInferError(Exception):
    """Base class of every error raised on purpose by causalinfer."""


class DataError(CausalInferError, ValueError):
    """The data cannot be used as given (missing values, no rows, non-numeric values, ...)."""


class RoleError(DataError):
    """A column role is inconsistent with the data (missing column, duplicate role, degenerate column)."""


class ArgumentError(CausalInferError, ValueError):
    """An argument has a value outside its allowed range or set."""


class ArgumentTypeError(CausalInferError, TypeError):
    """An argument has the wrong type."""


class ConvergenceError(CausalInferError, RuntimeError):
    """An iterative computation did not converge."""


class IdentificationError(CausalInferError, ValueError):
    """The requested causal effect is not identified under the stated graph or roles."""


class SourceError(CausalInferError, OSError):
    """A data source or destination could not be read or written."""


class DependencyError(CausalInferError, ImportError):
    """An optional dependency needed for this feature is not installed."""


class CausalInferWarning(UserWarning):
    """Base class of warnings issued by causalinfer."""


class AssumptionWarning(CausalInferWarning):
    """An assumption behind a method is doubtful (overlap, normality, weak instrument, ...)."""


class DataWarning(CausalInferWarning):
    """Something about the data deserves attention but did not stop the computation."""
