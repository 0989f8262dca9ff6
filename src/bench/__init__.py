"""Speed benchmark: `python -m src.bench` (or `make bench`).

Measures, side by side in one process, with several repetitions each:
  1. per-epoch training time of a 100-100 ReLU MLP (Adam, lr 1e-3, batch 100)
     on mnist1d (4000 x 40) and on a 100,000 x 40 make_classification set,
     trained (a) by the pipeline's own path, (b) by a hand-written PyTorch loop,
     (c) by scikit-learn's MLPClassifier -- with each one's test accuracy;
  2. the fixed overhead per run (config -> fitted model -> closed MLflow run,
     minus the training itself), for one run and across 50 runs in one process;
  3. whole-process wall times of `python -m src.train` (deep and classical),
     `--help` and a config error, and whether a classical run imports torch;
  4. the share of a run's wall time spent writing to MLflow;
  5. (`--only models`) the fit time and test accuracy of each GBDT (xgboost,
     lightgbm, catboost) and of mlp_plus, next to the random forest, on mnist1d
     (3,600 training rows) and on a 100,000-row make_classification set, each
     fitted through the runner's own stages (early stopping on the validation
     split, one CPU thread); and mlp_plus's K members against one member;
  6. R = 5 repeats of mlp_plus trained together (`seeds=[0,1,2,3,4]`, R x K
     nets in one model) against one repeat.
Prints medians, ratios and the targets as a table and writes JSON.

The benchmark measures from outside: the production modules carry no timing
hooks (the MLflow seconds come from `clock.py`, which wraps the run logger in
the measuring process), and nothing under src/ imports this package.

    training.py  per-epoch times, seeds and mlp_plus repeats trained together
    runs.py      fixed overhead per run, whole processes
    models.py    fit times of the GBDTs and mlp_plus next to the random forest
    clock.py     seconds spent writing to MLflow
    table.py     targets and the Markdown table
    __main__.py  the command line
"""
