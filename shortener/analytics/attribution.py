"""Hit → `Attribution`: ordered rules, first match wins, the deciding evidence recorded.

Precedence, strongest first (DESIGN.md "Attribution"; docs/ATTRIBUTION.md explains each level):

1. **Not a person** (user-agent): a preview fetch keeps its app's channel and category (None for
   generic unfurlers), a bot has neither. Evidence `none` (the fetch itself proves nothing about
   a click), never dark: they are counted apart from human hits.
2. **Share-variant tag** → the variant's channel and its category, evidence `tag`.
3. **Copy-paste token** → `dark`, channel None, evidence `copy`.
4. **Referrer**: our own host or the target's site → `internal` (not dark); any other → its
   source and channel, evidence `referrer`. It beats the in-app user-agent, because the person
   may have browsed on inside the app's browser; an app's own link shim names the app.
5. **In-app browser** of a known app → that app's channel and category, evidence `in-app`.
6. **Nothing** → `dark`, channel None, evidence `none`.

Preview correlation (a dark hit soon after previews of the same link, evidence `preview`) needs
the link's recent previews, so the recording code applies it to rule-6 results, not this module.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from enum import Enum
from typing import TypeGuard

from shortener.analytics.referrers import ReferrerSource, classify_referrer
from shortener.analytics.user_agents import Client, classify_user_agent
from shortener.analytics.user_agents import warm_up as warm_up_user_agents
from shortener.analytics.vocabulary import (
    CHANNELS,
    DARK_SOURCES,
    Device,
    Evidence,
    Kind,
    Source,
    is_known_channel,
)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who made a hit and where it came from."""

    kind: Kind
    source: Source | None  # None for bots and for previews of unknown category
    channel: str | None
    dark: bool  # a human hit from a private channel: source in messaging, email, dark
    evidence: Evidence
    device: Device
    os: str
    browser: str
    app: str | None

    def as_dict(self) -> dict[str, str | bool | None]:
        """JSON-ready fields: enums as their string values, None as null."""
        values = ((field.name, getattr(self, field.name)) for field in fields(self))
        return {name: value.value if isinstance(value, Enum) else value for name, value in values}


def classify_hit(
    user_agent: str,
    referrer: str,
    *,
    own_hosts: Collection[str] = (),
    target_site: str | None = None,
    tag_channel: str | None = None,
    copy: bool = False,
) -> Attribution:
    """Attribute one hit from its User-Agent and Referer headers (garbage in, a clear value out).

    >>> classify_hit("WhatsApp/2.19.308 A", "").as_dict()["kind"]
    'preview'
    >>> firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
    >>> a = classify_hit(firefox, "")
    >>> a.source, a.channel, a.dark, a.evidence
    (<Source.DARK: 'dark'>, None, True, <Evidence.NONE: 'none'>)
    >>> chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36"
    >>> classify_hit(chrome, "https://t.co/").channel
    'twitter'
    >>> classify_hit(chrome, "https://t.co/", tag_channel="sms").evidence
    <Evidence.TAG: 'tag'>
    """
    client = classify_user_agent(user_agent)
    if _is_automated(client):
        return _attribute(client, client.source, client.channel, Evidence.NONE)
    if _is_tagged(tag_channel):
        return _attribute(client, CHANNELS[tag_channel], tag_channel, Evidence.TAG)
    if _is_copied(copy):
        return _attribute(client, Source.DARK, None, Evidence.COPY)
    referred = classify_referrer(referrer, own_hosts, target_site)
    if _is_referred(referred):
        return _attribute(client, referred.source, referred.channel, Evidence.REFERRER)
    if _is_in_app(client):
        return _attribute(client, client.source, client.channel, Evidence.IN_APP)
    return _attribute(client, Source.DARK, None, Evidence.NONE)


def warm_up() -> None:
    """Build the parsers and load the data now rather than on the first hit."""
    warm_up_user_agents()
    classify_referrer("https://www.example.co.uk/")  # the suffix list and the referrer data


def _is_automated(client: Client) -> bool:
    return client.kind is not Kind.HUMAN


def _is_tagged(tag_channel: str | None) -> TypeGuard[str]:
    return is_known_channel(tag_channel)  # an unknown tag is ignored, not trusted


def _is_copied(copy: bool) -> bool:
    return copy is True


def _is_referred(referred: ReferrerSource | None) -> TypeGuard[ReferrerSource]:
    return referred is not None


def _is_in_app(client: Client) -> bool:
    return client.in_app and client.channel is not None  # a bare WebView names no app


def _attribute(
    client: Client, source: Source | None, channel: str | None, evidence: Evidence
) -> Attribution:
    dark = client.kind is Kind.HUMAN and source in DARK_SOURCES
    return Attribution(
        client.kind,
        source,
        channel,
        dark,
        evidence,
        client.device,
        client.os,
        client.browser,
        client.app,
    )
