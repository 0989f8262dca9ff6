"""A search's run names (src/search/names.py): the training size in the name, and the
runs found again by the name they were given, whatever size the runner filled in."""

from types import SimpleNamespace

import pytest

from src.search import names


def _run(name):
    return SimpleNamespace(info=SimpleNamespace(run_name=name))


def test_a_searchs_names_carry_the_training_size_token_and_the_trial_or_stage():
    assert names.trial_name("lightgbm-digits", 3, 0) == "lightgbm-digits-n{n_train}-t3-s0"
    assert names.final_name("lightgbm-digits", "final", 2) == "lightgbm-digits-n{n_train}-tuned-s2"
    assert names.final_name("lightgbm-digits", "default", 1) == "lightgbm-digits-n{n_train}-default-s1"
    # Quoted: Hydra's override grammar reads braces as a dictionary.
    assert names.name_override("a-n{n_train}-t3-s0") == "tracking.run_name='a-n{n_train}-t3-s0'"


def test_the_override_parses_to_the_name_with_its_token():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = OverridesParser.create().parse_overrides([names.name_override("lightgbm-digits-n{n_train}-t3-s0")])
    assert override.key_or_group == "tracking.run_name"
    assert override.value() == "lightgbm-digits-n{n_train}-t3-s0"


@pytest.mark.parametrize(
    "run_name",
    [
        "lightgbm-digits-n1294-t3-s0",  # the size the runner filled in
        "lightgbm-digits-n{n_train}-t3-s0",  # a runner that leaves the token as it is
        "lightgbm-digits-t3-s0",  # stopped before its split, or recorded before names carried the size
    ],
)
def test_a_run_is_found_by_the_name_it_was_given(run_name):
    assert names.matches(names.trial_name("lightgbm-digits", 3, 0), run_name)


@pytest.mark.parametrize(
    "run_name",
    [
        "lightgbm-digits-n1294-t13-s0",  # another trial
        "lightgbm-digits-n1294-t3-s01",  # another seed
        "lightgbm-digits-n1294-t3-s0-x",
        "xlightgbm-digits-n1294-t3-s0",
        "lightgbm-digits-nabc-t3-s0",
        "lightgbm-digit-n1294-t3-s0",  # another dataset
        "lightgbm-digits-n1294-tuned-s0",
        None,
    ],
)
def test_no_other_run_is_taken_for_it(run_name):
    assert not names.matches(names.trial_name("lightgbm-digits", 3, 0), run_name)


def test_find_keys_the_runs_by_the_names_given():
    given = [names.trial_name("m-d", 0, s) for s in (0, 1)] + [names.final_name("m-d", "final", 0)]
    runs = [_run("m-d-n50-t0-s1"), _run("m-d-n50-tuned-s0"), _run("m-d-n50-t1-s0"), _run("sweep-x")]
    found = names.find(runs, given)
    assert {k: r.info.run_name for k, r in found.items()} == {
        "m-d-n{n_train}-t0-s1": "m-d-n50-t0-s1",
        "m-d-n{n_train}-tuned-s0": "m-d-n50-tuned-s0",
    }


def test_a_name_without_the_token_matches_itself_only():
    assert names.matches("report-x", "report-x") and not names.matches("report-x", "report-x1")
