"""The search a `-m hparams_search=<name>` sweep runs (hydra_plugins/mlvsdl_sweeper).

Per trial, Optuna's sampler proposes a configuration (ask), which runs as one
job per selection seed through Hydra's launcher; the trial's value is the mean
of what those jobs return: `optimized_metric`, a validation metric -- a test
metric, or none, is refused. The study (src/search/study.py) is stored after
every trial, so `resume=true` continues a search that was stopped. When the
study holds `n_trials` finished trials (or `timeout` seconds have gone), the
best configuration is trained again on every final seed, with the same trainer
settings, and the default configuration beside it; the tuned runs carry the
search's cost: the fit time of all its trials and its wall time, summed over
every session of the study.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import optuna
import yaml
from omegaconf import DictConfig, OmegaConf
from optuna.trial import TrialState

from src.config.checks import check_register_as
from src.errors import ConfigError
from src.models import model_family
from src.models.registry import CLASSICAL
from src.search import checks, names, records
from src.search.pruning import ENV_PREFIX, PRUNED_AT_EPOCH
from src.search.space import as_overrides, search_space
from src.search.study import REPEAT_OF, ask_new, continued_sampler, finished, lock, open_study, storage_dir, study_key
from src.tracking.mlflow_run import PARENT_RUN_ENV, resolve_tracking_uri
from src.tracking.record import RunMetric, Tag

# Keys a search sets on each job itself: the seed (selection / final seeds) and
# resume (which would make a job skip a configuration already run).
_SET_BY_SEARCH = ("seed", "resume", "seeds")
_FIT_TIME = "fit_time_s"  # trial user attributes: what the trial cost
_WALL_TIME = "wall_time_s"


class Search:
    def __init__(self, settings: Mapping[str, Any], config: DictConfig, launcher: Any, hydra_context: Any):
        self.settings = settings
        self.config = config
        self.launcher = launcher
        self.hydra_context = hydra_context
        self.job_idx = 0
        self.metric = checks.optimized_metric(config.get("optimized_metric"))
        self.direction = checks.direction(settings.get("direction"), self.metric)
        checks.budget(settings)
        checks.sampler_keywords(settings.get("sampler") or {})
        checks.pruner_keywords(settings.get("pruner"))
        check_register_as(config.tracking)  # found before the first trial, not after the final runs
        self.selection_seeds = [int(s) for s in settings["selection_seeds"]]
        if not self.selection_seeds:
            raise ConfigError("hydra.sweeper.selection_seeds is empty: a trial needs at least one seed")

    def run(self, arguments: Sequence[str]) -> list:
        space, fixed = search_space(self.settings.get("params") or {}, arguments)
        if not space:
            raise ConfigError("the search has no searched key: set hydra.sweeper.params (hparams_search=<name>)")
        fixed = [o for o in fixed if o.lstrip("+~").split("=", 1)[0] not in _SET_BY_SEARCH]
        job_config = OmegaConf.to_container(self.config, resolve=False)
        job_config.pop("hydra", None)
        for key in space:  # the searched values do not name the study
            *groups, last = key.split(".")
            node = job_config
            for group in groups:
                node = node.get(group, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node.pop(last, None)
        key = study_key(job_config, space, self._keyed_settings())
        name = self.settings.get("study_name") or key
        tracking_uri = resolve_tracking_uri(self.config.tracking.uri)
        directory = storage_dir(tracking_uri, self.settings.get("storage"), os.getcwd())
        checks.storage(directory)
        path = directory / f"{name}.log"
        self.lock = lock(path)  # held until this process ends
        study, moved, stale = open_study(
            path, name, self.direction, optuna.samplers.RandomSampler(), None,
            resume=bool(self.config.get("resume")), key=key,
        )  # fmt: skip
        study.sampler = continued_sampler(self.settings["sampler"], study)
        done = len(finished(study))
        print(f"search: study {name} ({path}), {done} of {self.settings['n_trials']} trials finished"
              + (f"; the earlier study was moved to {moved.name} (resume=true continues one)" if moved else ""),
              flush=True)  # fmt: skip
        recorder = records.SearchRecorder(tracking_uri, os.environ.get(PARENT_RUN_ENV))
        recorder.claim(name)
        earlier = recorder.earlier_runs(name)
        recorder.settle(earlier)  # a killed session's parent and trial runs: KILLED, not RUNNING forever
        self.run_prefix = f"{self.config.model.name}-{self.config.dataset.name}"
        for number in stale:  # the runs of a trial a killed search left, now counted as failed
            mine = list(
                names.find(
                    earlier, [names.trial_name(self.run_prefix, number, s) for s in self.selection_seeds]
                ).values()
            )
            recorder.mark(mine, records.trial_tags(name, number, "failed", None))
        # Without resume the earlier study was moved aside: its final runs are not this study's.
        self.earlier = earlier if self.config.get("resume") else []
        self._search(study, space, fixed, path, recorder)
        return self._final(study, fixed, recorder)

    def _keyed_settings(self) -> dict:
        settings = OmegaConf.to_container(OmegaConf.create(dict(self.settings)), resolve=True)
        keyed = {**settings, "selection_seeds": self.selection_seeds, "optimized_metric": self.metric}
        return {**keyed, "direction": self.direction}

    def _search(self, study: optuna.Study, space: dict, fixed: list[str], path: Path, recorder: Any) -> None:
        n_trials, timeout = int(self.settings["n_trials"]), self.settings.get("timeout")
        n_jobs = max(1, int(self.settings.get("n_jobs") or 1))
        started, failures = time.perf_counter(), 0
        remaining = n_trials - len(finished(study))
        while remaining > 0 and failures < max(3, remaining):
            if timeout is not None and time.perf_counter() - started >= float(timeout):
                print(f"search: timeout of {timeout} s reached", flush=True)
                break
            trials = [ask_new(study, space) for _ in range(min(n_jobs, remaining))]
            batch, given = [], []
            for trial in trials:
                for seed in self.selection_seeds:
                    run_name = names.trial_name(self.run_prefix, trial.number, seed)
                    given.append(run_name)
                    overrides = fixed + as_overrides(trial.params) + [f"seed={seed}", names.name_override(run_name)]
                    batch.append(tuple(overrides + self._trial_overrides(study, path, trial.number, seed)))
            batch_start = time.perf_counter()
            returns = self._launch(batch)
            wall = (time.perf_counter() - batch_start) / len(trials)
            runs = recorder.runs(given)
            k = len(self.selection_seeds)
            for i, trial in enumerate(trials):
                mine = [runs[n] for n in given[i * k : (i + 1) * k] if n in runs]
                trial.set_user_attr(_FIT_TIME, sum(r.data.metrics.get(RunMetric.FIT_TIME_S, 0.0) for r in mine))
                trial.set_user_attr(_WALL_TIME, wall)
                state = self._tell(study, trial, returns[i * k : (i + 1) * k])
                frozen = study.trials[trial.number]
                recorder.mark(
                    mine,
                    records.trial_tags(study.study_name, trial.number, state, frozen.user_attrs.get(PRUNED_AT_EPOCH)),
                    {RunMetric.TRIAL_VALUE: frozen.value} if frozen.value is not None else None,
                )
                failures += state == "failed"
            remaining = n_trials - len(finished(study))

    def _trial_overrides(self, study: optuna.Study, path: Path, number: int, seed: int) -> list[str]:
        """For an MLP's jobs, the trial they report their epochs to (src/search/pruning.py),
        as environment variables Hydra sets in the job's process for the job alone."""
        pruner = self.settings.get("pruner")
        if not pruner or model_family(self.config.model) == CLASSICAL:
            return []
        values = {
            "STUDY": study.study_name,
            "STORAGE": str(path),
            "TRIAL": number,
            "METRIC": self.metric.removeprefix("final_"),
            "REPORT": int(seed == self.selection_seeds[0]),
            "PRUNER": ",".join(f"{k}:{v}" for k, v in pruner.items()),
        }
        return [f"+hydra.job.env_set.{ENV_PREFIX}{k}='{v}'" for k, v in values.items()]

    def _launch(self, batch: list[tuple]) -> list:
        self.validate_batch(batch)
        returns = self.launcher.launch(batch, initial_job_idx=self.job_idx)
        self.job_idx += len(batch)
        return list(returns)

    def validate_batch(self, batch: list[tuple]) -> None:
        for overrides in batch:
            self.hydra_context.config_loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides)
            )

    def _tell(self, study: optuna.Study, trial: optuna.Trial, returns: list) -> str:
        """Tell Optuna how the trial ended: 'complete', 'pruned' or 'failed'. A job whose
        error is the search's own (e.g. an optimized_metric the runs do not log) stops it."""
        values = []
        for job in returns:
            try:
                values.append(job.return_value)
            except BaseException:
                study.tell(trial, state=TrialState.FAIL)
                raise
        if any(v is None for v in values):  # a failed job: its run is FAILED, the trial is tried again
            study.tell(trial, state=TrialState.FAIL)
            return "failed"
        if PRUNED_AT_EPOCH in study.trials[trial.number].user_attrs:
            study.tell(trial, state=TrialState.PRUNED)
            return "pruned"
        study.tell(trial, sum(values) / len(values))
        return "complete"

    def _already_trained(self, name: str, stage: str, best: int) -> Any:
        """The run an earlier session of this study left FINISHED under this given name, or
        None: the default one, or the tuned one of the same best trial (a resumed, finished
        search does not train them again, nor count their seeds twice)."""
        for run in self.earlier:
            if (
                names.matches(name, run.info.run_name)
                and run.info.status == "FINISHED"
                and (stage == "default" or run.data.tags.get(Tag.BEST_TRIAL) == str(best))
            ):
                return run
        return None

    def _final(self, study: optuna.Study, fixed: list[str], recorder: Any) -> list:
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        trials = study.get_trials(deepcopy=False)
        fit = sum(t.user_attrs.get(_FIT_TIME, 0.0) for t in trials)
        wall = sum(t.user_attrs.get(_WALL_TIME, 0.0) for t in trials)
        states = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}
        run = [t for t in trials if REPEAT_OF not in t.user_attrs]  # a repeat proposal ran no job
        counts = {name: sum(t.state == state for t in run) for name, state in states.items()}
        if not complete:
            print("search: no trial completed; nothing to train on the final seeds", file=sys.stderr, flush=True)
            return []
        best = study.best_trial
        best_names = [names.trial_name(self.run_prefix, best.number, s) for s in self.selection_seeds]
        best_runs = [*recorder.runs(best_names).values(), *names.find(self.earlier, best_names).values()]
        recorder.mark(best_runs, {Tag.BEST_TRIAL: "true"})
        results = {
            "name": study.study_name,
            "best_trial": best.number,
            "best_params": dict(best.params),
            "best_value": float(best.value),
            "optimized_metric": self.metric,
            "selection_seeds": self.selection_seeds,
            "trials": counts,
            "search_fit_time_s": round(fit, 3),
            "search_wall_time_s": round(wall, 3),
        }
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        results_file = sweep_dir / records.RESULTS_FILE
        results_file.write_text(yaml.safe_dump(results, sort_keys=False))
        print(f"search: best trial {best.number}, {self.metric}={best.value:.4f} (mean over seeds "
              f"{self.selection_seeds}); search fit time {fit:.1f} s, wall time {wall:.1f} s", flush=True)  # fmt: skip
        summary = {Tag.SEARCH_STUDY: study.study_name, Tag.BEST_TRIAL: best.number}
        recorder.summarize(summary, records.cost_metrics(fit, wall), str(results_file))
        # The best configuration on every final seed, and beside it the default one
        # (the search's config without the searched values): tuned against default,
        # trained alike, on the same splits.
        final_seeds = [int(s) for s in self.settings.get("final_seeds") or []]
        batch, stages = [], {}
        for stage, params in (("final", as_overrides(best.params)), ("default", [])):
            for seed in final_seeds:
                name = names.final_name(self.run_prefix, stage, seed)
                done = self._already_trained(name, stage, best.number)
                if done is not None:
                    print(f"search: {done.info.run_name} already FINISHED in an earlier session; not trained again",
                          flush=True)  # fmt: skip
                    continue
                stages[name] = stage
                batch.append(tuple(fixed + params + [f"seed={seed}", names.name_override(name)]))
        returns = self._launch(batch) if batch else []
        for name, run in recorder.runs(stages).items():
            tags = {Tag.SEARCH_STUDY: study.study_name, Tag.SEARCH_STAGE: stages[name]}
            if stages[name] == "final":
                recorder.mark([run], {**tags, Tag.BEST_TRIAL: best.number}, records.cost_metrics(fit, wall))
            else:
                recorder.mark([run], tags)
        return returns
