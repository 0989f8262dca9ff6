"""The modern-MLP ingredients (issue 15): restore-best, the learning-rate
schedule, label smoothing, numeric embeddings, the K-member ensemble, and
model=mlp_plus composed from them."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone

from src.errors import ConfigError
from src.models.deep import MLPEstimator
from src.models.deep_core import loss_function
from src.models.direct_step import DirectStep
from src.models.embeddings import PeriodicEmbedding, PiecewiseLinearEmbedding
from src.models.ensemble import member_seeds
from src.models.schedule import lr_factor
from src.models.stacked import StackedMLP


def _blobs(n, seed, flip=False):
    """Three classes from the first two features; `flip` relabels them (a validation
    set that training on the other labels can only get worse at)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    return X, (2 - y if flip else y)


# ------------------------------------------------------------------ restore-best


@pytest.mark.parametrize("ensemble_size", [1, 3])
def test_restore_best_keeps_the_best_validation_epoch_not_the_last(ensemble_size):
    (X, y), (X_val, y_val) = _blobs(300, 0), _blobs(200, 1, flip=True)
    params = dict(hidden_sizes=(16,), lr=0.01, batch_size=32, ensemble_size=ensemble_size, seed=3)
    kept = MLPEstimator(max_epochs=12, keep_epoch="best_val_loss", **params).fit(X, y, eval_set=(X_val, y_val))
    val_losses = [row["val_loss"] for row in kept.history_]
    assert kept.best_epoch_ == int(np.argmin(val_losses)) < kept.epochs_trained_ - 1
    assert val_losses[-1] > min(val_losses)  # the last epoch is worse than the best
    # The same training stopped right after the best epoch predicts exactly what the kept model does.
    short = MLPEstimator(max_epochs=kept.best_epoch_ + 1, keep_epoch="last", **params).fit(
        X, y, eval_set=(X_val, y_val)
    )
    assert short.best_epoch_ is None
    np.testing.assert_allclose(kept.predict_proba(X_val), short.predict_proba(X_val), atol=1e-6)
    last = MLPEstimator(max_epochs=12, keep_epoch="last", **params).fit(X, y, eval_set=(X_val, y_val))
    assert not np.allclose(kept.predict_proba(X_val), last.predict_proba(X_val), atol=1e-3)


def test_restore_best_by_accuracy_and_its_default_with_early_stopping():
    (X, y), (X_val, y_val) = _blobs(300, 0), _blobs(200, 1, flip=True)
    by_accuracy = MLPEstimator(hidden_sizes=(16,), lr=0.01, max_epochs=10, keep_epoch="best_val_accuracy")
    by_accuracy.fit(X, y, eval_set=(X_val, y_val))
    history = by_accuracy.history_
    best = max(range(len(history)), key=lambda e: (history[e]["val_accuracy"], -history[e]["val_loss"]))
    assert by_accuracy.best_epoch_ == best
    assert by_accuracy.score(X_val, y_val) == pytest.approx(history[best]["val_accuracy"])
    # auto: with early stopping on, the epoch of the lowest validation loss; off, the last epoch
    stopped = MLPEstimator(hidden_sizes=(16,), lr=0.01, early_stopping_patience=3).fit(X, y, eval_set=(X_val, y_val))
    losses = [row["val_loss"] for row in stopped.history_]
    assert stopped.best_epoch_ == int(np.argmin(losses)) == stopped.epochs_trained_ - 1 - 3
    assert MLPEstimator(max_epochs=2).fit(X, y, eval_set=(X_val, y_val)).best_epoch_ is None
    with pytest.raises(ConfigError, match="validation split"):
        MLPEstimator(max_epochs=2, keep_epoch="best_val_loss").fit(X, y)
    # Regression has no accuracy: best_val_accuracy keeps the epoch of the lowest validation loss there.
    regression = MLPEstimator(task="regression", lr=0.05, max_epochs=8, keep_epoch="best_val_accuracy")
    regression.fit(X, X[:, 0], eval_set=(X_val, -X_val[:, 0]))
    assert regression.best_epoch_ == int(np.argmin([row["val_loss"] for row in regression.history_]))


# ------------------------------------------------------------------ schedule


