"""The closed sets attribution speaks in: kinds, sources, evidence, devices and channels.

Every channel a rule can name is a key of `CHANNELS`, mapped to its category; the share-variant
channels a user may request are exactly these keys (`qr` is `offline`, `copy` dark, `sms`
messaging, `email` generic e-mail). Referral channels are not listed: they are the referring site's
registrable domain. `ms-office` (an Office link check, which Word and Excel send as well as
Outlook) is a preview channel without a category and is deliberately not a key.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """Who made the request."""

    HUMAN = "human"
    PREVIEW = "preview"  # a link-preview fetch: the link was just shared in that app
    BOT = "bot"  # crawlers, monitors, scripts, scanners, headless browsers, mail proxies


class Source(StrEnum):
    """The category a human hit came from (or a preview's app belongs to)."""

    SOCIAL = "social"
    SEARCH = "search"
    REFERRAL = "referral"
    EMAIL = "email"
    MESSAGING = "messaging"
    DARK = "dark"
    INTERNAL = "internal"
    OFFLINE = "offline"  # a printed or displayed QR code: a public, physical hand-over, not dark


class Evidence(StrEnum):
    """What decided an attribution, strongest first."""

    TAG = "tag"  # the hit used a share variant bound to one channel
    COPY = "copy"  # the copy-paste tracking token
    REFERRER = "referrer"  # the Referer header
    IN_APP = "in-app"  # an in-app browser's user-agent token
    PREVIEW = "preview"  # a recent preview fetch of the same link from one app
    NONE = "none"  # nothing: the hit is dark (or not human at all)


class Device(StrEnum):
    """The coarse device class of a user-agent."""

    MOBILE = "mobile"
    TABLET = "tablet"
    DESKTOP = "desktop"
    BOT = "bot"
    OTHER = "other"


DARK_SOURCES = frozenset({Source.MESSAGING, Source.EMAIL, Source.DARK})

CHANNELS: dict[str, Source] = {
    # Private messaging (DESIGN.md "channel"; reference §3-§5 for the rest).
    "whatsapp": Source.MESSAGING,
    "messenger": Source.MESSAGING,
    "telegram": Source.MESSAGING,
    "signal": Source.MESSAGING,
    "imessage": Source.MESSAGING,
    "sms": Source.MESSAGING,
    "slack": Source.MESSAGING,
    "discord": Source.MESSAGING,
    "teams": Source.MESSAGING,
    "skype": Source.MESSAGING,
    "wechat": Source.MESSAGING,
    "line": Source.MESSAGING,
    "viber": Source.MESSAGING,
    "kakaotalk": Source.MESSAGING,
    "zalo": Source.MESSAGING,
    "qq": Source.MESSAGING,
    "threema": Source.MESSAGING,
    "wire": Source.MESSAGING,
    "google-chat": Source.MESSAGING,
    "mattermost": Source.MESSAGING,
    "matrix": Source.MESSAGING,
    "keybase": Source.MESSAGING,
    "steam": Source.MESSAGING,
    "irc": Source.MESSAGING,
    # Social networks; Instagram and Snapchat count as social by convention (reference §1).
    "facebook": Source.SOCIAL,
    "instagram": Source.SOCIAL,
    "snapchat": Source.SOCIAL,
    "twitter": Source.SOCIAL,
    "linkedin": Source.SOCIAL,
    "reddit": Source.SOCIAL,
    "pinterest": Source.SOCIAL,
    "tiktok": Source.SOCIAL,
    "youtube": Source.SOCIAL,
    "threads": Source.SOCIAL,
    "mastodon": Source.SOCIAL,
    "bluesky": Source.SOCIAL,
    "vk": Source.SOCIAL,
    "odnoklassniki": Source.SOCIAL,
    "weibo": Source.SOCIAL,
    "xing": Source.SOCIAL,
    "tumblr": Source.SOCIAL,
    "workplace": Source.SOCIAL,
    "hackernews": Source.SOCIAL,
    "github": Source.SOCIAL,
    "stackoverflow": Source.SOCIAL,
    "vimeo": Source.SOCIAL,
    "flickr": Source.SOCIAL,
    "douban": Source.SOCIAL,
    "qzone": Source.SOCIAL,
    # Search engines (the Google, Bing and NAVER apps count as search too).
    "google": Source.SEARCH,
    "bing": Source.SEARCH,
    "duckduckgo": Source.SEARCH,
    "yahoo": Source.SEARCH,
    "yandex": Source.SEARCH,
    "baidu": Source.SEARCH,
    "ecosia": Source.SEARCH,
    "brave": Source.SEARCH,
    "naver": Source.SEARCH,
    "startpage": Source.SEARCH,
    "qwant": Source.SEARCH,
    "seznam": Source.SEARCH,
    "sogou": Source.SEARCH,
    "daum": Source.SEARCH,
    "ask": Source.SEARCH,
    "kagi": Source.SEARCH,
    # E-mail: webmail, mail apps, and `email` for a share variant sent by any mail.
    "email": Source.EMAIL,
    "gmail": Source.EMAIL,
    "outlook": Source.EMAIL,
    "yahoo-mail": Source.EMAIL,
    "aol-mail": Source.EMAIL,
    "apple-mail": Source.EMAIL,
    "gmx": Source.EMAIL,
    "web.de": Source.EMAIL,
    "proton-mail": Source.EMAIL,
    "yandex-mail": Source.EMAIL,
    "mail.ru": Source.EMAIL,
    "zoho-mail": Source.EMAIL,
    # A QR code was scanned: posters, packaging, slides — public and offline, never dark.
    "qr": Source.OFFLINE,
    # A copy-paste share variant: pasted somewhere Lumen cannot see.
    "copy": Source.DARK,
}


def is_known_channel(slug: object) -> bool:
    """Whether `slug` names a channel (a share variant may be requested for it).

    >>> is_known_channel("whatsapp"), is_known_channel("qr"), is_known_channel("WhatsApp")
    (True, True, False)
    >>> is_known_channel("ms-office"), is_known_channel(None)
    (False, False)
    """
    return isinstance(slug, str) and slug in CHANNELS
