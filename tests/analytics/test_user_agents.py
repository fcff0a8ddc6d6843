"""User-agent signatures: one row per rule, look-alikes, fallbacks, devices, garbage."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from shortener.analytics.user_agents import (
    FALLBACK_SIGNATURES,
    SIGNATURES,
    Client,
    all_signatures,
    classify_user_agent,
)
from shortener.analytics.vocabulary import CHANNELS, Device, Kind, Source

P, B, H = Kind.PREVIEW, Kind.BOT, Kind.HUMAN
MSG, SOC, SRCH, MAIL = Source.MESSAGING, Source.SOCIAL, Source.SEARCH, Source.EMAIL

ANDROID_WV = (
    "Mozilla/5.0 (Linux; Android 13; SM-A146M Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/117.0.0.0 Mobile Safari/537.36"
)
IPHONE_WV = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) "
    "Mobile/15E148"
)
IPHONE_SAFARI = IPHONE_WV + " Safari/604.1"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 "
    "Safari/537.36"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Mobile Safari/537.36"
)

# (id, user-agent, kind, channel, source)
CASES = [
    # Preview look-alikes before generic tokens.
    (
        "imessage-safari-facebot",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like "
        "Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        P,
        "imessage",
        MSG,
    ),
    (
        "imessage-cfnetwork",
        "MessagesViewService/1.0 CFNetwork/1120 Darwin/19.0.0",
        P,
        "imessage",
        MSG,
    ),
    (
        "imessage-share-extension",
        "Messages Share Extension/1 CFNetwork/1220.1 Darwin/20.3.0",
        P,
        "imessage",
        MSG,
    ),
    ("line-poker", "facebookexternalhit/1.1;line-poker/1.0", P, "line", MSG),
    (
        "kakaotalk-scrap",
        "facebookexternalhit/1.1;kakaotalk-scrap/1.0; +https://devtalk.kakao.com/t/scrap/33984",
        P,
        "kakaotalk",
        MSG,
    ),
    (
        "naver-blueno",
        "facebookexternalhit/1.1 (compatible; Blueno/1.0; +http://naver.me/scrap)",
        P,
        None,
        None,
    ),
    (
        "the-lounge",
        "Mozilla/5.0 (compatible; The Lounge IRC Client; +https://github.com/thelounge/thelounge)",
        P,
        "irc",
        MSG,
    ),
    ("telegram-not-twitter", "TelegramBot (like TwitterBot)", P, "telegram", MSG),
    ("signal-whatsapp-2", "WhatsApp/2", P, "signal", MSG),
    ("signal-bare-whatsapp", "WhatsApp", P, "signal", MSG),
    ("whatsapp-build-platform", "WhatsApp/2.23.20.0 A", P, "whatsapp", MSG),
    ("whatsapp-ios-old", "WhatsApp/2.12.16/i", P, "whatsapp", MSG),
    ("whatsapp-android-old", "WhatsApp/2.18.79 Android/5.1 Device/Meizu-MX5", P, "whatsapp", MSG),
    ("whatsapp-mod", "YoGBWhatsApp/2.22.10.73 A", P, "whatsapp", MSG),
    (
        "bluesky-cardyb",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko; "
        "compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app) Chrome/100.0.4896.127 "
        "Safari/537.36",
        P,
        "bluesky",
        SOC,
    ),
    (
        "discordbot",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        P,
        "discord",
        MSG,
    ),
    (
        "discord-media-proxy",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.10; rv:38.0) Gecko/20100101 Firefox/38.0",
        P,
        "discord",
        MSG,
    ),
    # Bots that look like previews.
    ("facebookcatalog", "facebookcatalog/1.0", B, None, None),
    (
        "meta-externalagent",
        "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
        B,
        None,
        None,
    ),
    (
        "pinterestbot",
        "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
        B,
        None,
        None,
    ),
    (
        "linespider",
        "Mozilla/5.0 (compatible; Linespider/1.1; +https://lin.ee/4dwXkTH)",
        B,
        None,
        None,
    ),
    (
        "tiktokspider",
        "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile "
        "Safari/537.36 "
        "(compatible; TikTokSpider; ttspider-feedback@tiktok.com)",
        B,
        None,
        None,
    ),
    (
        "bytespider",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0 like Mac OS X) AppleWebKit/537.36 "
        "(KHTML, like Gecko) "
        "Chrome/41.0.4454.1745 Mobile Safari/537.36; Bytespider",
        B,
        None,
        None,
    ),
    (
        "snapchatads",
        "Mozilla/5.0 (compatible; SnapchatAds/1.0; +https://businesshelp.snapchat.com/)",
        B,
        None,
        None,
    ),
    # Preview fetchers.
    (
        "facebookexternalhit",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        P,
        "facebook",
        SOC,
    ),
    (
        "facebookexternalhit-elsewhere",
        "Mozilla/5.0 (compatible) facebookexternalhit/1.1",
        P,
        None,
        None,
    ),
    ("twitterbot", "Twitterbot/1.0", P, "twitter", SOC),
    (
        "linkedinbot",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        P,
        "linkedin",
        SOC,
    ),
    (
        "slackbot-link-expanding",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        P,
        "slack",
        MSG,
    ),
    ("slack-imgproxy", "Slack-ImgProxy (+https://api.slack.com/robots)", P, "slack", MSG),
    (
        "skype-uri-preview",
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 "
        "skype-url-preview@microsoft.com",
        P,
        "teams",
        MSG,
    ),
    ("viber", "Viber", P, "viber", MSG),
    ("viber-url-downloader", "ViberUrlDownloader", P, "viber", MSG),
    (
        "snapchat-preview",
        "Mozilla/5.0 (compatible; SnapURLPreview/1.0; +https://www.snapchat.com)",
        P,
        "snapchat",
        SOC,
    ),
    (
        "redditbot",
        "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
        P,
        "reddit",
        SOC,
    ),
    (
        "mastodon",
        "http.rb/4.4.1 (Mastodon/3.4.0; +https://mastodon.social/) Bot",
        P,
        "mastodon",
        SOC,
    ),
    ("pinterest-pin", "Pinterest/0.2 (+http://www.pinterest.com/bot.html)", P, "pinterest", SOC),
    ("odklbot", "OdklBot/1.0 (share@odnoklassniki.ru)", P, "odnoklassniki", SOC),
    ("vkshare", "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)", P, "vk", SOC),
    ("tumblr", "Tumblr/14.0.835.186", P, "tumblr", SOC),
    ("keybase", "Mozilla/5.0 (compatible; KeybaseBot; +https://keybase.io)", P, "keybase", MSG),
    ("mattermost", "Mattermost-Bot/1.1", P, "mattermost", MSG),
    ("matrix-synapse", "Synapse (bot; +https://github.com/matrix-org/synapse)", P, "matrix", MSG),
    ("steam", "Valve/Steam HTTP Client 1.0 (SteamChatURLLookup)", P, "steam", MSG),
    (
        "yahoo-link-preview",
        "Mozilla/5.0 (compatible; Yahoo Link Preview; "
        "https://help.yahoo.com/kb/mail/yahoo-link-preview-SLN23615.html)",
        P,
        "yahoo-mail",
        MAIL,
    ),
    (
        "outlook-desktop",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.6326; Pro)",
        P,
        "outlook",
        MAIL,
    ),
    ("outlook-ios-http", "Outlook-iOS/709.2226530.prod.iphone (3.24.1)", P, "outlook", MAIL),
    ("office-existence-discovery", "Microsoft Office Existence Discovery", P, "ms-office", None),
    (
        "ms-office-msie",
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; ms-office; MSOffice 16)",
        P,
        "ms-office",
        None,
    ),
    ("apple-mail", "Mail/3731.600.7 CFNetwork/1408.0.4 Darwin/22.5.0", P, "apple-mail", MAIL),
    ("embedly", "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)", P, None, None),
    ("iframely", "Iframely/1.3.1 (+https://iframely.com/docs/about) Atlassian", P, None, None),
    # Bots.
    (
        "google-image-proxy",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        B,
        None,
        None,
    ),
    (
        "yahoo-mail-proxy",
        "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
        B,
        None,
        None,
    ),
    (
        "googlebot-smartphone",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)",
        B,
        None,
        None,
    ),
    (
        "bingbot",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        B,
        None,
        None,
    ),
    (
        "yandex-images",
        "Mozilla/5.0 (compatible; YandexImages/3.0; +http://yandex.com/bots)",
        B,
        None,
        None,
    ),
    (
        "applebot",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        B,
        None,
        None,
    ),
    (
        "sogou-spider",
        "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
        B,
        None,
        None,
    ),
    ("ahrefs", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", B, None, None),
    (
        "gptbot",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)",
        B,
        None,
        None,
    ),
    (
        "chatgpt-user",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; "
        "+https://openai.com/bot",
        B,
        None,
        None,
    ),
    ("curl", "curl/8.4.0", B, None, None),
    ("python-requests", "python-requests/2.31.0", B, None, None),
    ("go-http-client", "Go-http-client/2.0", B, None, None),
    ("okhttp", "okhttp/4.12.0", B, None, None),
    ("node-fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", B, None, None),
    (
        "headless-chrome",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36",
        B,
        None,
        None,
    ),
    ("lighthouse", CHROME + " Chrome-Lighthouse", B, None, None),
    (
        "uptimerobot",
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        B,
        None,
        None,
    ),
    ("pingdom", "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", B, None, None),
    (
        "app-insights",
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; AppInsights)",
        B,
        None,
        None,
    ),
    (
        "censys",
        "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
        B,
        None,
        None,
    ),
    # In-app browsers.
    (
        "messenger-android",
        ANDROID_WV + " [FB_IAB/Orca-Android;FBAV/267.0.0.15.119;]",
        H,
        "messenger",
        MSG,
    ),
    (
        "messenger-ios",
        IPHONE_WV + " [FBAN/MessengerForiOS;FBAV/142.0.0.38.63;FBBV/77803202]",
        H,
        "messenger",
        MSG,
    ),
    (
        "instagram",
        IPHONE_WV + " Instagram 354.0.0.29.90 (iPhone12,8; iOS 18_1; en_US; en; scale=2.00)",
        H,
        "instagram",
        SOC,
    ),
    (
        "threads",
        ANDROID_WV + " Barcelona 324.0.0.25.109 Android (34/14; 600dpi)",
        H,
        "threads",
        SOC,
    ),
    (
        "facebook-android",
        ANDROID_WV + " [FB_IAB/FB4A;FBAV/488.0.0.62.79;IABMV/1;]",
        H,
        "facebook",
        SOC,
    ),
    (
        "facebook-ios",
        IPHONE_WV + " [FBAN/FBIOS;FBAV/450.0.0.38.108;FBBV/600000000]",
        H,
        "facebook",
        SOC,
    ),
    (
        "facebook-lite",
        ANDROID_WV + "[FBAN/EMA;FBLC/en_US;FBAV/297.0.0.13.113;]",
        H,
        "facebook",
        SOC,
    ),
    (
        "tiktok",
        ANDROID_WV + " musical_ly_2022704050 JsSdk/1.0 BytedanceWebview/d8a21c6",
        H,
        "tiktok",
        SOC,
    ),
    ("snapchat", IPHONE_WV + " Snapchat/12.72.0.39 (like Safari/604.1)", H, "snapchat", SOC),
    ("pinterest", IPHONE_WV + " [Pinterest/iOS]", H, "pinterest", SOC),
    ("linkedin", ANDROID_WV + " [LinkedInApp]/9.24.1488", H, "linkedin", SOC),
    ("twitter-iphone", IPHONE_WV + " Twitter for iPhone/10.0", H, "twitter", SOC),
    ("twitter-android", ANDROID_WV + " TwitterAndroid", H, "twitter", SOC),
    ("reddit", ANDROID_WV + " Reddit/Version 2022.28.0/Build 533235/Android 12", H, "reddit", SOC),
    ("weibo", IPHONE_WV + " Weibo (iPhone10,2__weibo__12.1.2__iphone__os14.4)", H, "weibo", SOC),
    ("odnoklassniki", IPHONE_WV + " (iPad3,4) OKiOS/6.10.2 OKApp", H, "odnoklassniki", SOC),
    ("xing", IPHONE_WV + " XING-iPhone/23.10.2 (iOS; Light; de)", H, "xing", SOC),
    ("line", ANDROID_WV + " Line/14.12.2/IAB", H, "line", MSG),
    (
        "wechat",
        ANDROID_WV + " MicroMessenger/8.0.15.2001(0x28000F41) WeChat/arm64 Weixin",
        H,
        "wechat",
        MSG,
    ),
    ("whatsapp-in-app", ANDROID_CHROME + " [WA4A/2.25.32.75;]", H, "whatsapp", MSG),
    (
        "telegram-android",
        ANDROID_CHROME + " Telegram-Android/12.4.1 (Xiaomi; Android 15; SDK 35; HIGH)",
        H,
        "telegram",
        MSG,
    ),
    ("kakaotalk", IPHONE_WV + " KAKAOTALK/11.3.1 (INAPP)", H, "kakaotalk", MSG),
    ("viber-in-app", ANDROID_WV + " Viber/21.0.0.0", H, "viber", MSG),
    ("zalo", ANDROID_WV + " Zalo android/260701901 ZaloTheme/dark", H, "zalo", MSG),
    ("teams-mobile", IPHONE_WV + " TeamsMobile-iOS", H, "teams", MSG),
    (
        "google-app",
        IPHONE_WV + " GSA/334.0.674067880 Mobile/15E148 Safari/604.1",
        H,
        "google",
        SRCH,
    ),
    ("bing-app", ANDROID_WV + " BingSapphire/22.2.400225301", H, "bing", SRCH),
    ("naver-app", IPHONE_SAFARI + " NAVER(inapp; search; 596; 10.20.2; XS)", H, "naver", SRCH),
    ("outlook-in-app", IPHONE_WV + " Outlook-iOS-Android/1.0", H, "outlook", MAIL),
    # Generic bot tokens and fallbacks.
    (
        "generic-bot-token",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
        "Safari/537.36 NewsCheckerBot/1.3",
        B,
        None,
        None,
    ),
    (
        "generic-plus-url",
        "Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/120.0 (+https://example.org/about)",
        B,
        None,
        None,
    ),
    (
        "generic-email",
        "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0 ops@example.org",
        B,
        None,
        None,
    ),
    ("compatible-robot-shape", "Mozilla/5.0 (compatible; Ezooms/1.0)", B, None, None),
    (
        "not-browser-shaped",
        "Dalvik/2.1.0 (Linux; U; Android 11; Pixel 5 Build/RQ3A.210805.001.A1)",
        B,
        None,
        None,
    ),
    ("bare-mozilla", "Mozilla/5.0", B, None, None),
    ("empty", "", B, None, None),
    # Issue 16: bots that look like browsers, by what they say (instances from Google's crawler
    # pages and crawler-user-agents.json).
    (
        "duplexweb-google",
        "Mozilla/5.0 (Linux; Android 11; Pixel 2; DuplexWeb-Google/1.0) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/86.0.4240.193 Mobile Safari/537.36",
        B,
        None,
        None,
    ),
    (
        "google-search-console",
        ANDROID_CHROME + " (compatible; Google Search Console)",
        B,
        None,
        None,
    ),
    ("google-adsense-infeed", CHROME + " (compatible; GoogleAdSenseInfeed)", B, None, None),
    ("playstore-google", CHROME + " PlayStore-Google", B, None, None),
    ("pagespeed-lighthouse", ANDROID_CHROME + " Chrome-Lighthouse", B, None, None),
    ("playwright", CHROME + " Playwright/1.40.0", B, None, None),
    ("selenium", CHROME + "; Selenium", B, None, None),
    ("nikto", "Mozilla/5.00 (Nikto/2.1.5) (Evasions:None) (Test:Port Check)", B, None, None),
    ("acunetix", CHROME + " Acunetix-Product", B, None, None),
    ("securityheaders", CHROME + " SecurityHeaders", B, None, None),
    ("gtmetrix", CHROME + " GTmetrix", B, None, None),
    ("checkly", CHROME + " (Checkly, https://www.checklyhq.com)", B, None, None),
    ("newrelic-synthetics", CHROME + " NewRelicSynthetics/1.0", B, None, None),
    ("cloudflare-observatory", CHROME + " CloudflareObservatory/1.0", B, None, None),
    (
        "ai-agent",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; "
        "+https://openai.com/bot",
        B,
        None,
        None,
    ),
    ("ai-agent-browser-string", CHROME + " Perplexity-User/1.0", B, None, None),
    ("cypress", CHROME.replace("Safari", "Cypress/13.6.0 Electron/27.1.3 Safari"), B, None, None),
    ("bare-compatible", "Mozilla/5.0 (compatible)", B, None, None),
    ("bare-platform-no-engine", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", B, None, None),
    (
        "expanse-scanner",
        "Expanse, a Palo Alto Networks company, searches across the global IPv4 space multiple "
        "times per day to identify customers&#39; presences on the Internet.",
        B,
        None,
        None,
    ),
    # Issue 16: real browsers that were called bots; a browser by its engine, whatever the shape.
    (
        "ucweb-plain",
        "UCWEB/2.0 (Java; U; MIDP-2.0; en-US; Nokia6300) U2/1.0.0 UCBrowser/9.5.0.449 U2/1.0.0 "
        "Mobile",
        H,
        None,
        None,
    ),
    (
        "qq-browser",
        "MQQBrowser/26 Mozilla/5.0 (Linux; U; Android 2.3.7; zh-cn; MB200 Build/GRJ22; "
        "CyanogenMod-7) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1",
        H,
        None,
        None,
    ),
    (
        "mozilla-without-space",
        "Mozilla/5.0(Linux;U;Android 5.1.1;zh-CN;OPPO A33 Build/LMY47V) AppleWebKit/537.36"
        "(KHTML,like Gecko) Version/4.0 Chrome/40.0.2214.89 UCBrowser/11.7.0.953 Mobile "
        "Safari/537.36",
        H,
        None,
        None,
    ),
    (
        "mozilla-plus-encoded",
        "Mozilla/5.0+(iPhone;+CPU+iPhone+OS+12_1+like+Mac+OS+X)+AppleWebKit/605.1.15+"
        "(KHTML,+like+Gecko)+Version/12.0+Mobile/15E148+Safari/604.1",
        H,
        None,
        None,
    ),
    (
        "samsung-expanse-model",
        "Mozilla/5.0 (Linux; U; Android 2.3.6; en-us; SAMSUNG-SGH-I437 Galaxy Express Expanse "
        "Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1",
        H,
        None,
        None,
    ),
    # Issue 16: in-app gaps and apps' own network clients.
    ("google-app-android", ANDROID_WV + " GoogleApp/15.10.33.28.arm64", H, "google", SRCH),
    ("whatsapp-plus-mod", "WhatsApp+/2.18.80 A", P, "whatsapp", MSG),
    ("baidu-app", ANDROID_WV + " baiduboxapp/13.10.0.10 (Baidu; P1 13)", H, "baidu", SRCH),
    (
        "yahoo-japan-app",
        IPHONE_WV + " YJApp-IOS jp.co.yahoo.ipn.appli/4.26.0",
        H,
        "yahoo",
        SRCH,
    ),
    (
        "sogou-app",
        ANDROID_WV + " SogouSearch Android1.0 version3.0 AppVersion/5909",
        H,
        "sogou",
        SRCH,
    ),
    ("daum-app", IPHONE_WV + " DaumApps/8.4.3 DaumDevice/mobile", H, "daum", SRCH),
    (
        "qq-app",
        ANDROID_WV + " V1_AND_SQ_8.8.38_2266_YYB_D QQ/8.8.38.6470 NetType/WIFI",
        H,
        "qq",
        MSG,
    ),
    ("tiktok-cfnetwork", "TikTok/26.2.0 CFNetwork/1220.1 Darwin/20.3.0", H, "tiktok", SOC),
    (
        "tiktok-cronet",
        "TikTok 26.2.0 rv:262018 (iPhone; iOS 14.4.2; en_US) Cronet",
        H,
        "tiktok",
        SOC,
    ),
    (
        "pinterest-android-client",
        "Pinterest for Android/9.10.0 (SM-G950F; 9)",
        H,
        "pinterest",
        SOC,
    ),
    ("ios-app-network-client", "Podcasts/1570.2 CFNetwork/1335.0.3 Darwin/21.6.0", H, None, None),
    ("ios-bot-network-client", "FeedBot/2.1 CFNetwork/1335.0.3 Darwin/21.6.0", B, None, None),
    # Humans and look-alike negatives.
    ("chrome-desktop", CHROME, H, None, None),
    ("safari-iphone", IPHONE_SAFARI, H, None, None),
    ("android-webview-unknown-app", ANDROID_WV, H, None, None),
    ("ios-webview-unknown-app", IPHONE_WV, H, None, None),
    (
        "firefox-38-not-macos-10-10",
        "Mozilla/5.0 (Windows NT 6.1; rv:38.0) Gecko/20100101 Firefox/38.0",
        H,
        None,
        None,
    ),
    (
        "feature-phone",
        "Nokia6300/2.0 (05.00) Profile/MIDP-2.0 Configuration/CLDC-1.1",
        H,
        None,
        None,
    ),
    (
        "msie-compatible-is-a-browser",
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
        H,
        None,
        None,
    ),
    (
        "cubot-phone-not-bot",
        "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        H,
        None,
        None,
    ),
    ("sogou-browser-not-spider", ANDROID_CHROME + " SogouMobileBrowser/5.22.8", H, None, None),
    ("yandex-browser-not-bot", CHROME + " YaBrowser/24.1.0.0", H, None, None),
    (
        "electron-app-not-headless",
        CHROME.replace("Safari", "Electron/28.0.0 Safari"),
        H,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("ua", "kind", "channel", "source"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_signature(ua: str, kind: Kind, channel: str | None, source: Source | None) -> None:
    client = classify_user_agent(ua)
    assert (client.kind, client.channel, client.source) == (kind, channel, source)


@pytest.mark.parametrize(
    ("ua", "in_app", "app"),
    [
        (ANDROID_WV + " Instagram 302.1.0.36.111 Android", True, "Instagram"),
        (ANDROID_WV, True, None),
        (IPHONE_WV, True, None),
        (IPHONE_SAFARI, False, None),
        (CHROME, False, None),
        ("WhatsApp/2.23.20.0 A", False, "WhatsApp"),
    ],
    ids=["known-app", "android-webview", "ios-webview", "safari", "chrome", "preview"],
)
def test_in_app_flag(ua: str, in_app: bool, app: str | None) -> None:
    client = classify_user_agent(ua)
    assert (client.in_app, client.app) == (in_app, app)


def test_every_signature_has_a_case() -> None:
    untested = [
        pattern
        for pattern, *_ in (*SIGNATURES, *FALLBACK_SIGNATURES)
        if not any(re.search(pattern, ua) for _, ua, *_ in CASES)
    ]
    assert untested == []


def test_rust_set_agrees_with_python_re_in_table_order() -> None:
    rows = all_signatures()
    for _, ua, *_ in CASES:
        first = next((row for row in rows if re.search(row[0], ua)), None)
        client = classify_user_agent(ua)
        if first is not None:
            assert (client.kind, client.app, client.channel) == (first[1], first[2], first[3]), ua


# Instances of crawler-user-agents.json that Lumen counts as people: Meta's in-app browsers (the
# list files them because Meta also crawls with them; issue 16 requires them as Facebook and
# Instagram), the Fluid browser, and a bot hiding behind X's in-app token (a known limit).
PEOPLE_IN_THE_BOT_LIST = {"MetaIAB Facebook", r"AP3A\.240617\.008", "Fluid", "BrandVerity"}


def test_the_maintained_bot_list_is_read_and_its_instances_are_not_people() -> None:
    text = resources.files("crawleruseragents").joinpath("crawler-user-agents.json").read_text()
    entries = json.loads(text)
    assert len(entries) > 1000
    people = {
        entry["pattern"]
        for entry in entries
        for instance in entry.get("instances", [])
        if classify_user_agent(instance).kind is Kind.HUMAN
    }
    assert people == PEOPLE_IN_THE_BOT_LIST


@pytest.mark.parametrize("row", SIGNATURES, ids=lambda row: f"{row[1]}-{row[2]}")
def test_signature_channels_are_known_with_their_category(row: tuple) -> None:
    _, kind, _, channel, source = row
    if kind is Kind.BOT:
        assert (channel, source) == (None, None)
    elif channel == "ms-office":
        assert source is None
    elif channel is not None:
        assert CHANNELS[channel] == source
    else:
        assert source is None


@pytest.mark.parametrize(
    ("ua", "device"),
    [
        (IPHONE_SAFARI, Device.MOBILE),
        (ANDROID_CHROME, Device.MOBILE),
        ("Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", Device.MOBILE),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
            "like Gecko) Version/17.0 "
            "Mobile/15E148 Safari/604.1",
            Device.TABLET,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; TB330XU) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/123.0.0.0 "
            "Safari/537.36",
            Device.TABLET,
        ),
        (CHROME, Device.DESKTOP),
        # Windows RT and ME: the device rules read the OS version.
        (
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; ARM; Trident/6.0; Touch)",
            Device.TABLET,
        ),
        ("Mozilla/4.0 (compatible; MSIE 6.0; Windows 98; Win 9x 4.90)", Device.DESKTOP),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:131.0) Gecko/20100101 Firefox/131.0",
            Device.DESKTOP,
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/130.0.0.0 "
            "Safari/537.36",
            Device.DESKTOP,
        ),
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like "
            "Gecko) SamsungBrowser/4.0 "
            "Chrome/76.0.3809.146 TV Safari/537.36",
            Device.OTHER,
        ),
        ("Twitterbot/1.0", Device.BOT),
        ("curl/8.4.0", Device.BOT),
    ],
    ids=[
        "iphone",
        "android-chrome",
        "android-firefox",
        "ipad",
        "android-tablet",
        "windows",
        "windows-rt",
        "windows-me",
        "mac",
        "chromebook",
        "smart-tv",
        "preview",
        "script",
    ],
)
def test_device_class(ua: str, device: Device) -> None:
    assert classify_user_agent(ua).device == device


def test_families_come_from_ua_parser() -> None:
    client = classify_user_agent(IPHONE_SAFARI)
    assert (client.os, client.browser) == ("iOS", "Mobile Safari")
    assert classify_user_agent("").os == classify_user_agent("").browser == "Other"


@pytest.mark.parametrize(
    "ua",
    [
        None,
        42,
        b"curl/8",
        "\x00\x01",
        "\ud800 lone surrogate",
        "x" * 100_000,
        "  WhatsApp/2  ",
        "Mozilla/5.0 (" * 500,
    ],
    ids=["none", "int", "bytes", "control-chars", "surrogate", "huge", "padded", "repeated-prefix"],
)
def test_garbage_gives_a_client_not_an_error(ua: object) -> None:
    assert isinstance(classify_user_agent(ua), Client)  # type: ignore[arg-type]


def test_padding_is_ignored() -> None:
    assert classify_user_agent("  WhatsApp/2  ").channel == "signal"
