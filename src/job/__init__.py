"""Training: one run of one model on one dataset, recorded in MLflow."""
