"""Fixtures of the route tests."""

from __future__ import annotations

import pytest
import redis

from shortener.publishers import Publisher, create_publisher
from shortener.store import Keys
from tests.routes.sharing import ORIGIN


@pytest.fixture
def publisher(redis_client: redis.Redis, keys: Keys) -> Publisher:
    """A share-button publisher for https://news.example."""
    return create_publisher(redis_client, keys, "news", [ORIGIN], 1)
