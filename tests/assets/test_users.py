"""Runs assets/tests/test_users.py, the example tests an agent copies, on both backends."""

from assets.tests.test_users import *  # noqa: F403
