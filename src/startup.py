"""Process start-up cost: the garbage collector while the big libraries load.

Importing torch, Lightning, MLflow and scikit-learn creates millions of
objects, and Python's cyclic garbage collector walks them again and again
while they load: about 1 s of a 4.7 s `import torch, pytorch_lightning,
mlflow, sklearn, pandas` here, and another 0.4 s of the rest of a small run
(measured). `python -m src.train` pauses the collector from its first line,
imports what the configured run needs, then freezes the objects created so
far (`gc.freeze`: later collections skip them) and turns the collector back
on for the training itself. The price is that the little cyclic garbage made
during start-up (composed configs) is kept for the life of the process.
"""

from __future__ import annotations

import gc

_paused = [False]


def pause_collector() -> None:
    """Called first thing by the command line, before Hydra is imported."""
    if gc.isenabled():
        gc.disable()
        _paused[0] = True


def load_run_modules(deep: bool, sql_store: bool) -> None:
    """Import what a run needs, then resume the collector (once per process).

    A classical run does not import torch or Lightning (they cost seconds), nor
    does a run tracked on a server import MLflow's SQL store."""
    if not _paused[0]:
        return
    try:
        import sklearn.compose  # noqa: F401 -- the shared preprocessing

        if sql_store:
            import mlflow.store.tracking.sqlalchemy_store  # noqa: F401

        if deep:
            import src.models.deep  # noqa: F401 -- torch and Lightning
    finally:
        resume_collector()


def resume_collector() -> None:
    """Freeze what exists and turn the collector back on (once per process).

    Also called by the sweep callback when the launcher runs the jobs in other
    processes (joblib, submitit): the launching process never trains, and it
    must not wait out a long sweep with its collector off."""
    if _paused[0]:
        _paused[0] = False
        gc.freeze()
        gc.enable()
