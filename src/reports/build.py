"""The study report: runs read back from MLflow -> one Markdown file with PNG plots.

The runs are loaded and tidied by `runs`, analysed by `analysis` (pure
functions), and written section by section: `dataset_sections` for each
dataset, then `study_sections` across datasets. The report goes into
`reports/<study or experiment>/report.md` (with its PNGs beside it) and is
logged as the artifacts of a "report" run (tag `report=true`).

What it shows, per dataset: a table of models (mean ± std of the main test
metric over seeds, median times, parameter counts, the best of each column in
bold); the verdicts, best deep against best classical model at each training
size with a 95% interval over paired repeats, and the crossover where the
verdicts turn from classical to deep for good (src/reports/verdicts.py);
learning curves against the training-set size; training time; time against
the metric with its Pareto front; loss curves where optimizers or learning
rates vary; gradient norms where they were logged; feature importances where
they were logged. Across datasets: every verdict (verdicts.csv); mean ranks
with a Friedman test; the critical-difference diagram, normalised scores,
times per 1,000 rows and the Pareto front of score against time
(src/reports/across.py); the hyperparameter searches; failed runs. Runs that
failed or diverged are listed as such, never dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pandas as pd

from src.errors import UserError
from src.job.metrics import VERDICT_METRIC
from src.reports import dataset_sections, figures, study_sections, tuning_sections
from src.reports.analysis import curves_of, dataset_metric, lower_is_better, model_table, select_tuned
from src.reports.document import DatasetView, Report, StudyView, own_files
from src.reports.html import write_html
from src.reports.runs import RunFilter, search_runs, tidy, what_is_there
from src.reports.verdicts import verdicts_of
from src.tracking.record import Artifact, RunMetric, Tag
from src.tracking.secrets import mask_secrets

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORTS_DIR = PROJECT_ROOT / "reports"
DEFAULT_EXPERIMENT = "mlvsdl"  # where the report run goes when no experiment is named
SUMMARY_NAME = "summary.txt"
# Files this report writes (a rerun into the same folder removes its own stale ones only).
OWN_FILES = own_files(
    (Artifact.REPORT_MD, Artifact.REPORT_HTML, SUMMARY_NAME),
    (study_sections.VERDICT_BOX, *dataset_sections.SECTIONS, *study_sections.SECTIONS),
)


def dataset_view(runs: pd.DataFrame, dataset: str, tracking_uri: str, verdict: VerdictSettings) -> DatasetView:
    """One dataset's runs and what its sections read: the metric, the tuned trials, the model table, the curves."""
    metric = dataset_metric(runs)
    chosen = select_tuned(runs)
    return DatasetView(
        name=dataset,
        runs=runs,
        chosen=chosen,
        metric=metric,
        direction="lower is better" if lower_is_better(metric) else "higher is better",
        table=model_table(chosen, metric),
        curves=curves_of(chosen),
        tracking_uri=tracking_uri,
        verdicts=verdicts_of(chosen, verdict.metric_for(runs), dataset, verdict.margin),
    )


@dataclass(frozen=True)
class VerdictSettings:
    """The report's verdict settings: the metric (auto: ROC AUC for classification, RMSE for
    regression) and the equivalence margin (None: the metric's default, src/reports/verdicts.py)."""

    metric: str = "auto"
    margin: Optional[float] = None

    def metric_for(self, runs: pd.DataFrame) -> str:
        if self.metric != "auto":
            return self.metric.removeprefix("test_")
        tasks = runs.loc[runs["finished"], "task"].dropna()
        task = str(tasks.mode().iloc[0]) if not tasks.empty else "multiclass"
        return VERDICT_METRIC.get(task, "roc_auc")


def _silent(message: str) -> None:
    pass