def test_schedules_shape():
    total = 100
    cosine = [lr_factor(s, total, "cosine", 0.1) for s in range(total)]
    assert cosine[0] == pytest.approx(0.1) and cosine[9] == pytest.approx(1.0)  # linear warm-up over 10 steps
    assert all(a >= b for a, b in zip(cosine[9:], cosine[10:])) and cosine[-1] < 1e-3
    one_cycle = [lr_factor(s, total, "one_cycle", 0.3) for s in range(total)]
    assert one_cycle[0] == pytest.approx(1 / 25) and max(one_cycle) == pytest.approx(1.0, abs=1e-3)
    assert one_cycle[-1] < 1e-3
    assert {lr_factor(s, total, "constant", 0.3) for s in range(total)} == {1.0}


@pytest.mark.parametrize("schedule", ["cosine", "one_cycle"])
def test_the_schedule_sets_every_steps_learning_rate_on_the_fast_path(monkeypatch, schedule):
    seen = []
    original = DirectStep.__call__

    def spy(self, grads):
        seen.append(self.optimizer.param_groups[0]["lr"])
        return original(self, grads)

    monkeypatch.setattr(DirectStep, "__call__", spy)
    X, y = _blobs(100, 0)
    epochs, lr = 4, 0.01
    fitted = MLPEstimator(hidden_sizes=(8,), lr=lr, lr_decay=0.5, batch_size=32, max_epochs=epochs, schedule=schedule)
    fitted.fit(X, y)
    steps = math.ceil(100 / 32)
    expected = [lr * 0.5 ** (s // steps) * lr_factor(s, epochs * steps, schedule, 0.05) for s in range(epochs * steps)]
    assert seen == pytest.approx(expected)


def test_the_schedule_is_the_same_through_lightnings_optimizer(tmp_path):
    """A checkpointed run steps through Lightning's optimizer wrapper, not the fast path."""
    (X, y), (X_val, y_val) = _blobs(100, 0), _blobs(50, 1)
    params = dict(hidden_sizes=(8,), lr=0.02, batch_size=32, max_epochs=3, schedule="cosine", warmup_fraction=0.3)
    fast = MLPEstimator(**params).fit(X, y, eval_set=(X_val, y_val))
    wrapped = MLPEstimator(checkpoint_every_n_epochs=1, checkpoint_dir=str(tmp_path), **params).fit(
        X, y, eval_set=(X_val, y_val)
    )
    np.testing.assert_allclose(fast.predict_proba(X_val), wrapped.predict_proba(X_val), atol=1e-5)
    constant = MLPEstimator(**{**params, "schedule": "constant"}).fit(X, y, eval_set=(X_val, y_val))
    assert not np.allclose(fast.predict_proba(X_val), constant.predict_proba(X_val), atol=1e-3)


# ------------------------------------------------------------------ label smoothing


def test_label_smoothing_changes_the_training_loss_not_the_validation_loss():
    out, y = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])
    smoothed = loss_function("cross_entropy", label_smoothing=0.3)(out, y)
    log_p = torch.log_softmax(out, 1)[0]
    assert smoothed == pytest.approx(float(-(0.8 * log_p[0] + 0.1 * log_p[1] + 0.1 * log_p[2])))
    bce = loss_function("bce", label_smoothing=0.2)(torch.tensor([[1.0]]), torch.tensor([[1.0]]))
    p = torch.sigmoid(torch.tensor(1.0))
    assert bce == pytest.approx(float(-(0.9 * torch.log(p) + 0.1 * torch.log(1 - p))))
    (X, y), (X_val, y_val) = _blobs(200, 0), _blobs(100, 1)
    plain = MLPEstimator(max_epochs=1).fit(X, y, eval_set=(X_val, y_val)).history_[0]
    smooth = MLPEstimator(max_epochs=1, label_smoothing=0.1).fit(X, y, eval_set=(X_val, y_val)).history_[0]
    assert smooth["train_loss"] != pytest.approx(plain["train_loss"], abs=1e-3)
    with pytest.warns(UserWarning, match="ignores it"):  # one recipe serves every task
        regression = MLPEstimator(task="regression", label_smoothing=0.1, max_epochs=1).fit(X, X[:, 0])
    reference = MLPEstimator(task="regression", max_epochs=1).fit(X, X[:, 0])
    assert regression.history_[0]["train_loss"] == reference.history_[0]["train_loss"]


