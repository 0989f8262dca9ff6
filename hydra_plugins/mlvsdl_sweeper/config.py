"""The sweeper's settings (`hydra.sweeper.*`), registered as hydra/sweeper=mlvsdl_optuna."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore


@dataclass
class OptunaStudySweeperConf:
    _target_: str = "hydra_plugins.mlvsdl_sweeper.sweeper.OptunaStudySweeper"
    # The search space in Hydra's override grammar: choice(...), interval(...), tag(log, ...), int(...), range(...).
    params: Optional[Dict[str, str]] = None
    # minimize / maximize; null: the metric's own (error metrics mse, rmse, mae, log_loss, brier minimise).
    direction: Optional[str] = None
    # Finished (complete or pruned) trials the study holds when the search ends; resume=true counts earlier ones.
    n_trials: int = 20
    # Seconds after which no new trial starts (an equal wall-clock budget); null: none.
    timeout: Optional[float] = None
    # Trials proposed at once (each launched with its seeds in one batch: use a parallel launcher).
    n_jobs: int = 1
    # optuna.samplers.TPESampler's keywords.
    sampler: Dict[str, Any] = field(default_factory=lambda: {"seed": 0, "n_startup_trials": 8})
    # optuna.pruners.MedianPruner's keywords, used on the MLP's per-epoch validation metric; null: no pruning.
    pruner: Optional[Dict[str, Any]] = field(default_factory=lambda: {"n_startup_trials": 4, "n_warmup_steps": 5})
    # The directory of the study files; null: optuna/ beside the SQLite MLflow store.
    storage: Optional[str] = None
    # null: a digest of the search's configuration (model, dataset, space, settings).
    study_name: Optional[str] = None
    # A trial's value: the mean of the optimized (validation) metric over these seeds.
    selection_seeds: List[int] = field(default_factory=lambda: [0, 1])
    # The best configuration is then trained and tested on each of these seeds.
    final_seeds: List[int] = field(default_factory=lambda: [0, 1, 2])


ConfigStore.instance().store(
    group="hydra/sweeper", name="mlvsdl_optuna", node=OptunaStudySweeperConf, provider="mlvsdl"
)
