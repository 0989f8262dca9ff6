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

# "Weather historical data": the sheet on the slides, cell for cell (spreadsheet
# columns A-N, rows 4-27), as NOAA's daily summaries write it. Its conventions
# are parsed by src/data/weather.py: '###' is a column too narrow to show the
# year, a lone "'" is an emptied text cell, '*' marks a max/min temperature
# derived from the hourly reports, 999.9 is a missing value, and a letter after
# the precipitation (0.00D) says how it was measured.
WEATHER_SHEET = """\
Location,Year,Month,Date,Temp,Dew point,Pressure,Visibility,Wind speed,Max wind speed,Max wind gust,Max temp,Min temp,Precipitation
723150,###,',1,44.7,40.3,1022.00,6,3.2,15,20,64,30.9,0.00D
723150,###,1,2,55.5,50,1022.10,7.2,6.6,15.9,21,66.0*,48.2*,0.00D
723150,###,1,3,58.1,53.6,1019.70,9.5,7.2,15,20,66.9,48,0.00D
723150,###,1,4,57.7,50.8,1012.30,8.2,10.4,18.1,23.9,62.1*,46.4*,0.06G
723150,###,1,5,34.9,23.8,1021.60,10,10.2,17.1,27,46.0*,28.0*,0.14G
723150,###,1,6,31.6,22.1,1030.60,9.6,2.9,8.9,999.9,48,19,0.00G
723150,###,1,7,36.6,24.7,1028.50,9.9,8.2,17.1,23.9,50.0*,27.0*,0.00D
723150,###,1,8,35.7,23.5,1027.50,9.9,3.4,8.9,999.9,50,24.1,0.00C
723150,###,1,9,42.5,30.9,1018.90,6.6,4.2,8.9,999.9,50,24.1,0.44D
723150,###,1,10,52.8,34.1,1008.50,5.7,6.5,17.1,27,60.8*,46.4*,1.42G
723150,###,1,11,46.5,24.1,1013.20,10,6.5,25.1,33,64.9,28.9,0.03G
723150,###,1,12,44.7,24.9,1021.30,9.9,4.4,11.1,999.9,66,28,0.00G
723150,###,1,13,53.7,35,1017.60,9.9,10.6,24.1,34,66,28,0.08D
723150,###,1,14,31.5,12.7,1032.70,9.9,16.4,28.9,37.9,41.0*,24.1*,0.00H
723150,###,1,15,29.4,13.3,1037.00,9.9,3.3,8,999.9,50,15.1,0.00I
723150,###,1,16,38.6,23.9,1028.70,8.8,5.2,10.1,999.9,50,15.1,0.00H
723150,###,1,17,44.3,24.9,1026.30,9.6,6.4,8.9,15,52,27,0.03A
723150,###,1,18,35,25.8,1018.80,7.1,8.6,19,23.9,52,30,0.21G
723150,###,1,19,36.1,25.9,1015.60,9.9,12.2,20,27,45,30,0.01G
723150,###,1,20,35.4,27.7,1005.60,8,17.7,34,42.9,42.1*,26.6*,0.14G
723150,###,1,21,21.8,6.8,1016.30,9.9,16.2,25.1,32.1,39.9,14,0.01G
723150,###,1,22,21.6,11.5,1021.30,7.4,7.2,14,999.9,28.9,14,0.00G
723150,###,1,23,29.6,27.3,1016.30,5.9,4.3,8.9,999.9,36,18,0.03B
"""

SEED_TABLES: dict[str, tuple[pd.DataFrame, str]] = {
    "seed_table1": (TABLE1, "y"),
    "seed_table2": (TABLE2, "y"),
    "seed_noisy_table": (NOISY_TABLE, "y"),
    "seed_study_hours": (STUDY_HOURS, "exam"),
}
