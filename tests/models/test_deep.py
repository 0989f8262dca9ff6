"""The MLP estimator: pipeline path equals a hand-written loop; gradient norms."""

import numpy as np
import torch

from src.models import build_estimator
from src.models.mlp import initialize
from tests.conftest import make_spec


def _data(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(np.int64)
    return X, y


def test_pipeline_training_matches_a_hand_written_loop():
    """Same init, same batch order, same optimizer: same weights after 3 epochs."""
    X, y = _data()
    cfg = make_spec(
        "model.hidden_sizes=[16]",
        "optimizer=adam",
        "optimizer.batch_size=32",
        "trainer=cpu",
        "trainer.max_epochs=3",
        "seed=7",
        "dataset=workshop_circles",
    )
    estimator = build_estimator(cfg, "binary", 2).fit(X, y)

    torch.manual_seed(7)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    initialize(net, "xavier", torch.Generator().manual_seed(7))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    shuffle = torch.Generator().manual_seed(7)
    X_t, y_t = torch.tensor(X), torch.tensor(y, dtype=torch.float32)[:, None]
    for _ in range(3):
        order = torch.randperm(len(y), generator=shuffle)
        for start in range(0, len(y), 32):
            rows = order[start : start + 32]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(X_t[rows]), y_t[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for ours, reference in zip(estimator.net_.parameters(), net.parameters()):
        assert torch.allclose(ours, reference, atol=1e-5)
    assert len(estimator.history_) == 3


def test_gradient_norms_are_logged_per_layer_and_vanish_with_deep_sigmoid_nets():
    X, y = _data()
    cfg = make_spec(
        "model.hidden_sizes=[16,16,16,16,16,16,16,16]",
        "activation=sigmoid",
        "trainer=cpu",
        "trainer.max_epochs=2",
        "trainer.log_grad_norms=true",
        "dataset=workshop_circles",
    )
    history = build_estimator(cfg, "binary", 2).fit(X, y).history_
    norms = [history[0][f"grad_norm_layer_{i}"] for i in range(1, 10)]
    assert all(n > 0 for n in norms)
    assert norms[0] < norms[-1] / 10  # the first layer's gradient has all but vanished
