"""Every option of every config group composes into the typed schema and instantiates."""

import pytest
import torch
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from src.config import check_schema, option
from src.config.dataset import DATASET_SCHEMAS
from src.data import load_dataset
from src.data.catalogue import check_dataset_config
from src.errors import ConfigError, one_line
from src.models.activations import make_activation
from src.models.deep_core import loss_function, make_optimizer
from src.models.heads import LOSSES_FOR_TASK
from src.models.registry import REGISTRY
from tests.conftest import CONF_DIR, make_config


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def test_every_group_has_options():
    for group in ("dataset", "model", "activation", "loss", "optimizer", "trainer", "tracking", "experiment"):
        assert options(group), group


@pytest.mark.parametrize("name", options("dataset"))
def test_dataset_options_compose_and_load(name):
    cfg = make_config(f"dataset={name}")
    assert OmegaConf.get_type(cfg.dataset) in DATASET_SCHEMAS.values()  # typed by its source's schema
    if name in ("table", "openml"):  # need the user's file / OpenML id: tests/data/test_tables.py, test_openml.py
        with pytest.raises(ConfigError, match="needs dataset"):
            check_dataset_config(cfg.dataset)
        return
    dataset = load_dataset(cfg.dataset)
    assert dataset.task == option(cfg.dataset.task)
    assert dataset.X.shape[0] == len(dataset.y) > 0


@pytest.mark.parametrize(
    "overrides, key, schema",
    [
        (["dataset=moons", "dataset.noise=0.3"], "noise", "MoonsConfig"),  # renamed: noise_std
        (["dataset=blobs", "dataset.noise_std=2"], "noise_std", "BlobsConfig"),  # blobs have cluster_std
        (["dataset=iris", "dataset.n_samples=10"], "n_samples", "BundledConfig"),
        (["dataset=happiness", "dataset.openml_id=61"], "openml_id", "TabularConfig"),
        (["dataset=openml", "dataset.na_values=[x]"], "na_values", "OpenMLConfig"),
    ],
)
def test_a_field_the_dataset_does_not_read_fails_in_one_line_before_data_loads(overrides, key, schema):
    with pytest.raises(ConfigCompositionException) as raised:
        make_config(*overrides)
    message = one_line(raised.value)
    assert f"Key '{key}' not in '{schema}'" in message and "\n" not in message, message


def test_a_field_appended_with_plus_is_refused_naming_the_schema():
    cfg = make_config("dataset=moons", "+dataset.noise=0.3")
    with pytest.raises(ConfigError, match="'dataset.noise' is not in MoonsConfig"):
        check_schema(cfg)


def test_a_table_task_of_null_is_inferred_and_auto_is_refused():
    assert make_config("dataset=table").dataset.task is None
    with pytest.raises(ConfigCompositionException) as raised:
        make_config("dataset=table", "dataset.task=auto")
    assert "expected one of [regression, binary, multiclass]" in one_line(raised.value)


@pytest.mark.parametrize("name", options("activation"))
def test_activation_options_instantiate(name):
    cfg = make_config(f"activation={name}")
    out = make_activation(option(cfg.activation.name))(torch.linspace(-2, 2, 5))
    assert out.shape == (5,)


@pytest.mark.parametrize("name", options("loss"))
def test_loss_options_instantiate(name):
    cfg = make_config(f"loss={name}")
    loss = option(cfg.loss.name)
    if loss == "auto":
        return
    out = torch.zeros(4, 3 if loss == "cross_entropy" else 1)
    y = torch.tensor([0, 1, 2, 1]) if loss == "cross_entropy" else torch.ones(4, 1)
    assert torch.isfinite(loss_function(loss)(out, y))
    assert any(loss in fitting for fitting in LOSSES_FOR_TASK.values())


@pytest.mark.parametrize("name", options("optimizer"))
def test_optimizer_options_instantiate(name):
    cfg = make_config(f"optimizer={name}")
    optimizer = make_optimizer(torch.nn.Linear(2, 1).parameters(), cfg.optimizer)
    assert optimizer.param_groups[0]["lr"] == cfg.optimizer.lr


def test_batch_gd_uses_the_whole_training_set_and_sgd_one_example():
    assert make_config("optimizer=batch_gd").optimizer.batch_size is None
    assert make_config("optimizer=sgd").optimizer.batch_size == 1


@pytest.mark.parametrize("name", options("trainer"))
def test_trainer_options_instantiate_or_refuse_clearly(name):
    from src.job.runner import validate
    from src.models.deep_config import mlp_from_config
    from tests.conftest import make_spec

    cfg = make_spec(f"trainer={name}")
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="GPU"):
            validate(cfg)
        return
    validate(cfg)
    estimator = mlp_from_config(cfg, "binary", 2)
    trainer = estimator._trainer(has_val=False)
    assert trainer.max_epochs == cfg.trainer.max_epochs


@pytest.mark.parametrize("name", options("experiment"))
def test_experiments_compose(name):
    cfg = make_config(f"experiment={name}")
    assert cfg.dataset.name and cfg.model.name


def test_model_and_tracking_options_compose():
    for name in options("model"):
        # workshop_mlp is a preset of model=mlp (the workshop's hidden layers), not a model of its own
        assert make_config(f"model={name}").model.name == ("mlp" if name == "workshop_mlp" else name)
    for name in options("tracking"):
        assert make_config(f"tracking={name}").tracking.experiment


# ---------------------------------------------------------------- range checks (src/config/checks.py)


