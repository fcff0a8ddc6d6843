"""Script calls on a cluster go straight to the node owning their slot; a moved slot is followed,
and a node that fails to answer makes the client read the slot map again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from shortener.hits.instance import SEAL_DAY
from shortener.store import Keys, connect, run_script
from tests.conftest import free_port

DAY = "20261203"
SEALED = [["sealed", "1"], 0, []]  # SEAL_DAY's reply for an empty day


@pytest.fixture
def cluster_client(redis_client: redis.Redis, redis_url: str) -> Iterator[RedisCluster]:
    """A client of the emptied test cluster of its own, whose slot map a test may spoil."""
    r = connect(redis_url, 1.0)
    assert isinstance(r, RedisCluster)
    yield r
    r.close()


def day_keys(keys: Keys) -> list[str]:
    """SEAL_DAY's keys for shard 0's day: the first one's slot is the one a test moves."""
    return [keys.global_day(DAY, 0), keys.global_visitors(DAY, 0), keys.global_top_links(DAY, 0)]


@pytest.mark.parametrize("backend", ["cluster"], indirect=True)
def test_a_call_sent_to_a_node_that_no_longer_owns_the_slot_follows_the_move(
    cluster_client, redis_client, keys
):
    slot = cluster_client.keyslot(day_keys(keys)[0])
    owner = cluster_client.nodes_manager.get_node_from_slot(slot)
    other = next(node for node in cluster_client.get_primaries() if node.name != owner.name)
    cluster_client.nodes_manager.slots_cache[slot] = [other]  # as if moved since the map was read
    assert run_script(cluster_client, SEAL_DAY, day_keys(keys), [2_000_000_000]) == SEALED
    assert redis_client.hget(day_keys(keys)[0], "sealed") == "1"
    assert cluster_client.nodes_manager.get_node_from_slot(slot).name == owner.name  # map re-read


@pytest.mark.parametrize("backend", ["cluster"], indirect=True)
def test_a_node_that_fails_to_answer_makes_the_client_read_the_slot_map_again(cluster_client, keys):
    slot = cluster_client.keyslot(day_keys(keys)[0])
    owner = cluster_client.nodes_manager.get_node_from_slot(slot)
    # As after a failover: the map still names a master that is gone.
    cluster_client.nodes_manager.slots_cache[slot] = [ClusterNode("127.0.0.1", free_port())]
    with pytest.raises(redis.ConnectionError):
        run_script(cluster_client, SEAL_DAY, day_keys(keys), [2_000_000_000])
    assert cluster_client.nodes_manager.get_node_from_slot(slot).name == owner.name
    assert run_script(cluster_client, SEAL_DAY, day_keys(keys), [2_000_000_000]) == SEALED


@pytest.mark.parametrize("backend", ["cluster"], indirect=True)
def test_the_slot_map_is_read_again_at_most_once_a_second(cluster_client, keys):
    slot = cluster_client.keyslot(day_keys(keys)[0])
    owner = cluster_client.nodes_manager.get_node_from_slot(slot)
    gone = ClusterNode("127.0.0.1", free_port())
    for read_again in (True, False):  # the second failure comes within the second
        cluster_client.nodes_manager.slots_cache[slot] = [gone]
        with pytest.raises(redis.ConnectionError):
            run_script(cluster_client, SEAL_DAY, day_keys(keys), [2_000_000_000])
        named = cluster_client.nodes_manager.get_node_from_slot(slot).name
        assert named == (owner.name if read_again else gone.name)
