"""Referer header → `ReferrerSource` (source category and channel).

Lookup order for a web referrer, first match wins:

1. one of our own hosts, or the link target's own site → `internal`;
2. `HOSTS`: the host with `www.` stripped, then each parent domain, so `en.m.wikipedia.org`
   would match `wikipedia.org` and `notwikipedia.org` never does;
3. `BRANDS`: engines and networks living under many public suffixes (`google.co.uk`,
   `yandex.com.tr`, `pinterest.fr`), matched on the registrable domain for the bare,
   `www.` and `m.` hosts only (`mail.google.com` is in `HOSTS`, `docs.google.com` is a referral);
4. anything else → `referral`, channel = the registrable domain (`www.bbc.co.uk` → `bbc.co.uk`).

`android-app://<package>/` referrers (Chrome Custom Tabs and intents, see Android's
`Activity.getReferrer()`) are looked up in `ANDROID_APPS`; an unknown app is a `referral` named by
its package. This is the only module that imports tldextract, which runs offline on its bundled
Public Suffix List snapshot (private suffixes included, so `alice.github.io` is its own site).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

import tldextract

from shortener.analytics.vocabulary import Source

_SOC, _SRCH, _MAIL, _MSG = Source.SOCIAL, Source.SEARCH, Source.EMAIL, Source.MESSAGING

# Host (and its subdomains) → (source, channel). Sources: matomo-org/searchengine-and-social-list
# Socials.yml and SearchEngines.yml unless noted; messaging and webmail per reference §5.
HOSTS: dict[str, tuple[Source, str]] = {
    # Webmail. Listed before the portals they live under (mail.google.com is not Google search).
    "mail.google.com": (_MAIL, "gmail"),
    "outlook.live.com": (_MAIL, "outlook"),
    "outlook.office.com": (_MAIL, "outlook"),
    "outlook.office365.com": (_MAIL, "outlook"),
    "outlook.com": (_MAIL, "outlook"),
    "mail.live.com": (_MAIL, "outlook"),  # the Hotmail-era web client
    "mail.yahoo.com": (_MAIL, "yahoo-mail"),
    "mail.yahoo.co.jp": (_MAIL, "yahoo-mail"),
    "mail.aol.com": (_MAIL, "aol-mail"),
    "deref-web.de": (_MAIL, "web.de"),  # WEB.DE's link dereferrer
    "deref-web-02.de": (_MAIL, "web.de"),
    "mail.proton.me": (_MAIL, "proton-mail"),
    "mail.protonmail.com": (_MAIL, "proton-mail"),
    "mail.yandex.ru": (_MAIL, "yandex-mail"),
    "mail.yandex.com": (_MAIL, "yandex-mail"),
    "e.mail.ru": (_MAIL, "mail.ru"),
    "mail.zoho.com": (_MAIL, "zoho-mail"),
    "mail.zoho.eu": (_MAIL, "zoho-mail"),
    # Messaging web and desktop clients, and their link redirectors.
    "whatsapp.com": (_MSG, "whatsapp"),  # web.whatsapp.com
    "wa.me": (_MSG, "whatsapp"),
    "telegram.org": (_MSG, "telegram"),  # web.telegram.org
    "t.me": (_MSG, "telegram"),
    "slack.com": (_MSG, "slack"),  # app.slack.com
    "slack-redir.net": (_MSG, "slack"),  # Slack's link redirector
    "discord.com": (_MSG, "discord"),
    "discordapp.com": (_MSG, "discord"),
    "teams.microsoft.com": (_MSG, "teams"),
    "teams.live.com": (_MSG, "teams"),
    "teams.cloud.microsoft": (_MSG, "teams"),
    "statics.teams.cdn.office.net": (
        _MSG,
        "teams",
    ),  # links clicked in the Teams desktop and web apps
    "messenger.com": (_MSG, "messenger"),  # www.messenger.com, l.messenger.com (link shim)
    "web.skype.com": (_MSG, "skype"),
    "chat.google.com": (_MSG, "google-chat"),
    "line.me": (_MSG, "line"),
    "wx.qq.com": (_MSG, "wechat"),
    "weixin.qq.com": (_MSG, "wechat"),  # mp.weixin.qq.com: articles read inside WeChat
    "zalo.me": (_MSG, "zalo"),
    # Social networks and their link shims (l.facebook.com, lm.facebook.com, l.instagram.com,
    # l.threads.net, out.reddit.com, t.co, lnkd.in: optimizesmart.com on Facebook referral traffic).
    "facebook.com": (_SOC, "facebook"),
    "fb.me": (_SOC, "facebook"),
    "fb.com": (_SOC, "facebook"),
    "instagram.com": (_SOC, "instagram"),
    "threads.net": (_SOC, "threads"),
    "threads.com": (_SOC, "threads"),
    "t.co": (_SOC, "twitter"),
    "twitter.com": (_SOC, "twitter"),
    "x.com": (_SOC, "twitter"),
    "linkedin.com": (_SOC, "linkedin"),
    "lnkd.in": (_SOC, "linkedin"),
    "reddit.com": (_SOC, "reddit"),
    "redd.it": (_SOC, "reddit"),
    "youtube.com": (_SOC, "youtube"),
    "youtu.be": (_SOC, "youtube"),
    "pinterest.com": (_SOC, "pinterest"),
    "pin.it": (_SOC, "pinterest"),
    "tiktok.com": (_SOC, "tiktok"),
    "snapchat.com": (_SOC, "snapchat"),
    "bsky.app": (_SOC, "bluesky"),
    "vk.com": (_SOC, "vk"),
    "vkontakte.ru": (_SOC, "vk"),
    "ok.ru": (_SOC, "odnoklassniki"),
    "odnoklassniki.ru": (_SOC, "odnoklassniki"),
    "weibo.com": (_SOC, "weibo"),
    "weibo.cn": (_SOC, "weibo"),
    "t.cn": (_SOC, "weibo"),
    "xing.com": (_SOC, "xing"),
    "tumblr.com": (_SOC, "tumblr"),
    "workplace.com": (_SOC, "workplace"),  # l.workplace.com, lm.workplace.com
    "news.ycombinator.com": (_SOC, "hackernews"),
    "github.com": (_SOC, "github"),
    "stackoverflow.com": (_SOC, "stackoverflow"),
    "vimeo.com": (_SOC, "vimeo"),
    "flickr.com": (_SOC, "flickr"),
    "douban.com": (_SOC, "douban"),
    "qzone.qq.com": (_SOC, "qzone"),
    # Large Mastodon instances whose names do not say so (mastodon.* and mstdn.* are in BRANDS).
    "fosstodon.org": (_SOC, "mastodon"),
    "hachyderm.io": (_SOC, "mastodon"),
    "infosec.exchange": (_SOC, "mastodon"),
    "mas.to": (_SOC, "mastodon"),
    "chaos.social": (_SOC, "mastodon"),
    "techhub.social": (_SOC, "mastodon"),
    "universeodon.com": (_SOC, "mastodon"),
    "pawoo.net": (_SOC, "mastodon"),
    # Search engines. Only their search hosts: news.yahoo.co.jp is a news site, a referral.
    "bing.com": (_SRCH, "bing"),  # www.bing.com, cn.bing.com
    "duckduckgo.com": (_SRCH, "duckduckgo"),
    "search.yahoo.com": (_SRCH, "yahoo"),  # r.search.yahoo.com, uk.search.yahoo.com
    "search.yahoo.co.jp": (_SRCH, "yahoo"),
    "baidu.com": (_SRCH, "baidu"),
    "ecosia.org": (_SRCH, "ecosia"),
    "search.brave.com": (_SRCH, "brave"),
    "search.naver.com": (_SRCH, "naver"),
    "startpage.com": (_SRCH, "startpage"),
    "qwant.com": (_SRCH, "qwant"),
    "search.seznam.cz": (_SRCH, "seznam"),
    "sogou.com": (_SRCH, "sogou"),
    "search.daum.net": (_SRCH, "daum"),
    "ask.com": (_SRCH, "ask"),
    "kagi.com": (_SRCH, "kagi"),
    "ya.ru": (_SRCH, "yandex"),
}

# Registrable-domain name under any public suffix → (source, channel); bare, www. and m. hosts.
BRANDS: dict[str, tuple[Source, str]] = {
    "google": (_SRCH, "google"),  # google.com, google.co.uk, google.com.br …
    "yandex": (_SRCH, "yandex"),  # yandex.ru, yandex.com.tr …
    "pinterest": (_SOC, "pinterest"),  # pinterest.fr, pinterest.co.uk …
    "mastodon": (_SOC, "mastodon"),  # mastodon.social, mastodon.online, mastodon.green …
    "mstdn": (_SOC, "mastodon"),  # mstdn.social, mstdn.jp …
    "deref-gmx": (_MAIL, "gmx"),  # GMX's link dereferrer: deref-gmx.com, .net, .de …
}

# Android package id (lower-cased) → (source, channel); ids as published on Google Play.
ANDROID_APPS: dict[str, tuple[Source, str]] = {
    "com.google.android.gm": (_MAIL, "gmail"),  # Gmail, not Google search
    "com.microsoft.office.outlook": (_MAIL, "outlook"),
    "com.yahoo.mobile.client.android.mail": (_MAIL, "yahoo-mail"),
    "ch.protonmail.android": (_MAIL, "proton-mail"),
    "de.gmx.mobile.android.mail": (_MAIL, "gmx"),
    "de.web.mobile.android.mail": (_MAIL, "web.de"),
    "com.samsung.android.email.provider": (_MAIL, "email"),
    "com.android.email": (_MAIL, "email"),
    "com.fsck.k9": (_MAIL, "email"),  # K-9 Mail, now Thunderbird
    "net.thunderbird.android": (_MAIL, "email"),
    "com.readdle.spark": (_MAIL, "email"),
    "me.bluemail.mail": (_MAIL, "email"),
    "org.kman.aquamail": (_MAIL, "email"),
    "de.tutao.tutanota": (_MAIL, "email"),
    "com.google.android.googlequicksearchbox": (_SRCH, "google"),  # the Google app
    "com.microsoft.bing": (_SRCH, "bing"),
    "com.nhn.android.search": (_SRCH, "naver"),
    "org.telegram.messenger": (_MSG, "telegram"),
    "org.telegram.plus": (_MSG, "telegram"),
    "org.thunderdog.challegram": (_MSG, "telegram"),
    "com.slack": (_MSG, "slack"),  # published as com.Slack
    "com.whatsapp": (_MSG, "whatsapp"),
    "com.whatsapp.w4b": (_MSG, "whatsapp"),
    "org.thoughtcrime.securesms": (_MSG, "signal"),
    "ch.threema.app": (_MSG, "threema"),
    "com.wire": (_MSG, "wire"),
    "com.facebook.orca": (_MSG, "messenger"),
    "com.facebook.mlite": (_MSG, "messenger"),
    "com.discord": (_MSG, "discord"),
    "com.microsoft.teams": (_MSG, "teams"),
    "com.skype.raider": (_MSG, "skype"),
    "com.google.android.apps.dynamite": (_MSG, "google-chat"),
    "com.google.android.apps.messaging": (_MSG, "sms"),  # Google Messages (SMS/RCS)
    "com.samsung.android.messaging": (_MSG, "sms"),
    "com.viber.voip": (_MSG, "viber"),
    "jp.naver.line.android": (_MSG, "line"),
    "com.tencent.mm": (_MSG, "wechat"),
    "com.kakao.talk": (_MSG, "kakaotalk"),
    "com.zing.zalo": (_MSG, "zalo"),
    "m.facebook.com": (_SOC, "facebook"),  # seen in the wild instead of a package id
    "com.facebook.katana": (_SOC, "facebook"),
    "com.facebook.lite": (_SOC, "facebook"),
    "com.instagram.android": (_SOC, "instagram"),
    "com.instagram.barcelona": (_SOC, "threads"),
    "com.linkedin.android": (_SOC, "linkedin"),
    "com.reddit.frontpage": (_SOC, "reddit"),
    "com.twitter.android": (_SOC, "twitter"),
    "com.snapchat.android": (_SOC, "snapchat"),
    "org.joinmastodon.android": (_SOC, "mastodon"),
    "xyz.blueskyweb.app": (_SOC, "bluesky"),
    "com.pinterest": (_SOC, "pinterest"),
    "com.zhiliaoapp.musically": (_SOC, "tiktok"),
    "com.ss.android.ugc.trill": (_SOC, "tiktok"),
    "com.google.android.youtube": (_SOC, "youtube"),
    "com.vkontakte.android": (_SOC, "vk"),
}

_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*|(?=.*:)[0-9a-f:.]+")  # a DNS name, or an IPv6 address
_PACKAGE = re.compile(r"[a-z]\w*(?:\.\w+)+")
_BRAND_SUBDOMAINS = frozenset({"", "m"})


@dataclass(frozen=True, slots=True)
class ReferrerSource:
    """Where a referrer points: a source category and a channel (None for `internal`)."""

    source: Source
    channel: str | None


def classify_referrer(
    url: str,
    own_hosts: Collection[str] = (),
    target_site: str | None = None,
) -> ReferrerSource | None:
    """Classify a Referer header; None when it is empty or not an http(s)/android-app URL.

    >>> classify_referrer("https://lm.facebook.com/")
    ReferrerSource(source=<Source.SOCIAL: 'social'>, channel='facebook')
    >>> classify_referrer("https://www.google.co.uk/").channel, classify_referrer("https://mail.google.com/").channel
    ('google', 'gmail')
    >>> classify_referrer("android-app://com.google.android.gm/").channel
    'gmail'
    >>> classify_referrer("https://news.yahoo.co.jp/pickup/1")
    ReferrerSource(source=<Source.REFERRAL: 'referral'>, channel='yahoo.co.jp')
    >>> classify_referrer("https://GO.brand.com:8443/x", own_hosts=["go.brand.com"]).source
    <Source.INTERNAL: 'internal'>
    >>> classify_referrer("not a url") is None
    True
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    scheme = parts.scheme.lower()
    if scheme == "android-app" and parts.hostname:
        return _classify_android_app(parts.hostname)
    host = _valid_host(parts.hostname)
    if scheme not in ("http", "https") or host is None:
        return None
    if _is_own_host(host, own_hosts) or _is_target_site(host, target_site):
        return ReferrerSource(Source.INTERNAL, None)
    return _classify_host(host)


