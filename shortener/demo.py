"""`python -m shortener demo`: a realistic 90-day history, recorded by the real recording code.

Seven links with tags and share variants get a seeded, random but plausible history: launches that
fade, quieter weekends, every channel family and every kind of evidence (tagged share links,
copy-paste arrivals, referrers, in-app browsers, preview-inferred and unattributed clicks), link
previews (shares observed), share-button clicks (shares made), bots and requests for unknown codes.

Each hit is a `Hit` whose time lies in the past, attributed by `classify_hit` and recorded by
`record_hit` exactly as the redirect does (copy-paste arrivals by `record_copy_arrival`, share
buttons by `record_share`, unknown codes by `record_orphan`), in time order, so preview correlation,
day aggregates, unique visitors and raw streams come out as they would have live. Stream entries
carry each hit's own time; trimming by age keeps the last `LUMEN_HIT_RETENTION_DAYS` (90 by default)
before each hit, so a 90-day history is kept whole, and a link's stream keeps its newest
`LUMEN_HIT_RETENTION_COUNT` hits.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from config import Settings
from shortener.analytics.attribution import classify_hit
from shortener.analytics.cascade import Arrival
from shortener.analytics.referrers import registrable_domain
from shortener.context import AppContext
from shortener.hits.recording import (
    Hit,
    daily_key,
    day_of,
    network_hash,
    record_hit,
    record_orphan,
    visitor_hash,
)
from shortener.links import Link, LinkStore, now_ms
from shortener.shares import record_cascade_arrival, record_copy_arrival, record_share

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
# The history's instance-wide counts are written this many hits at a time (as a worker's tally
# writes a second's worth), so that they never wait in memory by the hundred thousand.
FLUSH_EVERY = 10_000

# Real user-agents (the shapes of shared/corpus/hits.jsonl): browsers people click with.
MOBILE_BROWSERS = (
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/18.2 Mobile/15E148 Safari/604.1"
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.6668.70 Mobile Safari/537.36"
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ),
)
DESKTOP_BROWSERS = (
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36"
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.5 Safari/605.1.15"
    ),
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0"
    ),
)
IN_APP = {
    "whatsapp": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/141.0.7390.124 Mobile Safari/537.36 [WA4A/2.25.32.75;]"
    ),
    "messenger": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 "
        "[FBAN/Messenger;FBAV/450.0.0.34.109;FBBV/600000000;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]"
    ),
    "telegram": (
        "Mozilla/5.0 (Linux; Android 9; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/138.0.7204.180 Safari/537.36 Telegram-Android/12.3.1 (Xiaomi 2304FPN6DG; "
        "Android 14; SDK 34; HIGH)"
    ),
    "facebook": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 "
        "[FBAN/FBIOS;FBAV/470.0.0.40.95;FBBV/620000000;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]"
    ),
    "instagram": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 Instagram 296.0.0.18.107 (iPhone14,8; iOS 16_6; en_US; en; "
        "scale=3.00; 1284x2778; 500000000)"
    ),
    "linkedin": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 [LinkedInApp]/9.29.8361"
    ),
    "google": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) GSA/330.0.663117429 Mobile/15E148 Safari/604.1"
    ),
    "teams": (
        "Mozilla/5.0 (iPad; CPU OS 14_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Mobile/15E148 TeamsMobile-iOS"
    ),
}
PREVIEWERS = {
    "whatsapp": "WhatsApp/2.23.20.0 A",
    "telegram": "TelegramBot (like TwitterBot)",
    "imessage": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like "
        "Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
    ),
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "signal": "WhatsApp/2",
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "twitter": "Twitterbot/1.0",
    "linkedin": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "outlook": "Microsoft Office/16.0 (Microsoft Outlook Mail 16.0.6525; Pro)",
}
BOTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)"
    ),
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
)
REFERRERS = {
    "social": (
        "https://l.facebook.com/l.php",
        "https://t.co/x9Zq",
        "https://lnkd.in/",
        "https://www.reddit.com/r/marketing/",
        "https://l.instagram.com/",
        "https://bsky.app/",
        "https://news.ycombinator.com/",
    ),
    "search": (
        "https://www.google.com/",
        "https://www.google.co.uk/",
        "https://www.bing.com/",
        "https://duckduckgo.com/",
        "https://www.ecosia.org/",
    ),
    "referral": (
        "https://www.theverge.com/2026/launch",
        "https://medium.com/@growth/dark-social",
        "https://www.producthunt.com/",
        "https://en.wikipedia.org/wiki/Dark_social",
        "https://blog.mozilla.org/",
    ),
    "email": (
        "https://mail.google.com/",
        "https://outlook.office.com/",
        "android-app://com.google.android.gm/",
        "https://mail.yahoo.com/",
    ),
    "messaging": (
        "https://app.slack.com/",
        "https://l.messenger.com/",
        "https://discord.com/",
        "https://web.whatsapp.com/",
        "https://web.telegram.org/",
    ),
}
LANGUAGES = (
    ("en-us", 38),
    ("en-gb", 12),
    ("de-de", 10),
    ("fr-fr", 9),
    ("es-es", 8),
    ("pt-br", 6),
    ("it-it", 4),
    ("nl-nl", 4),
    ("ja", 3),
    ("-", 3),
)


@dataclass(frozen=True, slots=True)
class DemoLink:
    """One link of the demo and the shape of its traffic."""

    title: str
    url: str
    tags: tuple[str, ...]
    variants: tuple[str, ...]
    clicks_per_day: float  # at the peak of its launch
    launched_days_ago: int
    shares_buttons: bool = (
        False  # its page carries share buttons (shares made, copy-paste arrivals)
    )


# How the people who click a share button had come (the share cascade): mostly another way (the
# root of a cascade), some through a share link of the page, a few through a share of a share.
SHARERS = (
    Arrival(0, "page"),
    Arrival(0, "page"),
    Arrival(0, "page"),
    Arrival(1, "whatsapp", "page"),
    Arrival(1, "facebook", "page"),
    Arrival(1, "email", "page"),
    Arrival(2, "telegram", "whatsapp"),
)
CASCADE_BUTTONS = frozenset({"whatsapp", "sms", "email", "messenger", "telegram", "twitter"})

LINKS = (
    DemoLink(
        "Spring sale: 30 % off everything",
        "https://shop.example.com/spring-sale?utm_campaign=spring",
        ("campaign", "spring"),
        ("whatsapp", "sms", "email", "facebook"),
        180,
        40,
    ),
    DemoLink(
        "Launch post: meet Lumen 2",
        "https://blog.example.com/2026/lumen-2",
        ("blog", "launch"),
        ("twitter", "linkedin", "telegram", "copy"),
        130,
        75,
        shares_buttons=True,
    ),
    DemoLink(
        "Newsletter #42: the dark social issue",
        "https://example.com/newsletter/42",
        ("newsletter",),
        ("email",),
        70,
        60,
    ),
    DemoLink(
        "Podcast ep. 12 with the WhatsApp team",
        "https://podcast.example.org/episodes/12",
        ("podcast",),
        ("whatsapp", "sms"),
        50,
        25,
        shares_buttons=True,
    ),
    DemoLink(
        "Meetup sign-up (posters)",
        "https://events.example.com/meetup-2026",
        ("event", "campaign"),
        ("qr",),
        35,
        18,
    ),
    DemoLink(
        "We are hiring: product designer",
        "https://example.com/careers/designer",
        ("hr",),
        ("linkedin", "email"),
        25,
        88,
    ),
    DemoLink("Getting started guide", "https://docs.example.com/start", ("docs",), (), 20, 89),
)


@dataclass
class Event:
    """A hit (or share-button click) to record at `time_ms`."""

    time_ms: int
    link: Link
    code: str
    ua: str
    referrer: str = ""
    variant: str = ""
    ip: str = ""
    language: str = "en-us"
    copy_generation: int = 0
    share_button: str = ""
    cascade: Arrival | None = None  # a share button click: the sharer's arrival
    cascade_arrival: bool = False  # a visitor a cascade share brought, as share.js reports it


@dataclass
class DemoSummary:
    """What the demo recorded."""

    links: list[Link] = field(default_factory=list)
    hits: int = 0
    shares_made: int = 0
    orphans: int = 0


class _Traffic:
    """Draws the events of one link and day."""

    def __init__(
        self, rng: random.Random, link: Link, spec: DemoLink, codes: dict[str, str]
    ) -> None:
        self.rng = rng
        self.link = link
        self.spec = spec
        self.codes = codes  # variant channel -> its code
        self.site = registrable_domain(link.url) or ""
        self.seen: list[tuple[str, str]] = []

    def ip(self) -> str:
        return (
            f"10.{self.rng.randrange(256)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"
        )

    def visitor(self) -> tuple[str, str]:
        """A visitor's (IP, browser): one in six came earlier that day and comes back."""
        if self.seen and self.rng.random() < 1 / 6:
            return self.rng.choice(self.seen)
        visitor = (self.ip(), self.browser())
        self.seen.append(visitor)
        return visitor

    def browser(self, mobile_share: float = 0.65) -> str:
        pool = MOBILE_BROWSERS if self.rng.random() < mobile_share else DESKTOP_BROWSERS
        return self.rng.choice(pool)

    def language(self) -> str:
        names, weights = zip(*LANGUAGES, strict=True)
        return str(self.rng.choices(names, weights)[0])

    def event(self, time_ms: int, ua: str, **fields: object) -> Event:
        fields.setdefault("ip", self.ip())
        fields.setdefault("language", self.language())
        variant = str(fields.get("variant", ""))
        code = self.codes[variant] if variant else self.link.code
        return Event(time_ms=time_ms, link=self.link, code=code, ua=ua, **fields)  # type: ignore[arg-type]

    def day(self, start_ms: int, clicks: int) -> list[Event]:
        """About `clicks` human clicks spread over the day, plus the previews and bots around
        them."""
        rng = self.rng
        events: list[Event] = []

        def at() -> int:
            # Busier in the day than at night (UTC, a European audience).
            hour = min(23, max(0, int(rng.gauss(14, 4.5))))
            return start_ms + hour * HOUR_MS + rng.randrange(HOUR_MS)

        self.seen.clear()

        def direct() -> list[Event]:
            ip, ua = self.visitor()
            return [self.event(at(), ua, ip=ip)]

        mix: list[tuple[float, Callable[[], list[Event]]]] = [
            (20, direct),  # dark direct
            (
                9,
                lambda: self.private_share(
                    at(),
                    rng.choice(
                        (
                            "whatsapp",
                            "whatsapp",
                            "imessage",
                            "telegram",
                            "signal",
                            "slack",
                            "discord",
                        )
                    ),
                ),
            ),
            (
                6,
                lambda: [
                    self.event(
                        at(), IN_APP[rng.choice(("whatsapp", "messenger", "telegram", "teams"))]
                    )
                ],
            ),
            (
                6,
                lambda: [self.event(at(), self.browser(), referrer=rng.choice(REFERRERS["email"]))],
            ),
            (
                4,
                lambda: [
                    self.event(at(), self.browser(0.4), referrer=rng.choice(REFERRERS["messaging"]))
                ],
            ),
            (
                9,
                lambda: [
                    self.event(at(), self.browser(), referrer=rng.choice(REFERRERS["social"]))
                ],
            ),
            (
                6,
                lambda: [
                    self.event(at(), IN_APP[rng.choice(("facebook", "instagram", "linkedin"))])
                ],
            ),
            (
                8,
                lambda: [
                    self.event(at(), self.browser(0.5), referrer=rng.choice(REFERRERS["search"]))
                ],
            ),
            (2, lambda: [self.event(at(), IN_APP["google"])]),
            (
                4,
                lambda: [
                    self.event(at(), self.browser(0.4), referrer=rng.choice(REFERRERS["referral"]))
                ],
            ),
            (
                2,
                lambda: [
                    self.event(at(), self.browser(0.3), referrer=f"https://www.{self.site}/about")
                ],
            ),
        ]
        if self.spec.variants:
            mix.append((14, lambda: self.tagged(at())))
        if self.spec.shares_buttons:
            mix.append((4, lambda: self.copy_arrival(at())))
        weights = [w for w, _ in mix]
        draws = [draw for _, draw in mix]
        made = sum(1 for e in events if not e.share_button and not self.is_automated(e.ua))
        while made < clicks:
            drawn = rng.choices(draws, weights)[0]()
            made += sum(1 for e in drawn if not e.share_button and not self.is_automated(e.ua))
            events.extend(drawn)
        for _ in range(rng.randrange(0, 4)):  # crawlers, monitors, scripts, mail image proxies
            events.append(self.event(at(), rng.choice(BOTS)))
        if rng.random() < 0.5:  # a public share shows as a social network's preview fetch
            channel = rng.choice(("facebook", "twitter", "linkedin", "outlook"))
            events.append(self.event(at(), PREVIEWERS[channel]))
        return events

    @staticmethod
    def is_automated(ua: str) -> bool:
        return ua in PREVIEWERS.values() or ua in BOTS

    def private_share(self, time_ms: int, app: str) -> list[Event]:
        """Someone pastes the link into a chat: the app fetches a preview, friends click later."""
        sender = self.ip()
        events = [self.event(time_ms, PREVIEWERS[app], ip=sender)]
        if self.rng.random() < 0.2:  # the sender tries the link: not credited to the app
            events.append(
                self.event(
                    time_ms + self.rng.randrange(60_000, 600_000), self.browser(0.9), ip=sender
                )
            )
        for _ in range(self.rng.choice((1, 1, 2, 2, 3, 4))):
            delay = int(self.rng.expovariate(1 / (1.5 * HOUR_MS)))
            if delay < 6 * HOUR_MS:
                events.append(self.event(time_ms + delay, self.browser(0.9)))
        return events

    def tagged(self, time_ms: int) -> list[Event]:
        """A click on a share variant; a share button click before it when the page has buttons."""
        channel = self.rng.choice(self.spec.variants)
        ua = self.browser(0.8)
        events = []
        if self.spec.shares_buttons and self.rng.random() < 0.6:
            sharer = self.rng.choice(SHARERS)  # how the person who shared had come
            events.append(
                Event(
                    time_ms - self.rng.randrange(60_000, HOUR_MS),
                    self.link,
                    self.link.code,
                    "",
                    share_button=channel,
                    cascade=sharer,
                )
            )
            if channel in CASCADE_BUTTONS:
                brought = Arrival(min(sharer.generation + 1, 99), channel, sharer.channel)
                events.append(
                    Event(time_ms, self.link, "", "", cascade=brought, cascade_arrival=True)
                )
        if channel == "qr":
            ua = self.rng.choice(MOBILE_BROWSERS)
        events.append(self.event(time_ms, ua, variant=channel))
        return events

    def copy_arrival(self, time_ms: int) -> list[Event]:
        """A visitor who pasted the page's address, copied with its copy-paste token."""
        return [
            self.event(time_ms, self.browser(), copy_generation=self.rng.choice((1, 1, 1, 2, 3)))
        ]


