"""The MLP as a scikit-learn estimator over a Lightning training loop.

`MLPEstimator` follows scikit-learn's rules (and passes its estimator checks,
tests/models/test_estimator_checks.py), so `clone`, `cross_val_score`,
`Pipeline` and `permutation_importance` take it as any scikit-learn model; it
keeps the runner's contract (src/models/contract.py). The task is given
(`task="regression" | "binary" | "multiclass"`) or, with `task="auto"`, read
from the targets; "regression" is a regressor, the others classifiers, which
take any labels (encoded in `fit`, `classes_` holds them).

`mlp_from_config` (src/models/deep_config.py) maps the Hydra config groups
(model, activation, loss, optimizer, trainer, seed) to these parameters; the
training itself lives in src/models/deep_core.py and src/models/epoch_loop.py
(one net) and src/models/ensemble.py (K nets averaged).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from torch import nn

from src.config import option
from src.config.models import MLPConfig
from src.config.training import ActivationConfig, LossConfig, OptimizerConfig, TrainerConfig
from src.data.types import Task
from src.models.activations import make_activation
from src.models.best_epoch import resolve_keep_epoch
from src.models.contract import EvalSet, split_eval_set, task_score
from src.models.deep_core import OptimizerSpec, make_trainer, run_fit, set_threads
from src.models.embeddings import make_embedding
from src.models.epoch_loop import EpochLoop
from src.models.heads import n_output_units, resolve_loss
from src.models.mlp import build_mlp, initialize

TASKS_FROM_TARGETS = {"continuous": Task.regression, "binary": Task.binary, "multiclass": Task.multiclass}
# The defaults are the config schemas' (src/config/), so a default is written once.
_MODEL, _ACTIVATION, _LOSS = MLPConfig(), ActivationConfig(), LossConfig()
_OPTIMIZER, _TRAINER = OptimizerConfig(), TrainerConfig()


def _classifies(estimator: MLPEstimator) -> bool:
    return getattr(estimator, "task_", estimator.task) != Task.regression


class MLPEstimator(BaseEstimator):
    """A multilayer perceptron trained with PyTorch Lightning.

    Network: `hidden_sizes` (() is a single neuron), `activation` (relu, tanh,
    sigmoid, leaky_relu with `negative_slope`, elu with `elu_alpha`, gelu,
    step), `dropout`, `batch_norm`, `init` (small, xavier, kaiming, torch),
    `embedding` of the inputs (none, periodic with `n_frequencies` and
    `frequency_sigma`, piecewise_linear with `n_bins`; `d_embedding` values
    per feature), `ensemble_size` (K nets trained together, predictions
    averaged: src/models/ensemble.py).
    Loss: `loss` ("auto" picks the task's: mse, bce or cross_entropy; also
    mae, huber with `huber_delta`), `label_smoothing` (classification; regression ignores it).
    Optimizer: `optimizer` (sgd, minibatch_sgd, batch_gd, momentum, nesterov, adagrad,
    rmsprop, adam, adamw), `lr`, `batch_size` (None: the whole training set),
    `weight_decay`, `momentum`, `nesterov`, `lr_decay` (per epoch), `schedule`
    (constant, cosine, one_cycle, per step) with `warmup_fraction`. Training:
    `max_epochs`, `early_stopping_patience` (on the validation loss; needs
    `eval_set`), `keep_epoch` (auto, last, best_val_loss, best_val_accuracy:
    restore-best; the kept epoch is `best_epoch_`), `seed` (initial weights,
    batch order, dropout), `classes` (the labels to expect; None: those in y),
    Lightning's `accelerator`, `devices`, `strategy`, `num_nodes`, `precision`,
    `deterministic`, plus `cpu_threads`, `progress_bar`, `log_grad_norms`,
    `checkpoint_every_n_epochs` with `checkpoint_dir`, `resume_from` (a checkpoint).
    """

    # Lightning callbacks run every epoch, e.g. a search's pruner (src/search/pruning.py); not a parameter.
    epoch_callbacks: tuple = ()

    def __init__(
        self,
        *,
        task: str = "auto",
        hidden_sizes: Sequence[int] = tuple(_MODEL.hidden_sizes),
        activation: str = "relu",
        negative_slope: float = _ACTIVATION.negative_slope,
        elu_alpha: float = _ACTIVATION.alpha,
        dropout: float = _MODEL.dropout,
        batch_norm: bool = _MODEL.batch_norm,
        init: str = _MODEL.init.value,
        embedding: str = _MODEL.embedding.value,
        n_frequencies: int = _MODEL.n_frequencies,
        frequency_sigma: float = _MODEL.frequency_sigma,
        d_embedding: int = _MODEL.d_embedding,
        n_bins: int = _MODEL.n_bins,
        ensemble_size: int = _MODEL.ensemble_size,
        loss: str = "auto",
        huber_delta: float = _LOSS.huber_delta,
        label_smoothing: float = _LOSS.label_smoothing,
        optimizer: str = "adam",
        lr: float = _OPTIMIZER.lr,
        batch_size: Optional[int] = _OPTIMIZER.batch_size,
        weight_decay: float = _OPTIMIZER.weight_decay,
        momentum: float = _OPTIMIZER.momentum,
        nesterov: bool = _OPTIMIZER.nesterov,
        lr_decay: float = _OPTIMIZER.lr_decay,
        schedule: str = _OPTIMIZER.schedule.value,
        warmup_fraction: float = _OPTIMIZER.warmup_fraction,
        max_epochs: int = _TRAINER.max_epochs,
        early_stopping_patience: Optional[int] = None,
        keep_epoch: str = "auto",
        seed: int = 0,
        classes: Optional[Sequence[Any]] = None,
        accelerator: str = "cpu",
        devices: Any = 1,
        strategy: str = "auto",
        num_nodes: int = 1,
        precision: str = "32-true",
        deterministic: bool = False,
        cpu_threads: Optional[int] = 1,
        progress_bar: Optional[bool] = False,
        log_grad_norms: bool = False,
        checkpoint_every_n_epochs: Optional[int] = None,
        checkpoint_dir: Optional[str] = None,
        resume_from: Optional[str] = None,
    ):
        self.task = task
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.negative_slope = negative_slope
        self.elu_alpha = elu_alpha
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.init = init
        self.embedding = embedding
        self.n_frequencies = n_frequencies
        self.frequency_sigma = frequency_sigma
        self.d_embedding = d_embedding
        self.n_bins = n_bins
        self.ensemble_size = ensemble_size
        self.loss = loss
        self.huber_delta = huber_delta
        self.label_smoothing = label_smoothing
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.nesterov = nesterov
        self.lr_decay = lr_decay
        self.schedule = schedule
        self.warmup_fraction = warmup_fraction
        self.max_epochs = max_epochs
        self.early_stopping_patience = early_stopping_patience
        self.keep_epoch = keep_epoch
        self.seed = seed
        self.classes = classes
        self.accelerator = accelerator
        self.devices = devices
        self.strategy = strategy
        self.num_nodes = num_nodes
        self.precision = precision
        self.deterministic = deterministic
        self.cpu_threads = cpu_threads
        self.progress_bar = progress_bar
        self.log_grad_norms = log_grad_norms
        self.checkpoint_every_n_epochs = checkpoint_every_n_epochs
        self.checkpoint_dir = checkpoint_dir
        self.resume_from = resume_from

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.task == Task.regression:
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        else:
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        tags.target_tags.required = True
        return tags

    # -- targets: the task, the loss and the classes are learned from y
    def learn_targets(self, y: Any) -> None:
        """Set `task_`, `loss_` and (classifiers) `classes_` from training targets."""
        y = column_or_1d(y)
        if self.task != "auto":
            task = Task(self.task)
        elif self.classes is not None:
            task = Task.binary if len(self.classes) == 2 else Task.multiclass
        else:
            kind = type_of_target(y)
            if kind not in TASKS_FROM_TARGETS:
                raise ValueError(f"cannot tell the task from targets of type '{kind}'; set task=")
            task = TASKS_FROM_TARGETS[kind]
        self.task_ = task
        self.loss_ = resolve_loss(self.loss, task)
        self.label_smoothing_ = self.label_smoothing if task.is_classification else 0.0
        if self.label_smoothing and not task.is_classification:  # so that one recipe serves every task
            warnings.warn(
                f"loss.label_smoothing={self.label_smoothing} applies to classification; this regression ignores it",
                stacklevel=2,
            )
        if task.is_classification:
            check_classification_targets(y)  # a continuous target is not a classifier's
            self.classes_ = np.unique(np.asarray(self.classes if self.classes is not None else y))
            if len(self.classes_) < 2:
                raise ValueError(f"a classifier needs at least 2 classes; y has one class only: {self.classes_[0]!r}")

    def target_tensor(self, y: Any) -> torch.Tensor:
        """Targets in the layout the loss expects: class indices for cross-entropy,
        a float column otherwise."""
        y = column_or_1d(y)
        if not self.task_.is_classification:
            return torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
        codes = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        if not np.array_equal(self.classes_[codes], y):
            raise ValueError(f"y holds labels outside classes {list(self.classes_)}")
        if self.loss_ == "cross_entropy":
            return torch.as_tensor(codes, dtype=torch.long)
        return torch.as_tensor(codes, dtype=torch.float32).reshape(-1, 1)

    # -- the network
    def activation_factory(self) -> Callable[[], nn.Module]:
        return lambda: make_activation(option(self.activation), self.negative_slope, self.elu_alpha)

    def network(self, X: np.ndarray, seed: int) -> nn.Sequential:
        """The untrained network for training rows X, its weights drawn from `seed`
        (after learn_targets). An embedding, if any, comes first (piecewise-linear
        bins are X's quantiles)."""
        n_classes = len(self.classes_) if self.task_.is_classification else 0
        generator = torch.Generator().manual_seed(seed)
        embedding = option(self.embedding)
        front: list[nn.Module] = []
        if embedding != "none":
            sizes = (self.n_frequencies, self.frequency_sigma, self.d_embedding, self.n_bins)
            front.append(make_embedding(embedding, X, generator, *sizes))
        net = build_mlp(
            X.shape[1] * (self.d_embedding if front else 1),
            list(self.hidden_sizes),
            n_output_units(self.loss_, self.task_, n_classes),
            self.activation_factory(),
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )
        initialize(net, option(self.init), generator)
        return nn.Sequential(*front, *net)

    def optimizer_spec(self) -> OptimizerSpec:
        return OptimizerSpec(
            option(self.optimizer),
            self.lr,
            self.weight_decay,
            self.momentum,
            self.nesterov,
            self.lr_decay,
            option(self.schedule),
            self.warmup_fraction,
        )

    def keep_criterion(self, has_val: bool) -> Optional[str]:
        """Restore-best's criterion (None: the last epoch is kept), after learn_targets."""
        early_stopping = self.early_stopping_patience is not None
        return resolve_keep_epoch(option(self.keep_epoch), early_stopping, self.task_.is_classification, has_val)

    def _trainer(self, has_val: bool):
        import pytorch_lightning as pl

        callbacks: list[pl.Callback] = []
        if self.early_stopping_patience is not None:
            from pytorch_lightning.callbacks import EarlyStopping

            callbacks.append(EarlyStopping("val_loss", patience=self.early_stopping_patience, mode="min"))
        callbacks.extend(self.epoch_callbacks)
        if self.checkpoint_every_n_epochs and self.checkpoint_dir:
            from pytorch_lightning.callbacks import ModelCheckpoint

            # save_top_k=1 without a monitor keeps the latest epoch; save_last adds last.ckpt.
            callbacks.append(
                ModelCheckpoint(
                    dirpath=self.checkpoint_dir,
                    filename="latest",
                    save_last=True,
                    save_top_k=1,
                    every_n_epochs=self.checkpoint_every_n_epochs,
                    save_on_train_epoch_end=True,
                )
            )
        return make_trainer(
            accelerator=self.accelerator,
            devices=self.devices,
            strategy=self.strategy,
            num_nodes=self.num_nodes,
            precision=self.precision,
            max_epochs=self.max_epochs,
            deterministic=self.deterministic,
            progress_bar=self.progress_bar,
            has_val=has_val,
            callbacks=callbacks,
        )

    def fit(self, X: Any, y: Any, *, eval_set: EvalSet = None) -> MLPEstimator:
        """Train on (X, y); the validation split `eval_set` (X_val, y_val), when
        given, is scored every epoch (val_loss, val_accuracy in `history_`)
        and drives early stopping and restore-best."""
        self.history_: list[dict[str, float]] = []  # the epochs so far, kept when training fails
        self.best_iteration_: Optional[int] = None  # no boosting rounds
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=self.task == Task.regression)
        X_val, y_val = split_eval_set(eval_set)
        self.learn_targets(y)
        if self.ensemble_size != 1:
            from src.models.ensemble import check_ensemble

            check_ensemble(self)
        has_val = X_val is not None
        if self.early_stopping_patience is not None and not has_val:
            raise ValueError("early_stopping_patience needs a validation split: pass eval_set=(X_val, y_val)")
        val = None
        if has_val:
            X_val = validate_data(self, X_val, dtype=np.float32, reset=False)
            val = (torch.as_tensor(X_val), self.target_tensor(y_val))
        set_threads(self.cpu_threads)
        torch.manual_seed(self.seed)  # dropout draws from the global generator
        if self.ensemble_size > 1:
            from src.models.ensemble import fit_ensemble

            fit_ensemble(self, X, y, val)
            return self
        net = self.network(X, self.seed)
        loop = EpochLoop(
            net,
            self.loss_,
            self.optimizer_spec(),
            (torch.as_tensor(X), self.target_tensor(y)),
            val,
            seed=self.seed,
            batch_size=self.batch_size,
            huber_delta=self.huber_delta,
            monitor_val_loss=self.early_stopping_patience is not None,
            log_grad_norms=self.log_grad_norms,
            label_smoothing=self.label_smoothing_,
            keep_epoch=self.keep_criterion(has_val),
        )
        try:
            run_fit(self._trainer(has_val), loop, has_val, ckpt_path=self.resume_from)
        finally:
            self.history_ = loop.history  # kept when training fails: the epochs so far are logged
        kept = loop.restore_best()
        self.best_epoch_ = kept[0] if kept else None
        self.net_ = net.eval()
        self.device_ = loop.device  # where the fitted net lives now (predictions run there)
        self.train_device_ = getattr(loop, "train_device", loop.device)
        self.n_params_ = sum(p.numel() for p in net.parameters())
        self.epochs_trained_ = len(loop.history)
        return self

    def _outputs(self, X: Any) -> torch.Tensor:
        check_is_fitted(self, "net_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        with torch.inference_mode():
            inputs = torch.as_tensor(X, device=self.device_)
            chunks = [self.net_(chunk) for chunk in torch.split(inputs, 65536)]
            return torch.cat(chunks).float().cpu()

    @available_if(_classifies)
    def decision_function(self, X: Any) -> np.ndarray:
        """Logits as scikit-learn lays them out: (n,) for 2 classes (> 0: the second), else (n, classes)."""
        out = self._outputs(X)
        if len(self.classes_) > 2:
            return out.numpy()
        return (out[:, 0] if out.shape[1] == 1 else out[:, 1] - out[:, 0]).numpy()

    @available_if(_classifies)
    def predict_proba(self, X: Any) -> np.ndarray:
        out = self._outputs(X)
        if out.shape[1] == 1:
            p = torch.sigmoid(out[:, 0])
            return torch.stack([1 - p, p], dim=1).numpy()
        return torch.softmax(out, dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        out = self._outputs(X)
        if not self.task_.is_classification:
            return out[:, 0].numpy().astype(np.float64)
        codes = (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(1)
        return self.classes_[codes.numpy()]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return task_score(self.task_.is_classification, y, self.predict(X), sample_weight)

    def learned_weights(self) -> Optional[dict[str, float]]:
        """w_1..w_n and b of a single neuron (no hidden layer), as the slides write them."""
        if len(self.hidden_sizes) or not isinstance(self.net_, nn.Sequential):
            return None
        layer = self.net_[0]
        if not isinstance(layer, nn.Linear) or layer.weight.shape[0] != 1:
            return None
        weights = {f"weight_{i + 1}": float(w) for i, w in enumerate(layer.weight[0].detach().tolist())}
        weights["bias"] = float(layer.bias.detach()[0])
        return weights
