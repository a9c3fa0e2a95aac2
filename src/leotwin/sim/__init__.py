"""Scenarios end to end: the scenario file, the runner and its backends, results."""
