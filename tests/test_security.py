"""Config files and user tables are data: nothing in them instantiates code."""

import pytest
import yaml

from tests.conftest import CONF_DIR, ROOT, run_cli, runs_of

# Hydra instantiates `_target_`s only in its own node (callbacks, launchers, sweepers).
HYDRA_OWNED = ("hydra",)


def _yaml_files():
    yield from list(CONF_DIR.rglob("*.yaml")) + list((ROOT / "experiments").glob("*.yaml"))


def _targets(node, trail=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "_target_":
                yield trail
            yield from _targets(value, trail + (key,))
    elif isinstance(node, list):
        for item in node:
            yield from _targets(item, trail)


def test_only_hydras_own_nodes_carry_a_target():
    for path in _yaml_files():
        document = yaml.safe_load(path.read_text()) or {}
        for trail in _targets(document):
            relative = path.relative_to(ROOT)
            in_hydra_group = relative.parts[:2] == ("conf", "hydra")
            assert in_hydra_group or (trail and trail[0] in HYDRA_OWNED), f"{relative}: _target_ at {trail}"


@pytest.mark.parametrize("override", ["+model._target_=os.system", "+dataset._target_=builtins.eval"])
def test_a_target_smuggled_into_a_config_group_is_refused(override, tracking_uri, mlflow_client):
    proc = run_cli(override, "trainer.max_epochs=1")
    assert proc.returncode == 2, proc.stderr  # a config error (README "Faults")
    assert "_target_" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert runs_of(mlflow_client) == []
