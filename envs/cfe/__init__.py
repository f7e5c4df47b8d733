"""The pooled-procurement (24/7 carbon-free energy) model behind ``python -m evaluation.cfe``."""
