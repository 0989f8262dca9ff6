"""Hyperparameter searches on Optuna (hparams_search=<name>, README "Hyperparameter search").

space.py turns `hydra.sweeper.params` into Optuna distributions; study.py keys,
stores and resumes a study beside the MLflow store; pruning.py is the job-side
hook that reports an MLP's epochs to its trial; sweeper.py runs the search
(hydra_plugins/mlvsdl_sweeper registers it with Hydra). Below the entry points,
beside the runner: it imports tracking, never training or reports, and the
models import pruning.py alone.
"""
