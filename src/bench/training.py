"""Training speed: per-epoch times of three trainers, and seeds trained together."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]


def median_time(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(reps):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def config(*overrides: str):
    """The run spec `python -m src.train <overrides>` would run with (checked as it checks it)."""
    from hydra import compose, initialize_config_dir

    from src.config import register_configs
    from src.config.checks import check_config
    from src.config.spec import RunSpec

    register_configs()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        composed = compose(config_name="config", overrides=list(overrides))
    check_config(composed)
    return RunSpec.from_config(composed)


def _data(name: str, n_rows: int):
    """Standardized float32 train/test arrays: mnist1d or make_classification."""
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name == "mnist1d":
        from src.data.generated import mnist1d_arrays

        d = mnist1d_arrays(None, None)
        X, Xt, y, yt = d["x"], d["x_test"], d["y"], d["y_test"]
    else:
        X_all, y_all = make_classification(
            n_samples=int(n_rows * 1.25),
            n_features=40,
            n_informative=20,
            n_classes=10,
            n_clusters_per_class=1,
            random_state=0,
        )
        X, Xt, y, yt = train_test_split(X_all, y_all, test_size=0.2, random_state=0, stratify=y_all)
    scaler = StandardScaler().fit(X)
    return (
        scaler.transform(X).astype(np.float32),
        y.astype(np.int64),
        scaler.transform(Xt).astype(np.float32),
        yt.astype(np.int64),
    )


# ----------------------------------------------------------------------------- 1. per-epoch


def _pipeline_fit(X, y, epochs: int, seed: int = 0):
    from src.models import build_estimator

    cfg = config(
        "model=mlp",
        "model.hidden_sizes=[100,100]",
        "activation=relu",
        "optimizer=adam",
        "optimizer.lr=0.001",
        "optimizer.batch_size=100",
        "trainer=cpu",
        f"trainer.max_epochs={epochs}",
        "trainer.progress_bar=false",
        f"seed={seed}",
        "dataset=mnist1d",
    )
    return build_estimator(cfg, "multiclass", 10).fit(X, y)


def _hand_loop_fit(X, y, epochs: int, seed: int = 0):
    """The reference: tensors, a per-epoch permutation, slices, fused Adam."""
    import torch
    from torch import nn

    from src.models.mlp import initialize

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(X.shape[1], 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))
    initialize(net, "xavier", torch.Generator().manual_seed(seed))  # the pipeline's default init, for equal accuracy
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    shuffle = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(y_t), generator=shuffle)
        for start in range(0, len(y_t), 100):
            rows = order[start : start + 100]
            loss = nn.functional.cross_entropy(net(X_t[rows]), y_t[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net


def _sklearn_fit(X, y, epochs: int, seed: int = 0):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(
            (100, 100),
            activation="relu",
            solver="adam",
            learning_rate_init=1e-3,
            batch_size=100,
            max_iter=epochs,
            tol=0,
            n_iter_no_change=10**9,
            alpha=0.0,  # no L2 penalty: the same objective as the torch loops
            random_state=seed,
        ).fit(X, y)


def _accuracy(model: Any, Xt, yt) -> float:
    import numpy as np

    if hasattr(model, "predict"):
        return float(np.mean(model.predict(Xt) == yt))
    import torch

    with torch.inference_mode():
        return float((model(torch.as_tensor(Xt)).argmax(1).numpy() == yt).mean())


def bench_per_epoch(name: str, n_rows: int, epochs: int, reps: int, accuracy_seeds: int = 5) -> dict[str, Any]:
    """Per-epoch time as (T(epochs) - T(1)) / (epochs - 1): fixed costs cancel.

    Accuracy is the mean over `accuracy_seeds` seeds (the timed runs among them):
    one seed's test accuracy after a few epochs moves by 1-2 points with the
    initialisation, more than the 1-point tolerance the comparison allows."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    X, y, Xt, yt = _data(name, n_rows)
    out: dict[str, Any] = {"dataset": name, "n_train": len(y), "epochs": epochs, "accuracy_seeds": accuracy_seeds}
    fits = {"pipeline": _pipeline_fit, "hand_loop": _hand_loop_fit, "sklearn": _sklearn_fit}
    one: dict[str, list[float]] = {key: [] for key in fits}
    full: dict[str, list[float]] = {key: [] for key in fits}
    accuracies: dict[str, list[float]] = {key: [] for key in fits}
    # One thread everywhere (torch and BLAS), so that the three compete on equal terms;
    # the three alternate within each repetition, so that a slow spell of the machine
    # hits them alike.
    with threadpool_limits(1):
        for fit in fits.values():
            fit(X[:500], y[:500], 1)  # warm-up
        for seed in range(max(reps, accuracy_seeds)):
            for key, fit in fits.items():
                if seed < reps:
                    started = time.perf_counter()
                    fit(X, y, 1, seed=seed)
                    one[key].append(time.perf_counter() - started)
                started = time.perf_counter()
                model = fit(X, y, epochs, seed=seed)
                if seed < reps:
                    full[key].append(time.perf_counter() - started)
                if seed < accuracy_seeds:
                    accuracies[key].append(_accuracy(model, Xt, yt))
    for key in fits:
        # Not clamped: a difference <= 0 means the noise swamped the epochs, and the
        # row is reported as invalid rather than as an impossibly fast epoch.
        out[f"{key}_epoch_s"] = (statistics.median(full[key]) - statistics.median(one[key])) / (epochs - 1)
        out[f"{key}_accuracy"] = float(np.mean(accuracies[key]))
        out[f"{key}_accuracy_std"] = float(np.std(accuracies[key]))
    out["valid"] = all(out[f"{key}_epoch_s"] > 0 for key in fits)
    nan = float("nan")
    out["ratio_pipeline_vs_hand_loop"] = out["pipeline_epoch_s"] / out["hand_loop_epoch_s"] if out["valid"] else nan
    out["ratio_pipeline_vs_sklearn"] = out["pipeline_epoch_s"] / out["sklearn_epoch_s"] if out["valid"] else nan
    return out


