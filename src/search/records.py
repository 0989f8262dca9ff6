"""What a search writes into MLflow besides the jobs' own runs: each trial's
state and value on its runs, the best trial, the tuned (final) runs' search
cost, and the parent run's summary of the study."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from src.search.names import find
from src.tracking.record import Artifact, RunMetric, Tag


class SearchRecorder:
    """Tags a sweep's child runs by name; a no-op without a parent run."""

    def __init__(self, tracking_uri: str, parent_run_id: Optional[str]):
        self.parent_run_id = parent_run_id
        self.client = None
        if parent_run_id:
            from mlflow.tracking import MlflowClient

            self.client = MlflowClient(tracking_uri)
            self.experiment_id = self.client.get_run(parent_run_id).info.experiment_id

    def runs(self, names: Iterable[str]) -> dict[str, Any]:
        """The parent's child runs given these names, keyed by the name given (a run's own
        name has its training size in place of the `{n_train}` token, src/search/names.py;
        a name a job failed to create is absent)."""
        if self.client is None:
            return {}
        children = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{Tag.PARENT_RUN_ID}` = '{self.parent_run_id}'",
            max_results=50000,
        )
        return find(children, names)

    def claim(self, study_name: str) -> None:
        """Tag the parent run with its study at the start, so that a later session finds it."""
        if self.client is not None:
            self.client.set_tag(self.parent_run_id, Tag.SEARCH_STUDY, study_name)

    def earlier_runs(self, study_name: str) -> list:
        """The runs of the study's earlier sessions: their parent runs, then those parents' children."""
        if self.client is None:
            return []
        parents = [
            r
            for r in self.client.search_runs(
                [self.experiment_id], filter_string=f"tags.`{Tag.SEARCH_STUDY}` = '{study_name}'", max_results=50000
            )
            if r.info.run_id != self.parent_run_id and r.data.tags.get(Tag.SWEEP) == "true"
        ]
        children = [
            child
            for parent in parents
            for child in self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`{Tag.PARENT_RUN_ID}` = '{parent.info.run_id}'",
                max_results=50000,
            )
        ]
        return parents + children

    def settle(self, runs: Iterable[Any]) -> None:
        """End KILLED the runs a killed session left RUNNING (the study's lock says its process is gone)."""
        from src.tracking.owner import end_killed
        from src.tracking.record import Status

        for run in runs:
            if run.info.status == Status.RUNNING:
                end_killed(self.client, run)

    def mark(self, runs: Iterable[Any], tags: Mapping[str, Any], metrics: Optional[Mapping[str, float]] = None) -> None:
        if self.client is None:
            return
        from mlflow.entities import Metric, RunTag

        for run in runs:
            self.client.log_batch(
                run.info.run_id,
                metrics=[Metric(k, float(v), 0, 0) for k, v in (metrics or {}).items()],
                tags=[RunTag(k, str(v)) for k, v in tags.items() if v is not None],
            )

    def summarize(self, tags: Mapping[str, Any], metrics: Mapping[str, float], results_file: Optional[str]) -> None:
        """The study's name, best trial and cost on the parent run, with optimization_results.yaml."""
        if self.client is None:
            return
        self.mark([self.client.get_run(self.parent_run_id)], tags, metrics)
        if results_file:
            self.client.log_artifact(self.parent_run_id, results_file)


def trial_tags(study_name: str, number: int, state: str, pruned_at: Optional[int]) -> dict[str, Any]:
    return {
        Tag.SEARCH_STUDY: study_name,
        Tag.SEARCH_STAGE: "trial",
        Tag.TRIAL_NUMBER: number,
        Tag.TRIAL_STATE: state,
        Tag.PRUNED_AT_EPOCH: pruned_at,
    }


def cost_metrics(fit_time_s: float, wall_time_s: float) -> dict[str, float]:
    return {RunMetric.SEARCH_FIT_TIME_S: fit_time_s, RunMetric.SEARCH_WALL_TIME_S: wall_time_s}


RESULTS_FILE = Artifact.OPTIMIZATION_RESULTS
