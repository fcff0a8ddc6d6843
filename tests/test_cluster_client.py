"""Script calls on a cluster go straight to the node owning their slot; a moved slot is followed,
and a node that fails to answer makes the client read the slot map again."""

from __future__ import annotations

import pytest
import redis
from redis.cluster import ClusterNode

from shortener.hits.instance import SEAL_DAY
from shortener.store import connect, run_script
from tests.conftest import free_port


@pytest.mark.parametrize("backend", ["cluster"], indirect=True)
def test_a_call_sent_to_a_node_that_no_longer_owns_the_slot_follows_the_move(
    redis_client, redis_url, keys
):
    r = connect(redis_url, 5.0)
    key = keys.global_day("20261203", 0)
    slot = r.keyslot(key)
    owner = r.nodes_manager.get_node_from_slot(slot)
    other = next(node for node in r.get_primaries() if node.name != owner.name)
    r.nodes_manager.slots_cache[slot] = [other]  # as if the slot had moved since the map was read
    day_keys = [key, keys.global_visitors("20261203", 0), keys.global_top_links("20261203", 0)]
    assert run_script(r, SEAL_DAY, day_keys, [2_000_000_000]) == [["sealed", "1"], 0, []]
    assert redis_client.hget(key, "sealed") == "1"
    assert r.nodes_manager.get_node_from_slot(slot).name == owner.name  # the map was refreshed
    r.close()


@pytest.mark.parametrize("backend", ["cluster"], indirect=True)
def test_a_node_that_fails_to_answer_makes_the_client_read_the_slot_map_again(
    redis_client, redis_url, keys
):
    r = connect(redis_url, 1.0)
    key = keys.global_day("20261203", 0)
    slot = r.keyslot(key)
    owner = r.nodes_manager.get_node_from_slot(slot)
    # As after a failover: the map still names a master that is gone.
    r.nodes_manager.slots_cache[slot] = [ClusterNode("127.0.0.1", free_port())]
    day_keys = [key, keys.global_visitors("20261203", 0), keys.global_top_links("20261203", 0)]
    with pytest.raises(redis.ConnectionError):
        run_script(r, SEAL_DAY, day_keys, [2_000_000_000])
    assert r.nodes_manager.get_node_from_slot(slot).name == owner.name
    assert run_script(r, SEAL_DAY, day_keys, [2_000_000_000]) == [["sealed", "1"], 0, []]
    r.close()
