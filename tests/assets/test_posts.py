"""Runs assets/tests/test_posts.py, the example tests an agent copies, on both backends."""

from assets.tests.test_posts import *  # noqa: F403