def build_report(
    runs: pd.DataFrame,
    out: Path,
    name: str,
    description: str,
    tracking_uri: str,
    progress: Callable[[str], None] = _silent,
    verdict: VerdictSettings = VerdictSettings(),
) -> Report:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file() and OWN_FILES.match(old.name):
            old.unlink()
    report = Report(name=name, out=out, n_runs=len(runs), n_failed=int((~runs["finished"]).sum()) if len(runs) else 0)
    n_diverged = int((runs["outcome"] == "diverged").sum()) if len(runs) else 0
    report.add(
        f"# Report: {name}",
        "",
        f"Runs: {description} ({len(runs)} runs: {len(runs) - report.n_failed} finished, "
        f"{report.n_failed} failed, diverged or killed, of which {n_diverged} diverged). "
        f"Store: `{mask_secrets(tracking_uri)}`. Generated {time.strftime('%Y-%m-%d %H:%M:%S')}.",
        "",
    )
    searched, runs = runs, tuning_sections.tables_input(runs)  # a search's trials leave the model tables
    # One colour and marker per model in every figure (tuned variants are labelled "<model> (tuned)").
    figures.use_palette([*runs["variant"].astype(str), *(f"{m} (tuned)" for m in runs["model"].astype(str))])
    datasets = sorted(runs["dataset"].unique())
    views = []
    for i, dataset in enumerate(datasets, 1):
        progress(f"[{i}/{len(datasets)}] dataset {dataset}: {int((runs['dataset'] == dataset).sum())} runs")
        views.append(dataset_view(runs[runs["dataset"] == dataset], dataset, tracking_uri, verdict))
    tables = {view.name: (view.table, view.metric) for view in views}
    rows = [view.verdicts.rows for view in views if not view.verdicts.rows.empty]
    study = StudyView(
        runs,
        tables,
        pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(),
        [view.verdicts.crossover.sentence for view in views],
    )
    # The answer first: a search's default against tuned (nothing without a search), then the verdicts.
    report.render(tuning_sections.SECTION, StudyView(searched, tables))
    report.render(study_sections.VERDICT_BOX, study)
    for view in views:
        for section in dataset_sections.SECTIONS:
            report.render(section, view)
    progress("across datasets: ranks, critical difference, Pareto front")
    for section in study_sections.SECTIONS:
        report.render(section, study)
    return report


def log_report(tracking_uri: str, experiment: str, report: Report, run_filter: RunFilter) -> str:
    """The report's files as the artifacts of a run tagged report=true."""
    from src.tracking.mlflow_run import TrackedRun, git_commit

    tags = {
        Tag.REPORT: "true",
        Tag.STUDY: run_filter.study,
        Tag.REPORT_FILTER: run_filter.describe(),
        Tag.GIT_COMMIT: git_commit(),
    }
    from src.tracking.links import report_note
    from src.tracking.record import DESCRIPTION_TAG

    # A Ctrl-C or an error while the files upload ends the run KILLED / FAILED, never RUNNING.
    with TrackedRun.start(tracking_uri, experiment, f"report-{report.name}", tags, nested=False) as run:
        # The run's description (its Overview page) links report.html in the Artifacts tab.
        note = report_note(report.name, run.experiment_id, run.run_id, Artifact.REPORT_HTML, Artifact.REPORT_MD)
        run.set_tags({DESCRIPTION_TAG: note})
        run.add_metrics({RunMetric.N_RUNS: report.n_runs, RunMetric.N_FAILED: report.n_failed})
        run.log_artifacts(report.out)
    report.experiment_id = run.experiment_id
    return run.run_id


def make_report(
    run_filter: RunFilter,
    tracking_uri: Optional[str] = None,
    out: Optional[Path] = None,
    log: bool = True,
    progress: Callable[[str], None] = _silent,
    verdict: VerdictSettings = VerdictSettings(),
) -> Report:
    """Say what it is doing through `progress` (the CLI prints it on stderr). Read the runs, write report.md and its PNGs into `out`, log them as a report run.
    No matching run is an error (a one-line UserError saying what the store holds),
    and so is a store that does not exist: the report never creates one."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from src.tracking.mlflow_run import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    progress(f"reading the runs ({run_filter.describe()}) from {mask_secrets(uri)}")
    runs = tidy(search_runs(uri, run_filter))
    progress(f"{len(runs)} runs read")
    if runs.empty:
        raise UserError(f"no runs match {run_filter.describe()} in {mask_secrets(uri)}; {what_is_there(uri)}")
    name = run_filter.name()
    out = Path(out) if out is not None else REPORTS_DIR / name
    report = build_report(runs, out, name, run_filter.describe(), uri, progress, verdict)
    (out / Artifact.REPORT_MD).write_text("\n".join(report.markdown).rstrip() + "\n")
    write_html(out / Artifact.REPORT_MD, out / Artifact.REPORT_HTML, f"Report: {name}")  # figures embedded
    (out / SUMMARY_NAME).write_text("\n".join(report.summary).rstrip() + "\n")
    if log:
        progress("logging the report run")
        experiment = run_filter.experiments[0] if run_filter.experiments else DEFAULT_EXPERIMENT
        report.run_id = log_report(uri, experiment, report, run_filter)
        from src.tracking.links import run_url, ui_base

        url = run_url(ui_base(uri), report.experiment_id, report.run_id, Artifact.REPORT_HTML)
        report.summary.append(f"In MLflow's UI (`make ui` for a local store): {url}")
    return report
