"""Behaviour analysers, one module each: fall, loitering, unattended child, inactivity."""

from edge.analysers.base import Analyser, Episode, Finding, Observation
from edge.analysers.fall import FallAnalyser
from edge.analysers.inactivity import InactivityAnalyser
from edge.analysers.loitering import LoiteringAnalyser
from edge.analysers.unattended import UnattendedChildAnalyser

__all__ = [
    "Analyser",
    "Episode",
    "FallAnalyser",
    "Finding",
    "InactivityAnalyser",
    "LoiteringAnalyser",
    "Observation",
    "UnattendedChildAnalyser",
]