def _every_shipped_config():
    yield from (make_config(f"model={name}") for name in options("model"))
    yield from (make_config(f"dataset={name}") for name in options("dataset"))
    yield from (make_config(f"experiment={name}") for name in options("experiment"))
    for group in ("optimizer", "trainer", "loss", "activation"):
        yield from (make_config(f"{group}={name}") for name in options(group))


def test_every_shipped_option_is_within_the_ranges():
    from src.config.checks import check_ranges

    for cfg in _every_shipped_config():
        check_ranges(cfg)


# Every key the ranges covered when they were a table in src/config/checks.py: now each sits
# on its schema's field, and none was lost on the way.
BOUNDED_KEYS = {
    "seed", "dataset.test_size", "dataset.val_size", "dataset.train_size", "dataset.max_categories",
    "dataset.n_samples", "dataset.n_features", "dataset.n_classes", "dataset.noise_std", "dataset.cluster_std",
    "dataset.label_noise", "dataset.factor", "dataset.noise_level", "dataset.random_state", "dataset.openml_id",
    "dataset.timeout_s", "optimizer.lr", "optimizer.batch_size", "optimizer.weight_decay", "optimizer.momentum",
    "optimizer.lr_decay", "loss.huber_delta", "trainer.max_epochs", "trainer.accelerator", "trainer.precision",
    "trainer.strategy", "trainer.devices", "trainer.num_nodes", "trainer.early_stopping_patience",
    "trainer.cpu_threads", "trainer.checkpoint_every_n_epochs",
}  # fmt: skip


def test_every_range_refuses_its_bad_value_naming_the_key():
    """Each bounded field of every shipped config's schemas refuses a value out of its range."""
    from src.config.checks import check_ranges, field_ranges

    checked = set()
    for cfg in _every_shipped_config():
        schemas = {key: type(OmegaConf.select(cfg, key.rpartition(".")[0]) or cfg) for key, _ in field_ranges(cfg)}
        for key, range_ in field_ranges(cfg):
            if (key, schemas[key]) in checked:
                continue
            bad = cfg.copy()
            OmegaConf.update(bad, key, range_.bad)
            with pytest.raises(ConfigError, match=rf"^{key.replace('.', '[.]')}=\S+ is out of range: "):
                check_ranges(bad)
            checked.add((key, schemas[key]))
    assert {key for key, _ in checked} >= BOUNDED_KEYS


def test_friedman1_needs_five_features_where_other_generators_take_one():
    from src.config.checks import check_ranges

    check_ranges(make_config("dataset=regression", "dataset.n_features=1"))
    with pytest.raises(ConfigError, match=r"^dataset[.]n_features=4 is out of range: an integer >= 5$"):
        check_ranges(make_config("dataset=friedman1", "dataset.n_features=4"))


@pytest.mark.parametrize("model", list(REGISTRY))
def test_every_bounded_model_field_refuses_its_bad_value_naming_the_key(model):
    """A model's bounds sit on its schema's fields (src/config/models.py), and
    each one refuses a value out of its range, for that model's config."""
    from src.config.checks import check_ranges, field_ranges

    base = make_config(f"model={model}")
    keys = [key for key, _ in field_ranges(base) if key.startswith("model.")]
    for key, range_ in field_ranges(base):
        if not key.startswith("model."):
            continue
        cfg = base.copy()
        OmegaConf.update(cfg, key, range_.bad)
        with pytest.raises(ConfigError, match=rf"^{key.replace('.', '[.]')}=\S+ is out of range: "):
            check_ranges(cfg)
    if model in ("mlp", "mlp_plus"):
        assert {"model.hidden_sizes", "model.dropout"} <= set(keys)


def test_a_bound_holds_for_its_own_model_only():
    """max_depth=0 is no tree for scikit-learn but XGBoost's "no limit": each
    schema's field carries its own bound."""
    from src.config.checks import check_ranges

    check_ranges(make_config("model=xgboost", "model.max_depth=0"))
    with pytest.raises(ConfigError, match=r"^model[.]max_depth=0 is out of range: null or an integer >= 1$"):
        check_ranges(make_config("model=random_forest", "model.max_depth=0"))


@pytest.mark.parametrize(
    "override, accepted",
    [
        ("model.hidden_sizes=[]", True),  # no hidden layer: a single neuron
        ("optimizer.batch_size=null", True),  # full batch
        ("seed=4294967295", True),
        ("seed=4294967296", False),
        ("dataset.test_size=1", False),  # every row in the test split: nothing to train on
        ("dataset.test_size=30", True),  # a count
        ("dataset.test_size=2.5", False),
        ("dataset.val_size=0", True),
        ("dataset.train_size=1", True),  # the whole pool
        ("model.dropout=1", False),
        ("optimizer.lr=0", False),
        ("optimizer.lr=inf", False),
        ("optimizer.lr=nan", False),
        ("trainer.strategy=ddp_spawn", True),
        ("trainer.strategy=fsdp", True),
        ("trainer.devices=[0,1]", True),
        ("trainer.devices=-1", True),
        ("trainer.devices='0,1'", True),
        ("trainer.devices=0", False),
        ("trainer.precision=bf16-mixed", True),
        ("trainer.precision=16", True),
        ("trainer.accelerator=cuda", True),
    ],
)
def test_range_edges(override, accepted):
    from src.config.checks import check_ranges

    cfg = make_config(override)
    if accepted:
        check_ranges(cfg)
    else:
        with pytest.raises(ConfigError, match=override.split("=")[0].replace(".", "[.]")):
            check_ranges(cfg)


def test_a_fit_only_dataset_does_not_check_the_split_sizes():
    from src.config.checks import check_ranges

    check_ranges(make_config("dataset=seed_table1", "dataset.test_size=0"))
