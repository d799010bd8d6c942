"""Spot checks (抽查核验): the stratified, seeded draw of a sample of accepted records
(draw.py), the words of a verification result, and what a report says per unit (report.py).
Pure rules, no register: docs/spotcheck.md describes the method so that another
implementation can redraw the same sample from the seed."""

from desktop.domain.spotcheck.draw import (
    FALSE,
    METHOD,
    RESULTS,
    TRUE,
    UNVERIFIABLE,
    allot,
    draw,
    new_seed,
    parse_rate,
    rank,
    sample_size,
    seed_problem,
)
from desktop.domain.spotcheck.report import COLUMNS, TITLE, SpotReport, UnitLine, method_text, rate

__all__ = ["COLUMNS", "FALSE", "METHOD", "RESULTS", "TITLE", "TRUE", "UNVERIFIABLE", "SpotReport",
           "UnitLine", "allot", "draw", "method_text", "new_seed", "parse_rate", "rank", "rate",
           "sample_size", "seed_problem"]
