"""Shareable, self-contained HTML analysis reports built from results."""

from ._html import Report, Section

__all__ = ["Report", "Section"]
