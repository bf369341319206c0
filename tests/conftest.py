"""Shared pytest configuration: a fixed hypothesis profile so runs are reproducible."""

from hypothesis import settings

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None)
settings.load_profile("ci")
