"""The calibration report: the HTML page (`page.py`, templates in `templates/`), its charts (`charts.py`), the
one-screen text summary (`summary.py`) and how each figure is written (`formats.py`). Everything here takes the
report dict of `hubsync/jobs/report.py::report_data` and nothing else."""
