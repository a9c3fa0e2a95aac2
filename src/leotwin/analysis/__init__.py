"""Analysis: coverage of regions and cells; latency, enforcement and reports follow."""

from leotwin.analysis.coverage import COVERAGE_COLUMNS, CoverageResult, coverage

__all__ = ["COVERAGE_COLUMNS", "CoverageResult", "coverage"]
