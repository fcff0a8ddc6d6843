"""Attribution precedence: one row per rule, in order, plus the rules that must lose."""

from __future__ import annotations

import dataclasses
import json

import pytest

from shortener.analytics.attribution import Attribution, classify_hit
from shortener.analytics.vocabulary import DARK_SOURCES, Evidence, Kind, Source

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 "
    "Safari/537.36"
)
ANDROID_WV = (
    "Mozilla/5.0 (Linux; Android 13; SM-A146M Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/117.0.0.0 Mobile Safari/537.36"
)
INSTAGRAM = ANDROID_WV + " Instagram 302.1.0.36.111 Android (33/13; 450dpi; 1080x2209; samsung)"
MESSENGER = ANDROID_WV + " [FB_IAB/MESSENGER;FBAV/120.0.0.14.84;]"
FACEBOOK = ANDROID_WV + " [FB_IAB/FB4A;FBAV/488.0.0.62.79;IABMV/1;]"
GOOGLE_APP = ANDROID_WV + " GSA/15.2.48.29.arm64"
OWN = ("go.brand.com",)

S, E = Source, Evidence
# (id, user-agent, referrer, options, kind, source, channel, dark, evidence)
CASES = [
    # 1. Not a person: returned as is, whatever else the hit carries.
    (
        "preview",
        "WhatsApp/2.19.308 A",
        "",
        {},
        Kind.PREVIEW,
        S.MESSAGING,
        "whatsapp",
        False,
        E.NONE,
    ),
    (
        "preview-ignores-tag-and-referrer",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "https://t.co/",
        {"tag_channel": "sms"},
        Kind.PREVIEW,
        S.MESSAGING,
        "slack",
        False,
        E.NONE,
    ),
    (
        "preview-generic-unfurler",
        "Iframely/1.3.1 (+https://iframely.com/docs/about)",
        "",
        {},
        Kind.PREVIEW,
        None,
        None,
        False,
        E.NONE,
    ),
    (
        "preview-office-check",
        "Microsoft Office Existence Discovery",
        "",
        {},
        Kind.PREVIEW,
        None,
        "ms-office",
        False,
        E.NONE,
    ),
    (
        "bot",
        "python-requests/2.31.0",
        "https://www.google.com/",
        {"copy": True},
        Kind.BOT,
        None,
        None,
        False,
        E.NONE,
    ),
    # 2. Share-variant tag beats everything a person's hit carries.
    (
        "tag",
        CHROME,
        "",
        {"tag_channel": "whatsapp"},
        Kind.HUMAN,
        S.MESSAGING,
        "whatsapp",
        True,
        E.TAG,
    ),
    (
        "tag-beats-referrer",
        CHROME,
        "https://t.co/",
        {"tag_channel": "sms"},
        Kind.HUMAN,
        S.MESSAGING,
        "sms",
        True,
        E.TAG,
    ),
    (
        "tag-beats-in-app",
        INSTAGRAM,
        "",
        {"tag_channel": "email"},
        Kind.HUMAN,
        S.EMAIL,
        "email",
        True,
        E.TAG,
    ),
    (
        "tag-qr-offline",
        CHROME,
        "",
        {"tag_channel": "qr"},
        Kind.HUMAN,
        S.OFFLINE,
        "qr",
        False,
        E.TAG,
    ),
    (
        "tag-social",
        CHROME,
        "",
        {"tag_channel": "linkedin"},
        Kind.HUMAN,
        S.SOCIAL,
        "linkedin",
        False,
        E.TAG,
    ),
    (
        "tag-beats-copy",
        CHROME,
        "",
        {"tag_channel": "telegram", "copy": True},
        Kind.HUMAN,
        S.MESSAGING,
        "telegram",
        True,
        E.TAG,
    ),
    (
        "unknown-tag-ignored",
        CHROME,
        "https://t.co/",
        {"tag_channel": "carrier-pigeon"},
        Kind.HUMAN,
        S.SOCIAL,
        "twitter",
        False,
        E.REFERRER,
    ),
    # 3. Copy-paste token.
    ("copy", CHROME, "", {"copy": True}, Kind.HUMAN, S.DARK, None, True, E.COPY),
    (
        "copy-beats-referrer",
        CHROME,
        "https://www.google.com/",
        {"copy": True},
        Kind.HUMAN,
        S.DARK,
        None,
        True,
        E.COPY,
    ),
    # 4. Referrer.
    (
        "referrer-social-shim",
        CHROME,
        "https://t.co/",
        {},
        Kind.HUMAN,
        S.SOCIAL,
        "twitter",
        False,
        E.REFERRER,
    ),
    (
        "referrer-search",
        CHROME,
        "https://www.google.fr/",
        {},
        Kind.HUMAN,
        S.SEARCH,
        "google",
        False,
        E.REFERRER,
    ),
    (
        "referrer-webmail",
        CHROME,
        "https://mail.google.com/",
        {},
        Kind.HUMAN,
        S.EMAIL,
        "gmail",
        True,
        E.REFERRER,
    ),
    (
        "referrer-messaging",
        CHROME,
        "https://web.whatsapp.com/",
        {},
        Kind.HUMAN,
        S.MESSAGING,
        "whatsapp",
        True,
        E.REFERRER,
    ),
    (
        "referrer-referral",
        CHROME,
        "https://www.bbc.co.uk/news",
        {},
        Kind.HUMAN,
        S.REFERRAL,
        "bbc.co.uk",
        False,
        E.REFERRER,
    ),
    (
        "referrer-beats-in-app",
        INSTAGRAM,
        "https://en.wikipedia.org/wiki/URL_shortening",
        {},
        Kind.HUMAN,
        S.REFERRAL,
        "wikipedia.org",
        False,
        E.REFERRER,
    ),
    (
        "app-shim-names-the-app",
        FACEBOOK,
        "https://lm.facebook.com/",
        {},
        Kind.HUMAN,
        S.SOCIAL,
        "facebook",
        False,
        E.REFERRER,
    ),
    (
        "internal-own-host",
        CHROME,
        "https://go.brand.com/stats",
        {"own_hosts": OWN},
        Kind.HUMAN,
        S.INTERNAL,
        None,
        False,
        E.REFERRER,
    ),
    (
        "internal-target-site",
        CHROME,
        "https://www.example.com/",
        {"target_site": "example.com"},
        Kind.HUMAN,
        S.INTERNAL,
        None,
        False,
        E.REFERRER,
    ),
    # 5. In-app browser of a known app.
    ("in-app-messaging", MESSENGER, "", {}, Kind.HUMAN, S.MESSAGING, "messenger", True, E.IN_APP),
    ("in-app-social", INSTAGRAM, "", {}, Kind.HUMAN, S.SOCIAL, "instagram", False, E.IN_APP),
    ("in-app-search", GOOGLE_APP, "", {}, Kind.HUMAN, S.SEARCH, "google", False, E.IN_APP),
    (
        "garbage-referrer-falls-to-in-app",
        MESSENGER,
        "about:blank",
        {},
        Kind.HUMAN,
        S.MESSAGING,
        "messenger",
        True,
        E.IN_APP,
    ),
    # 6. Nothing: dark.
    ("nothing", CHROME, "", {}, Kind.HUMAN, S.DARK, None, True, E.NONE),
    ("unknown-webview-is-dark", ANDROID_WV, "", {}, Kind.HUMAN, S.DARK, None, True, E.NONE),
]


