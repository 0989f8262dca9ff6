"""Seeds trained together equal the single runs with those seeds."""

import numpy as np
import pytest
import torch

from src.models import build_estimator
from src.models.contract import Estimator
from src.models.stacked_estimator import StackedMLPEstimator
from tests.conftest import make_spec

SEEDS = [0, 1, 2]


def _data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(240, 6)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(np.int64) + (X[:, 3] > 1)
    return X, y


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_replicas_match_single_runs(optimizer):
    cfg = make_spec(
        "dataset=digits",
        "model.hidden_sizes=[16,8]",
        f"optimizer={optimizer}",
        "optimizer.batch_size=32",
        "trainer=cpu",
        "trainer.max_epochs=3",
    )
    data = [_data(s) for s in SEEDS]  # each replica its own training rows, as its own split would give
    template = build_estimator(cfg, "multiclass", 3)
    before = template.get_params()
    stacked = StackedMLPEstimator(template, SEEDS).fit([X for X, _ in data], [y for _, y in data])
    assert template.get_params() == before and not hasattr(template, "net_")  # the template is not changed
    for k, seed in enumerate(SEEDS):
        cfg = cfg.for_seed(seed)
        single = build_estimator(cfg, "multiclass", 3).fit(*data[k])
        replica = stacked.replica(k)
        assert replica.get_params() == single.get_params()
        # What the runner reads of a single run's estimator, a replica has too (seeds=[...] runs).
        contract = ("history_", "n_params_", "best_iteration_", "best_epoch_", "epochs_trained_", "train_device_")
        assert isinstance(replica, Estimator) and {a: getattr(replica, a) is None for a in contract} == {
            a: getattr(single, a) is None for a in contract
        }
        assert replica.history_[0]["train_loss"] == pytest.approx(single.history_[0]["train_loss"], abs=1e-4)
        for ours, reference in zip(replica.net_.parameters(), single.net_.parameters()):
            assert torch.allclose(ours, reference, atol=1e-4)
        X, y = data[k]
        assert np.mean(replica.predict(X) == single.predict(X)) > 0.99


@pytest.mark.parametrize(
    "params",
    [
        dict(dropout=0.2),  # plain MLPs with dropout
        dict(dropout=0.2, embedding="periodic", d_embedding=3, ensemble_size=3, keep_epoch="best_val_accuracy"),
    ],
    ids=["dropout", "ensembles"],
)
def test_replicas_with_dropout_and_ensembles_are_their_single_runs(params):
    """Each replica draws its dropout masks from its own generator, started
    where its single run's global generator stands; an ensemble replica is
    its K members, restored to its own best epoch."""
    from src.models.deep import MLPEstimator

    common = dict(hidden_sizes=(16,), max_epochs=3, lr=0.01, batch_size=32, **params)
    data, val = [_data(s) for s in SEEDS], [_data(10 + s) for s in SEEDS]
    stacked = StackedMLPEstimator(MLPEstimator(**common), SEEDS).fit(
        [X for X, _ in data], [y for _, y in data], [X for X, _ in val], [y for _, y in val]
    )
    for k, seed in enumerate(SEEDS):
        single = MLPEstimator(seed=seed, **common).fit(*data[k], eval_set=val[k])
        replica = stacked.replica(k)
        ours, reference = (
            [row[m] for row in e.history_ for m in ("train_loss", "val_loss")] for e in (replica, single)
        )
        assert ours == pytest.approx(reference, rel=0, abs=1e-6)
        assert replica.best_epoch_ == single.best_epoch_ and replica.n_params_ == single.n_params_
        np.testing.assert_allclose(replica.predict_proba(val[k][0]), single.predict_proba(val[k][0]), atol=1e-5)


@pytest.mark.parametrize(
    "params",
    [
        dict(dropout=0.2),  # restore-best on the validation loss, as early stopping's default
        dict(keep_epoch="last"),  # a stopped replica keeps the weights of the epoch it stopped after
        dict(dropout=0.2, ensemble_size=3),
    ],
    ids=["best", "last", "ensembles"],
)
def test_each_replica_stops_early_on_its_own_as_its_single_run(params):
    """Per-replica early stopping: a replica that stops keeps its epochs and its
    best (or last) weights while the others train on; training ends when all have stopped."""
    from src.models.deep import MLPEstimator

    common = dict(hidden_sizes=(16,), max_epochs=12, lr=0.05, batch_size=32, early_stopping_patience=1, **params)
    data, val = [_data(s) for s in SEEDS], [_data(10 + s) for s in SEEDS]
    stacked = StackedMLPEstimator(MLPEstimator(**common), SEEDS).fit(
        [X for X, _ in data], [y for _, y in data], [X for X, _ in val], [y for _, y in val]
    )
    stopped = []
    for k, seed in enumerate(SEEDS):
        single = MLPEstimator(seed=seed, **common).fit(*data[k], eval_set=val[k])
        replica = stacked.replica(k)
        assert (replica.epochs_trained_, replica.best_epoch_) == (single.epochs_trained_, single.best_epoch_)
        ours, reference = ([row["val_loss"] for row in e.history_] for e in (replica, single))
        assert ours == pytest.approx(reference, rel=0, abs=1e-6)
        np.testing.assert_allclose(replica.predict_proba(val[k][0]), single.predict_proba(val[k][0]), atol=1e-5)
        stopped.append(single.epochs_trained_)
    assert len(set(stopped)) > 1 and min(stopped) < common["max_epochs"]  # one stopped while others trained on
