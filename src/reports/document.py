"""The report being written, and what a report section is.

A section is one function that adds its Markdown (and figures) to the report,
declared with the files it writes: the report's own file list -- what a rerun
into the same folder removes -- is derived from the declarations, and a
section that saves a file it did not declare fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pandas as pd

# In a section's file names, the slug of the dataset it is about.
DATASET = "{dataset}"


def slug(text: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))


@dataclass(frozen=True)
class Section:
    """A report section: `render(report, view)` adds it; `files` are the file names it
    may write, `{dataset}` standing for the dataset's slug."""

    render: Callable[..., None]
    files: tuple[str, ...] = ()

    def file_pattern(self) -> str:
        return "|".join(".*".join(re.escape(part) for part in name.split(DATASET)) for name in self.files)


def own_files(fixed: tuple[str, ...], sections: tuple[Section, ...]) -> re.Pattern[str]:
    """The names of the files a report writes: `fixed` ones and those its sections declare."""
    patterns = [re.escape(name) for name in fixed] + [s.file_pattern() for s in sections if s.files]
    return re.compile("^(" + "|".join(patterns) + ")$")


@dataclass
class DatasetView:
    """What a per-dataset section reads: the dataset's runs and what was computed from them."""

    name: str
    runs: pd.DataFrame  # every run on the dataset
    chosen: pd.DataFrame  # the same, hyperparameter searches reduced to their tuned trial
    metric: str
    direction: str  # "lower is better" / "higher is better"
    table: pd.DataFrame  # analysis.model_table of `chosen`
    curves: pd.DataFrame  # analysis.curves_of `chosen`
    tracking_uri: str
    verdicts: Any = None  # verdicts.Verdicts of `chosen`: best deep against best classical per size

    @property
    def slug(self) -> str:
        return slug(self.name)


@dataclass
class StudyView:
    """What a cross-dataset section reads: all runs, and each dataset's model table and metric."""

    runs: pd.DataFrame
    tables: dict[str, tuple[pd.DataFrame, str]]
    verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)  # every dataset's verdict rows
    crossovers: list[str] = field(default_factory=list)  # every dataset's crossover sentence


@dataclass
class Report:
    name: str
    out: Path
    markdown: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # what the command line prints
    figures: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)  # the crossover sentences
    verdict_lines: list[str] = field(default_factory=list)  # the verdict table and crossovers, for the terminal
    n_runs: int = 0
    n_failed: int = 0
    run_id: Optional[str] = None  # the MLflow report run, once logged
    experiment_id: Optional[str] = None  # and its experiment
    allowed: Optional[re.Pattern[str]] = None  # the files the section being rendered declared

    def add(self, *lines: str) -> None:
        self.markdown.extend(lines)

    def figure(self, fig: Any, filename: str, caption: str) -> None:
        if fig is None:
            return
        if self.allowed is not None and not self.allowed.match(filename):
            raise RuntimeError(f"a report section saved {filename}, which it does not declare in its Section.files")
        fig.savefig(self.out / filename, dpi=90, bbox_inches="tight")
        self.figures.append(filename)
        self.add(f"![{caption}]({filename})", "")

    def write(self, filename: str, text: str) -> None:
        """A file beside report.md (logged with it), held to the section's declared files like a figure."""
        if self.allowed is not None and not self.allowed.match(filename):
            raise RuntimeError(f"a report section wrote {filename}, which it does not declare in its Section.files")
        (self.out / filename).write_text(text)

    def render(self, section: Section, view: Any) -> None:
        """Add one section, holding it to the files it declares."""
        self.allowed = own_files((), (section,)) if section.files else re.compile(r"(?!)")
        try:
            section.render(self, view)
        finally:
            self.allowed = None
