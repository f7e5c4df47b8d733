"""Scenario configuration: the dataclasses with each field's bounds, the one YAML loader and the
one validation helper.
"""
