"""Entry point: `python -m src.report [--study NAME] [--experiment NAME] [--tag KEY=VALUE] ...`.

Writes reports/<study or experiment>/report.md with its PNG plots from the runs
in MLflow, and logs them as a report run; see src/reports/report.py.
"""

from __future__ import annotations

import sys

from src.reports.report import main

if __name__ == "__main__":
    sys.exit(main())
