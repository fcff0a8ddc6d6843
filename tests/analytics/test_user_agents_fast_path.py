"""`classify_user_agent`'s fast path gives exactly what the slow, obvious way gives.

The fast path calls ua-parser-rs's extractors one by one, skips the device for robots a signature
names, and lets the `user-agents` rules parse a version only when they read it. The slow way,
written out here, parses every domain through ua-parser's resolver and feeds `user-agents`' own
device class with every part parsed, as Lumen did before. Both run over the labelled corpus,
thousands of variants of it (every number redrawn), the instances of the maintained bot list and
the table tests' strings.
"""

from __future__ import annotations

import functools
import json
import random
import re
from importlib import resources
from pathlib import Path

import pytest
from ua_parser import DefaultedResult, Domain, load_lazy_builtins
from ua_parser.regex import Resolver

from shortener.analytics.user_agents import (
    _BROWSER_ENGINE,
    _LONGEST,
    _WEBVIEW,
    Client,
    _first_signature,
    classify_user_agent,
    user_agents_parsers,
)
from shortener.analytics.vocabulary import Device, Kind
from tests.analytics.test_user_agents import CASES

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "hits.jsonl"
VARIANTS_PER_STRING = 15
ODD_STRINGS = [
    "",
    "-",
    "\x00\x01",
    "\ud800 lone surrogate",
    "Mozilla/5.0 (compatible)",
    "Mozilla/5.0 (" * 500,
    # Windows RT and ME: the only device rules that read a version (is_tablet, is_pc).
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; ARM; Trident/6.0; Touch)",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows 98; Win 9x 4.90)",
    # Spiders to ua-parser that no signature names: named after their browser family or not.
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 voila",
    "htdig/3.1.6",
]
# (kind, device, in_app) outcomes the strings must reach, so that every branch is compared.
OUTCOMES = {
    (Kind.HUMAN, Device.MOBILE, True),
    (Kind.HUMAN, Device.TABLET, True),
    (Kind.HUMAN, Device.MOBILE, False),
    (Kind.HUMAN, Device.TABLET, False),
    (Kind.HUMAN, Device.DESKTOP, False),
    (Kind.HUMAN, Device.OTHER, False),
    (Kind.PREVIEW, Device.BOT, False),
    (Kind.BOT, Device.BOT, False),
}


class _EveryPartParsed(user_agents_parsers.UserAgent):  # type: ignore[name-defined,misc]
    """`user-agents`' device class over ua-parser's complete parse, every part parsed up front."""

    def __init__(self, ua: str, parsed: DefaultedResult) -> None:
        agent, os, device = parsed.user_agent, parsed.os, parsed.device
        self.ua_string = ua
        self.browser = user_agents_parsers.parse_browser(
            agent.family, agent.major, agent.minor, agent.patch
        )
        self.os = user_agents_parsers.parse_operating_system(
            os.family, os.major, os.minor, os.patch
        )
        self.device = user_agents_parsers.parse_device(device.family, device.brand, device.model)


@functools.cache
def _full_resolver() -> Resolver:
    return Resolver(load_lazy_builtins())


def _text(ua: str) -> str:
    """`ua` as `classify_user_agent` reads it: stripped, cut, valid UTF-8."""
    return ua.strip()[:_LONGEST].encode("utf-8", "replace").decode("utf-8")


def _device_class(rules: _EveryPartParsed) -> Device:
    classes = (
        (rules.is_tablet, Device.TABLET),
        (rules.is_mobile, Device.MOBILE),
        (rules.is_pc, Device.DESKTOP),
    )
    return next((device for is_it, device in classes if is_it), Device.OTHER)


def _client_the_slow_way(ua: str) -> Client:
    """Every domain parsed, then the signature table, the spider test and the device class."""
    text = _text(ua)
    parsed = _full_resolver()(text, Domain.ALL).complete().with_defaults()
    os, browser = parsed.os.family, parsed.user_agent.family
    device = _device_class(_EveryPartParsed(text, parsed))
    row = _first_signature(text)
    if row is not None:
        _, kind, app, channel, source = row
        human = kind is Kind.HUMAN
        return Client(
            kind, app, channel, source, human, device if human else Device.BOT, os, browser
        )
    spider = parsed.device.family == "Spider"
    if spider or not _BROWSER_ENGINE.search(text):
        app = browser if spider and browser != "Other" else None
        return Client(Kind.BOT, app, None, None, False, Device.BOT, os, browser)
    in_app = _WEBVIEW.search(text) is not None
    return Client(Kind.HUMAN, None, None, None, in_app, device, os, browser)


def _is_spider_without_signature(ua: str) -> bool:
    text = _text(ua)
    device = _full_resolver()(text, Domain.DEVICE).device
    return _first_signature(text) is None and device is not None and device.family == "Spider"


def _redraw_numbers(ua: str, rng: random.Random) -> str:
    """`ua` with every run of digits replaced by a random one as long: 17_3_1 → 42_8_6."""
    return re.sub(r"\d+", lambda number: str(rng.randrange(10 ** len(number.group()))), ua)


def _strings() -> list[str]:
    corpus = [
        json.loads(line)["ua"]
        for line in CORPUS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    bot_list = json.loads(
        resources.files("crawleruseragents").joinpath("crawler-user-agents.json").read_text()
    )
    instances = [instance for entry in bot_list for instance in entry.get("instances", [])]
    tables = [ua for _, ua, *_ in CASES]
    rng = random.Random(14)
    variants = [
        _redraw_numbers(ua, rng) for ua in corpus + tables for _ in range(VARIANTS_PER_STRING)
    ]
    return list(dict.fromkeys(corpus + tables + instances + variants + ODD_STRINGS))


@pytest.fixture(scope="module")
def strings() -> list[str]:
    if not CORPUS.is_file():
        pytest.skip(f"labelled corpus not found at {CORPUS} (shared/ is copied beside the clone)")
    return _strings()


def test_every_string_is_classified_as_the_slow_way_does(strings: list[str]) -> None:
    diverging: list[tuple[str, Client, Client]] = []
    for ua in strings:
        fast, slow = classify_user_agent(ua), _client_the_slow_way(ua)
        if fast != slow:
            diverging.append((ua, fast, slow))
    assert len(strings) > 5_000
    assert diverging[:10] == [], f"{len(diverging)} of {len(strings)} strings diverge"


def test_the_strings_reach_every_outcome(strings: list[str]) -> None:
    reached = {
        (client.kind, client.device, client.in_app) for client in map(classify_user_agent, strings)
    }
    assert reached >= OUTCOMES, OUTCOMES - reached
    assert any(map(_is_spider_without_signature, strings))
