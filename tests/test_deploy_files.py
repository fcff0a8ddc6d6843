"""docker-compose.cluster.yml, deploy/nginx-cluster.conf and the Dockerfile agree with each other
and with what Lumen reads. Docker is not on the build machine, so the example is never started
here: these checks keep it from drifting from the code (a renamed setting, a moved port)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from shortener.store import cluster_address
from tests.conftest import ROOT, SETTING_NAMES

COMPOSE = yaml.safe_load((ROOT / "docker-compose.cluster.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]  # type: ignore[type-arg]
LUMEN = sorted(name for name, service in SERVICES.items() if service.get("build") == ".")
REDIS = sorted(name for name in SERVICES if re.fullmatch(r"redis-\d+", name))
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def dockerfile_value(pattern: str) -> str:
    match = re.search(pattern, DOCKERFILE)
    assert match, pattern
    return match.group(1)


def test_the_example_runs_two_lumen_instances_on_a_three_master_cluster():
    assert LUMEN == ["lumen-1", "lumen-2"]
    assert REDIS == ["redis-1", "redis-2", "redis-3"]


@pytest.mark.parametrize("name", ["redis-1", "redis-2", "redis-3"])
def test_each_redis_node_runs_in_cluster_mode_with_append_only_files_and_no_eviction(name):
    command = SERVICES[name]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options["--cluster-enabled"] == "yes"
    assert options["--appendonly"] == "yes"
    assert options["--maxmemory-policy"] == "noeviction"
    assert SERVICES[name]["volumes"] == [f"{name}:/data"]


def test_the_cluster_init_joins_every_node():
    [script] = SERVICES["redis-cluster-init"]["command"]
    words = shlex.split(script.replace("$$", "$"))
    assert "--cluster" in words and "create" in words
    assert [w for w in words if w in REDIS] == ["redis-1", *REDIS]  # the check, then the three


@pytest.mark.parametrize("name", ["lumen-1", "lumen-2"])
def test_each_lumen_instance_sets_only_settings_lumen_reads(name):
    environment = SERVICES[name]["environment"]
    assert set(environment) <= SETTING_NAMES
    assert {"REDIS_URL", "SECRET_KEY", "LUMEN_DOMAINS", "LUMEN_TRUSTED_PROXIES"} <= set(environment)


@pytest.mark.parametrize("name", ["lumen-1", "lumen-2"])
def test_each_lumen_instance_reaches_every_node_through_a_cluster_url(name):
    address = cluster_address(SERVICES[name]["environment"]["REDIS_URL"])
    assert address is not None
    assert address.nodes == tuple((node, 6379) for node in REDIS)


def test_each_lumen_instance_keeps_its_data_dir_in_a_volume_of_its_own():
    data_dir = dockerfile_value(r"LUMEN_DATA_DIR=(\S+)")
    mounts = {name: SERVICES[name]["volumes"] for name in LUMEN}
    assert mounts == {name: [f"{name}:{data_dir}"] for name in LUMEN}
    assert set(LUMEN) <= set(COMPOSE["volumes"])


def test_nginx_sends_requests_to_every_lumen_instance_on_the_port_the_image_serves():
    port = dockerfile_value(r'"--bind", "0\.0\.0\.0:(\d+)"')
    assert dockerfile_value(r"EXPOSE (\d+)") == port
    [mount] = SERVICES["proxy"]["volumes"]
    conf = (ROOT / Path(mount.split(":")[0])).read_text()
    upstream = re.search(r"upstream lumen \{(.*?)\}", conf, re.S)
    assert upstream
    assert re.findall(r"server (\S+);", upstream.group(1)) == [f"{name}:{port}" for name in LUMEN]
    assert "proxy_pass http://lumen;" in conf


def test_nginx_passes_every_header_lumen_reads_behind_one_proxy():
    conf = (ROOT / "deploy" / "nginx-cluster.conf").read_text()
    for header in (
        "Host",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "X-Forwarded-Port",
    ):
        assert f"proxy_set_header {header} " in conf