def _clicks_on(rng: random.Random, spec: DemoLink, day_number: int, days_ago: int) -> int:
    """Clicks a link gets on a day: zero before launch, a peak that fades, quieter weekends."""
    age = spec.launched_days_ago - days_ago
    if age < 0:
        return 0
    fade = 0.25 + 0.75 * math.exp(-age / 12)
    weekday = (day_number + 3) % 7  # days since 1970-01-01, a Thursday; 0 = Monday
    weekend = 0.6 if weekday >= 5 else 1.0
    return max(
        0, int(rng.gauss(spec.clicks_per_day * fade * weekend, spec.clicks_per_day * 0.12 * fade))
    )


def _record(ctx: AppContext, event: Event, summary: DemoSummary) -> None:
    settings: Settings = ctx.settings
    r, keys, policy = ctx.redis, ctx.keys, ctx.recording
    if event.share_button:
        record_share(r, keys, event.link.id, event.share_button, event.time_ms, event.cascade)
        summary.shares_made += 1
        return
    if event.cascade_arrival and event.cascade is not None:
        record_cascade_arrival(r, keys, event.link.id, event.cascade, event.time_ms)
        return
    secret = daily_key(ctx.secret_key, day_of(event.time_ms))
    hit = Hit(
        time_ms=event.time_ms,
        domain=event.link.domain,
        code=event.code,
        referrer=event.referrer,
        user_agent=event.ua,
        language=event.language,
        visitor=visitor_hash(secret, event.ip, event.ua),
        ip_hash=network_hash(secret, event.ip),
    )
    if event.copy_generation:
        record_copy_arrival(
            r,
            keys,
            event.link,
            hit,
            event.copy_generation,
            tally=ctx.tally,
            policy=policy,
        )
    else:
        attribution = classify_hit(
            event.ua,
            event.referrer,
            own_hosts=settings.all_domains,
            target_site=registrable_domain(event.link.url),
            tag_channel=event.variant or None,
        )
        record_hit(
            r,
            keys,
            event.link.id,
            hit,
            attribution,
            tally=ctx.tally,
            policy=policy,
        )
    summary.hits += 1