# ------------------------------------------------------------------ embeddings


def test_embedding_shapes_and_stacked_members():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(5, 3)
    periodic = [PeriodicEmbedding.create(3, 4, 0.1, 6, generator) for _ in range(2)]
    assert periodic[0](X).shape == (5, 3 * 6)
    stacked = PeriodicEmbedding.stacked(periodic)
    out = stacked(torch.stack([X, 2 * X]))
    assert out.shape == (2, 5, 18)
    assert torch.allclose(out[1], periodic[1](2 * X), atol=1e-6)
    assert torch.allclose(stacked.member(1)(X), periodic[1](X))
    train = np.linspace(0, 4, 41, dtype=np.float32)[:, None]
    ple = PiecewiseLinearEmbedding.create(train, n_bins=4, d_embedding=2, generator=generator)
    assert ple(torch.zeros(7, 1)).shape == (7, 2)
    ple.weight.data, ple.bias.data = torch.eye(4)[None], torch.zeros(1, 4)  # the encoding itself: bin t -> output t
    encoded = PiecewiseLinearEmbedding(dict(ple.named_parameters()), dict(ple.named_buffers()))(
        torch.tensor([[2.5], [-1.0], [9.0]])
    )
    # Quantile edges 0, 1, 2, 3, 4; the first bin is open below, the last open above (ReLU follows).
    assert encoded.tolist() == [[1.0, 1.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 6.0]]


@pytest.mark.parametrize("embedding", ["periodic", "piecewise_linear"])
def test_an_mlp_with_embeddings_learns(embedding):
    (X, y), (X_val, y_val) = _blobs(300, 0), _blobs(200, 1)
    fitted = MLPEstimator(embedding=embedding, d_embedding=4, max_epochs=15, lr=0.01).fit(X, y)
    assert isinstance(fitted.net_[0], (PeriodicEmbedding, PiecewiseLinearEmbedding))
    assert fitted.score(X_val, y_val) > 0.8


# ------------------------------------------------------------------ ensemble


@pytest.mark.parametrize("embedding", ["none", "periodic"])
def test_an_ensemble_averages_members_equal_to_separately_trained_nets(embedding):
    (X, y), (X_val, y_val) = _blobs(200, 0), _blobs(100, 1)
    params = dict(hidden_sizes=(16,), embedding=embedding, d_embedding=4, batch_size=32, max_epochs=4, lr=0.01)
    k, seed = 3, 5
    ensemble = MLPEstimator(ensemble_size=k, seed=seed, **params).fit(X, y, eval_set=(X_val, y_val))
    assert isinstance(ensemble.net_.members, StackedMLP)
    singles = [MLPEstimator(seed=s, **params).fit(X, y, eval_set=(X_val, y_val)) for s in member_seeds(seed, k)]
    mean_proba = np.mean([single.predict_proba(X_val) for single in singles], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(X_val), mean_proba, atol=1e-5)
    assert ensemble.n_params_ == sum(single.n_params_ for single in singles)
    mean_loss = np.mean([single.history_[-1]["train_loss"] for single in singles])
    assert ensemble.history_[-1]["train_loss"] == pytest.approx(mean_loss, abs=1e-5)
    assert ensemble.history_[-1]["val_accuracy"] == pytest.approx(ensemble.score(X_val, y_val))


def test_ensemble_regression_and_binary_average_their_members():
    X, _ = _blobs(120, 0)
    target = X[:, 0] - X[:, 1]
    params = dict(hidden_sizes=(8,), max_epochs=2, seed=1)
    regression = MLPEstimator(task="regression", ensemble_size=2, **params).fit(X, target)
    singles = [MLPEstimator(task="regression", **{**params, "seed": s}).fit(X, target) for s in member_seeds(1, 2)]
    np.testing.assert_allclose(regression.predict(X), np.mean([s.predict(X) for s in singles], 0), atol=1e-5)
    labels = target > 0
    binary = MLPEstimator(task="binary", ensemble_size=2, **params).fit(X, labels)
    singles = [MLPEstimator(task="binary", **{**params, "seed": s}).fit(X, labels) for s in member_seeds(1, 2)]
    mean_proba = np.mean([s.predict_proba(X) for s in singles], 0)
    np.testing.assert_allclose(binary.predict_proba(X), mean_proba, atol=1e-5)
    with pytest.raises(ConfigError, match="one device"):
        MLPEstimator(ensemble_size=2, devices=2, max_epochs=1).fit(X, labels)


