"""The job side of pruning: an MLP reports its per-epoch validation metric to
its Optuna trial, and stops when the pruner says so.

The sweeper hands a trial's jobs environment variables (the study's journal
file and name, the trial number, the per-epoch metric, the MedianPruner's
settings) through `hydra.job.env_set`, which Hydra sets in whichever process
runs the job, for that job alone. Of a trial's jobs -- one per selection seed -- the first reports
its epochs; every one stops once a pruned job has marked the trial (user
attribute `pruned_at_epoch`). A pruned job is not an error: the MLP keeps its
best epoch so far, the run is evaluated and FINISHED like any other, and the
sweeper then tells Optuna the trial was PRUNED and tags its runs.

Imported by the models' builder only when a search runs (models may import it:
it imports no tracking or training).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import pytorch_lightning as pl

# The trial a job belongs to, set by the sweeper through hydra.job.env_set (the job's process, the job alone).
ENV_PREFIX = "MLVSDL_SEARCH_"
PRUNED_AT_EPOCH = "pruned_at_epoch"  # the trial's user attribute: epochs trained when it was pruned


class TrialPruning(pl.Callback):
    """A Lightning callback: after each epoch's validation, report and maybe stop."""

    def __init__(self, storage_path: str, study_name: str, trial_number: int, metric: str, report: bool, pruner: Any):
        import optuna

        from src.search.study import journal

        self.storage = journal(Path(storage_path))
        self.study = optuna.load_study(study_name=study_name, storage=self.storage, pruner=pruner)
        study_id = self.storage.get_study_id_from_name(study_name)
        self.trial_id = self.storage.get_trial_id_from_study_id_trial_number(study_id, trial_number)
        self.metric = metric
        self.report = report

    def on_validation_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        epochs = trainer.current_epoch + 1
        if self.report:
            value = pl_module.epoch_metric(self.metric)
            if value is None:  # the metric is not scored per epoch (e.g. a regression's MSE): no pruning
                return
            self.storage.set_trial_intermediate_value(self.trial_id, epochs, value)
            trial = self.storage.get_trial(self.trial_id)
            if self.study.pruner.prune(self.study, trial):
                self.storage.set_trial_user_attr(self.trial_id, PRUNED_AT_EPOCH, epochs)
                trainer.should_stop = True
        elif PRUNED_AT_EPOCH in self.storage.get_trial(self.trial_id).user_attrs:
            trainer.should_stop = True  # the trial's reporting seed was pruned: this seed stops too


def trial_pruning() -> Optional[TrialPruning]:
    """The pruning callback of a search's trial job (`MLVSDL_SEARCH_*` set), else None."""
    env = {k.removeprefix(ENV_PREFIX): v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    if not env.get("PRUNER"):
        return None
    import optuna

    settings = {key: int(value) for key, value in (item.split(":") for item in env["PRUNER"].split(","))}
    return TrialPruning(
        env["STORAGE"], env["STUDY"], int(env["TRIAL"]), env["METRIC"], env["REPORT"] == "1",
        optuna.pruners.MedianPruner(**settings),
    )  # fmt: skip
