"""This project's Optuna sweeper for Hydra (`hydra/sweeper=mlvsdl_optuna`).

Hydra finds plugins in the `hydra_plugins` namespace package and imports every
module of it at start-up, so this package stays light: Optuna and the search
itself (src/search/) load when a search runs.
"""