# ----------------------------------------------------------------------------- 1b. seeds together


def bench_seeds_together(name: str, n_rows: int, hidden: str, epochs: int, reps: int, k: int = 5) -> dict[str, Any]:
    """Training K seeds as one vectorized model against training one of them."""
    from threadpoolctl import threadpool_limits

    from src.models import build_estimator
    from src.models.stacked_estimator import StackedMLPEstimator

    X, y, _, _ = _data(name, n_rows)
    cfg = config(
        f"model.hidden_sizes={hidden}",
        "optimizer=adam",
        "optimizer.batch_size=100",
        "trainer=cpu",
        f"trainer.max_epochs={epochs}",
        "trainer.progress_bar=false",
        "dataset=mnist1d",
    )
    n_classes = int(y.max()) + 1
    with threadpool_limits(None):  # one run takes 1 thread; the stacked model its own budget
        build_estimator(cfg, "multiclass", n_classes).fit(X[:300], y[:300])  # warm-up
        ones, togethers = [], []
        for _ in range(reps):  # alternating, as the per-epoch measurement does
            t_one, _ = median_time(lambda: build_estimator(cfg, "multiclass", n_classes).fit(X, y), 1)
            t_together, _ = median_time(
                lambda: StackedMLPEstimator(build_estimator(cfg, "multiclass", n_classes), list(range(k))).fit(
                    [X] * k, [y] * k
                ),
                1,
            )
            ones.append(t_one)
            togethers.append(t_together)
    one, together = statistics.median(ones), statistics.median(togethers)
    return {
        "dataset": name,
        "hidden_sizes": hidden,
        "k": k,
        "epochs": epochs,
        "one_s": one,
        "together_s": together,
        "ratio": together / one,
        "sequential_k_s": k * one,
    }


def bench_repeats_together(n_rows: int, epochs: int, reps: int, r: int = 5) -> dict[str, Any]:
    """mlp_plus at its defaults (K ensemble members, dropout, embeddings, restore-best)
    on mnist1d: R repeats trained together (`seeds=[0..R-1]`: R x K nets) against one.

    Both on one thread: the ratio is what stacking saves in per-kernel overhead.
    (The stacked model would otherwise take min(cores, R x K) threads, which on a
    machine that other work loads costs far more than it gains.)"""
    import torch
    from threadpoolctl import threadpool_limits

    from src.models import build_estimator
    from src.models.stacked_estimator import StackedMLPEstimator

    X_all, y_all, _, _ = _data("mnist1d", n_rows)
    n_train = int(min(n_rows, len(y_all)) * 0.8)  # the rest validates: restore-best needs a split
    X, y, X_val, y_val = X_all[:n_train], y_all[:n_train], X_all[n_train:n_rows], y_all[n_train:n_rows]
    cfg = config("model=mlp_plus", "trainer=cpu", f"trainer.max_epochs={epochs}", "trainer.progress_bar=false")
    n_classes = int(y_all.max()) + 1

    def one():
        return build_estimator(cfg, "multiclass", n_classes).fit(X, y, eval_set=(X_val, y_val))

    def together():
        template = build_estimator(cfg, "multiclass", n_classes).set_params(cpu_threads=None)  # keep 1 thread
        return StackedMLPEstimator(template, list(range(r))).fit([X] * r, [y] * r, [X_val] * r, [y_val] * r)

    threads = torch.get_num_threads()
    with threadpool_limits(1):
        torch.set_num_threads(1)
        try:
            one()  # warm-up
            ones, togethers = [], []
            for _ in range(reps):  # alternating, as the per-epoch measurement does
                ones.append(median_time(one, 1)[0])
                togethers.append(median_time(together, 1)[0])
        finally:
            torch.set_num_threads(threads)
    single, stacked = statistics.median(ones), statistics.median(togethers)
    return {
        "model": "mlp_plus",
        "members": int(cfg.model.ensemble_size),
        "r": r,
        "n_train": n_train,
        "epochs": epochs,
        "reps": reps,
        "threads": 1,
        "one_s": single,
        "together_s": stacked,
        "ratio": stacked / single,
    }
