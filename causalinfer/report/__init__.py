"""Shareable, self-contained HTML analysis reports built from results."""

from ._analysis import AnalysisReport, analysis_report
from ._experiment import experiment_report
from ._html import Report, Section

__all__ = ["AnalysisReport", "Report", "Section", "analysis_report", "experiment_report"]
