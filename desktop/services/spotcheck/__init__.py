"""Spot checks with accountability (抽查核验, issue 17): draw a stratified, seeded sample of the
accepted records and write its verification workbook (sample.py), read the filled workbook
back strictly and store its results (record.py), and report per unit with the accountable
parties (report.py; the signers of the packages through signers.py). docs/spotcheck.md has the
method. UI-free: commands/spotcheck.py and ui/spotcheck/ call these."""

from desktop.services.spotcheck.record import Recorded, record_results
from desktop.services.spotcheck.report import find_sample, samples, spot_report, write_report
from desktop.services.spotcheck.sample import Drawn, draw_sample, population_summary

__all__ = ["Drawn", "Recorded", "draw_sample", "find_sample", "population_summary",
           "record_results", "samples", "spot_report", "write_report"]