def registrable_domain(host_or_url: str) -> str | None:
    """The registrable domain (eTLD+1) of a host or URL; None for IPs, bare names and garbage.

    >>> registrable_domain("www.bbc.co.uk"), registrable_domain("https://www.abc.net.au/news")
    ('bbc.co.uk', 'abc.net.au')
    >>> registrable_domain("127.0.0.1") is None, registrable_domain("") is None
    (True, True)
    """
    if not isinstance(host_or_url, str):
        return None
    host = _hostname(host_or_url)
    return _registrable(host) if host else None


@functools.lru_cache(maxsize=4096)
def _registrable(host: str) -> str | None:
    return _extractor()(host).top_domain_under_public_suffix or None


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # No list URLs and no cache directory: the bundled snapshot only, no network, no disk writes.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@functools.lru_cache(maxsize=4096)
def _classify_host(host: str) -> ReferrerSource:
    host = host.removeprefix("www.")
    labels = host.split(".")
    for start in range(len(labels) - 1):
        if known := HOSTS.get(".".join(labels[start:])):
            return ReferrerSource(*known)
    site = _registrable(host)
    if site:
        name, _, _ = site.partition(".")
        subdomain = host.removesuffix(site).removesuffix(".")
        if (brand := BRANDS.get(name)) and subdomain in _BRAND_SUBDOMAINS:
            return ReferrerSource(*brand)
    return ReferrerSource(Source.REFERRAL, site or host)


def _classify_android_app(package: str) -> ReferrerSource | None:
    if not _PACKAGE.fullmatch(package):
        return None
    known = ANDROID_APPS.get(package)
    return ReferrerSource(*known) if known else ReferrerSource(Source.REFERRAL, package)


def _is_own_host(host: str, own_hosts: Collection[str]) -> bool:
    return any(isinstance(own, str) and _hostname(own) == host for own in own_hosts or ())


def _is_target_site(host: str, target_site: str | None) -> bool:
    site = registrable_domain(target_site) if isinstance(target_site, str) else None
    return site is not None and _registrable(host) == site


@functools.lru_cache(maxsize=4096)
def _hostname(host_or_url: str) -> str | None:
    """`https://Go.Brand.com:8000/x` or `Go.Brand.com:8000` → `go.brand.com`; None if not a host."""
    value = host_or_url.strip()
    try:
        parts = urlsplit(value if "://" in value else "//" + value)
    except ValueError:
        return None
    return _valid_host(parts.hostname)


def _valid_host(host: str | None) -> str | None:
    host = (host or "").rstrip(".")
    return host if len(host) <= 253 and _HOST.fullmatch(host) else None