@pytest.mark.parametrize(
    ("ua", "referrer", "options", "kind", "source", "channel", "dark", "evidence"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_precedence(
    ua: str,
    referrer: str,
    options: dict,
    kind: Kind,
    source: Source | None,
    channel: str | None,
    dark: bool,
    evidence: Evidence,
) -> None:
    hit = classify_hit(ua, referrer, **options)
    assert (hit.kind, hit.source, hit.channel, hit.dark, hit.evidence) == (
        kind,
        source,
        channel,
        dark,
        evidence,
    )


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_dark_means_a_human_from_a_private_source(case: tuple) -> None:
    _, ua, referrer, options, *_ = case
    hit = classify_hit(ua, referrer, **options)
    assert hit.dark == (hit.kind is Kind.HUMAN and hit.source in DARK_SOURCES)


def test_as_dict_is_json_ready() -> None:
    fields = classify_hit(MESSENGER, "").as_dict()
    assert fields == {
        "kind": "human",
        "source": "messaging",
        "channel": "messenger",
        "dark": True,
        "evidence": "in-app",
        "device": "mobile",
        "os": "Android",
        "browser": "Facebook Messenger",
        "app": "Messenger",
    }
    assert all(type(value) in (str, bool) for value in fields.values())
    assert json.loads(json.dumps(classify_hit("curl/8", "").as_dict()))["source"] is None


def test_attribution_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        classify_hit(CHROME, "").kind = Kind.BOT  # type: ignore[misc]


@pytest.mark.parametrize(
    ("ua", "referrer", "options"),
    [
        (None, None, {}),
        (42, b"https://t.co/", {}),
        ("", "", {"own_hosts": None, "target_site": 7, "tag_channel": ["sms"], "copy": "yes"}),
        ("\ud800", "https://\ud800/", {"own_hosts": ["\ud800"]}),
    ],
    ids=["none", "wrong-types", "junk-options", "surrogates"],
)
def test_garbage_gives_an_attribution(ua: object, referrer: object, options: dict) -> None:
    assert isinstance(classify_hit(ua, referrer, **options), Attribution)  # type: ignore[arg-type]
