"""The small tables printed on the workshop slides (../shared/seed/).

They are tiny and fixed, so they live here as literals, copied from the slides.
"""

from __future__ import annotations

import pandas as pd

# Table 1: "Let's calculate weight and bias" -- y = 5x - 1.
TABLE1 = pd.DataFrame({"x": [1, 2, 5, 8, 3], "y": [4, 9, 24, 39, 14]})

# Table 2: two inputs -- y = x1 + x2 + 1.
TABLE2 = pd.DataFrame({"x1": [2, 3, 1, 3], "x2": [1, 4, 5, 2], "y": [4, 8, 7, 6]})

# "Let's look at another example": no exact line; the slides try w=2.74, b=7.99.
NOISY_TABLE = pd.DataFrame({"x": [1, 2, 5, 8, 3], "y": [4, 14, 24, 28, 18]})

# "How do neural networks learn? (single neuron, multiple observations)":
# study hours, sleep hours and the quiz score (%) against the exam score (%).
STUDY_HOURS = pd.DataFrame(
    {
        "study_hours": [12, 22, 115, 31, 0, 5, 92, 57],
        "sleep_hours": [6, 6.5, 4, 9, 10, 8, 6, 8],
        "quiz": [78, 24, 100, 67, 58, 78, 82, 91],
        "exam": [93, 68, 95, 75, 51, 60, 89, 97],
    }
)

SEED_TABLES: dict[str, tuple[pd.DataFrame, str]] = {
    "seed_table1": (TABLE1, "y"),
    "seed_table2": (TABLE2, "y"),
    "seed_noisy_table": (NOISY_TABLE, "y"),
    "seed_study_hours": (STUDY_HOURS, "exam"),
}