# ------------------------------------------------------------------ the estimator and the config


def test_clone_keeps_the_new_parameters():
    estimator = MLPEstimator(
        embedding="piecewise_linear",
        n_bins=7,
        d_embedding=3,
        n_frequencies=5,
        frequency_sigma=0.2,
        ensemble_size=3,
        label_smoothing=0.05,
        schedule="one_cycle",
        warmup_fraction=0.3,
        keep_epoch="best_val_accuracy",
        init="torch",
    )
    assert clone(estimator).get_params() == estimator.get_params()


def test_mlp_plus_composes_its_recipe_into_the_shared_groups():
    from src.models import build_estimator, model_family
    from tests.conftest import make_spec

    cfg = make_spec("model=mlp_plus", "dataset=iris")
    assert model_family(cfg.model) == "deep"
    params = build_estimator(cfg, "multiclass", 3).get_params()
    expected = dict(hidden_sizes=(512,), embedding="periodic", ensemble_size=4, optimizer="adamw", lr=0.002)
    expected |= dict(weight_decay=0.0003, batch_size=128, schedule="cosine", label_smoothing=0.1, max_epochs=50)
    assert {key: params[key] for key in expected} == expected
    assert params["keep_epoch"] == "best_val_accuracy" and params["dropout"] == 0.1
    # The command line still wins over the recipe, and model=mlp keeps its own defaults.
    cfg = make_spec("model=mlp_plus", "optimizer.lr=0.01", "trainer.max_epochs=3", "optimizer=adam")
    params = build_estimator(cfg, "multiclass", 3).get_params()
    assert (params["lr"], params["max_epochs"], params["optimizer"]) == (0.01, 3, "adam")
    params = build_estimator(make_spec("model=mlp"), "multiclass", 3).get_params()
    assert (params["ensemble_size"], params["schedule"], params["label_smoothing"]) == (1, "constant", 0.0)


def test_mlp_plus_trains_through_the_cli_and_logs_the_recipe_it_used(mlflow_client):
    from tests.conftest import run_cli, runs_of

    done = run_cli("model=mlp_plus", "dataset=iris", "trainer.max_epochs=3", "model.hidden_sizes=[16]")
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = runs_of(mlflow_client)
    assert run.info.status == "FINISHED"
    logged = run.data.params
    assert logged["optimizer.schedule"] == "cosine" and logged["loss.label_smoothing"] == "0.1"
    assert logged["optimizer.lr"] == "0.002" and logged["model.ensemble_size"] == "4"
    assert logged["trainer.keep_epoch"] == "best_val_accuracy"


def test_mlp_plus_recipe_also_does_regression():
    """Label smoothing and accuracy have no meaning there: the recipe falls back, it does not fail."""
    from src.models import build_estimator
    from tests.conftest import make_spec

    cfg = make_spec("model=mlp_plus", "model.hidden_sizes=[8]", "trainer.max_epochs=2")
    estimator = build_estimator(cfg, "regression", 0)
    (X, _), (X_val, _) = _blobs(150, 0), _blobs(50, 1)
    with pytest.warns(UserWarning, match="label_smoothing"):
        estimator.fit(X, X[:, 0], eval_set=(X_val, X_val[:, 0]))
    assert estimator.best_epoch_ == int(np.argmin([row["val_loss"] for row in estimator.history_]))


def test_seeds_trained_together_with_an_embedding_match_single_runs():
    from src.models.stacked_estimator import StackedMLPEstimator

    params = dict(hidden_sizes=(8,), embedding="piecewise_linear", n_bins=5, d_embedding=3, max_epochs=3, lr=0.01)
    data = [_blobs(120, s) for s in (0, 1)]  # each replica its own rows, so its own bins
    stacked = StackedMLPEstimator(MLPEstimator(**params), [0, 1]).fit([X for X, _ in data], [y for _, y in data])
    for k, (X, y) in enumerate(data):
        single = MLPEstimator(seed=k, **params).fit(X, y)
        np.testing.assert_allclose(stacked.replica(k).predict_proba(X), single.predict_proba(X), atol=1e-5)