def fill_demo(
    ctx: AppContext,
    *,
    days: int = 90,
    seed: int = 2026,
    scale: float = 1.0,
    track: Callable[[list[Event]], Iterable[Event]] = iter,
) -> DemoSummary:
    """Create the demo links and record `days` days of traffic up to now; `scale` multiplies it.

    `track` wraps the list of events as they are recorded (the CLI passes a progress bar).
    """
    rng = random.Random(seed)
    store: LinkStore = ctx.links
    summary = DemoSummary()
    events: list[Event] = []
    now = now_ms()
    today_start = now - now % DAY_MS
    for spec in LINKS:
        link = store.create({"url": spec.url, "title": spec.title, "tags": ["demo", *spec.tags]})
        codes = {channel: store.add_variant(link.id, channel)[0].code for channel in spec.variants}
        summary.links.append(link)
        traffic = _Traffic(rng, link, spec, codes)
        for days_ago in range(min(days, spec.launched_days_ago + 1) - 1, -1, -1):
            clicks = int(_clicks_on(rng, spec, now // DAY_MS - days_ago, days_ago) * scale)
            events.extend(traffic.day(today_start - days_ago * DAY_MS, clicks))
    events = sorted((e for e in events if e.time_ms < now), key=lambda e: e.time_ms)
    for number, event in enumerate(track(events), 1):
        _record(ctx, event, summary)
        if number % FLUSH_EVERY == 0:
            ctx.tally.flush()
    for days_ago in range(days):  # typos and truncated links: requests for codes nobody owns
        for _ in range(rng.randrange(0, 5)):
            when = today_start - days_ago * DAY_MS + rng.randrange(DAY_MS)
            if when < now:
                record_orphan(
                    ctx.tally,
                    ctx.keys,
                    Hit(
                        when,
                        store.default_domain,
                        f"x{rng.randrange(10**6)}",
                        "",
                        rng.choice(MOBILE_BROWSERS),
                        "-",
                        "",
                        "",
                    ),
                )
                summary.orphans += 1
    ctx.tally.flush()
    return summary
