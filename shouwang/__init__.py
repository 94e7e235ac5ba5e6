"""Shouwang (守望): shared wire contracts, settings and the command line."""

__version__ = "0.1.0"
