"""Runs assets/tests/test_health.py, the probe tests an agent copies, on both backends."""

from assets.tests.test_health import *  # noqa: F403
