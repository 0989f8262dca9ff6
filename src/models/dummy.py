"""The constant baseline (`model=dummy`): what every comparison must beat.

Factories rather than classes so that the registry's classifier / regressor
pair fixes the strategy scikit-learn's Dummy* estimators would otherwise take
as a parameter (their defaults differ from the baseline the report wants).
"""

from __future__ import annotations

from typing import Any


def majority_class(random_state: Any = None) -> Any:
    """Always the most frequent training class."""
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="most_frequent", random_state=random_state)


def training_mean() -> Any:
    """Always the training target's mean."""
    from sklearn.dummy import DummyRegressor

    return DummyRegressor(strategy="mean")
