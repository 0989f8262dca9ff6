"""`seeds=[...]`: one configuration trained for R seeds at once, as one
vectorized model (src/models/stacked.py); `replica(k)` is the fitted
MLPEstimator a single run with that seed would give, up to float rounding.
With model.ensemble_size=K (mlp_plus) that is R x K nets: each replica an
ensemble of K members, as its single run's (src/models/ensemble.py).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from src.errors import ConfigError
from src.models.deep import MLPEstimator
from src.models.deep_core import make_trainer, run_fit, set_threads
from src.models.ensemble import AveragedEnsemble, EnsembleEpochLoop, check_ensemble, member_seeds
from src.models.stacked import StackedEpochLoop, StackedMLP


class StackedMLPEstimator:
    """Fits one MLP (or ensemble of MLPs) per seed at once; `replica(k)` is a fitted MLPEstimator.

    `template` gives every parameter but the seed; it is not changed."""

    def __init__(self, template: MLPEstimator, seeds: Sequence[int]):
        if template.batch_norm:
            raise ConfigError("seeds=[...] trains replicas together without batch norm; set model.batch_norm=false")
        if template.ensemble_size != 1:
            check_ensemble(template)
        self.template = template
        self.seeds = list(seeds)

    def fit(self, Xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], X_vals=None, y_vals=None) -> StackedMLPEstimator:
        from sklearn.base import clone

        t = self.template
        k = t.ensemble_size
        # The job's thread budget, as a single run and a classical model get: fit times stay comparable.
        set_threads(t.cpu_threads)
        # The task, loss and classes, learned once from all replicas' targets so that they agree.
        targets = clone(t)
        targets.learn_targets(np.concatenate([np.asarray(y) for y in ys]))
        n_features = np.shape(Xs[0])[1]
        # Each replica starts exactly where a single run with its seed starts, its members too.
        X = torch.as_tensor(np.stack(Xs), dtype=torch.float32)
        net_seeds = [s for seed in self.seeds for s in member_seeds(seed, k)]
        nets, dropout_states = [], []
        for r, seed in enumerate(self.seeds):
            # As its single run: the global generator seeded, advanced by building the nets, then drawn by dropout.
            torch.manual_seed(seed)
            nets += [targets.network(X[r].numpy(), s) for s in member_seeds(seed, k)]
            dropout_states.append(torch.get_rng_state())
        net = StackedMLP(nets, dropout_states=dropout_states, members=k)
        y = torch.stack([targets.target_tensor(v) for v in ys])
        has_val = X_vals is not None and len(X_vals[0]) > 0
        if t.early_stopping_patience is not None and not has_val:
            raise ValueError("early_stopping_patience needs a validation split: pass X_vals and y_vals")
        val = None
        if has_val:
            X_val = torch.as_tensor(np.stack(X_vals), dtype=torch.float32)
            val = (X_val, torch.stack([targets.target_tensor(v) for v in y_vals]))
        # A plain replica validates its one net; an ensemble its members' averaged output.
        loop = (EnsembleEpochLoop if k > 1 else StackedEpochLoop)(
            net,
            targets.loss_,
            t.huber_delta,
            t.optimizer_spec(),
            (X, y),
            val,
            net_seeds,
            t.batch_size,
            label_smoothing=targets.label_smoothing_,
            keep_epoch=targets.keep_criterion(has_val),
            members=k,
            patience=t.early_stopping_patience,
        )
        trainer = make_trainer(
            accelerator=t.accelerator,
            precision=t.precision,
            max_epochs=t.max_epochs,
            deterministic=t.deterministic,
            progress_bar=t.progress_bar,
            has_val=has_val,
        )
        try:
            run_fit(trainer, loop, has_val)
        finally:
            self.histories_ = loop.histories
        self.best_epochs_ = loop.restore_best()  # one per replica; None: the last epochs are kept
        self.targets_ = targets
        self.n_features_in_ = n_features
        self.net_ = net
        self.device_ = loop.device
        self.train_device_ = getattr(loop, "train_device", loop.device)
        return self

    def replica(self, k: int) -> MLPEstimator:  # k: the replica's index in `seeds`
        """Replica k as an ordinary fitted MLPEstimator (the template with its seed)."""
        from sklearn.base import clone

        single = clone(self.template).set_params(seed=self.seeds[k])
        for learned in ("task_", "loss_", "classes_"):
            if hasattr(self.targets_, learned):
                setattr(single, learned, getattr(self.targets_, learned))
        single.n_features_in_ = self.n_features_in_
        m = self.template.ensemble_size
        if m == 1:
            single.net_ = self.net_.replica(k).to(self.device_)
        else:  # its members, restacked as its single run's ensemble
            members = StackedMLP([self.net_.replica(i) for i in range(k * m, (k + 1) * m)])
            single.net_ = AveragedEnsemble(members, single.loss_, m).to(self.device_).eval()
        single.device_ = self.device_
        single.train_device_ = self.train_device_
        single.history_ = self.histories_[k]
        single.epochs_trained_ = len(self.histories_[k])
        single.best_epoch_ = self.best_epochs_[k] if self.best_epochs_ else None
        single.best_iteration_ = None  # the contract's (src/models/contract.py): no boosting rounds
        single.n_params_ = sum(p[k * m : (k + 1) * m].numel() for p in self.net_.parameters())
        return single
