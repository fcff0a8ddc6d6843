"""The dashboard's link form: every field of a link as HTML form fields, and back to the API's
payload (so the form and the API share one validation: `LinkStore.create` / `update`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from shortener.destinations import TARGET_KEYS, UTM_FIELDS
from shortener.errors import InvalidInput
from shortener.links import Link

# Form fields of the link's own settings, in the form's order (`slug` and `domain` only on create).
PLAIN_FIELDS = ("url", "title", "slug", "domain", "tags", "expires_at", "max_clicks")
CHOICE_FIELDS = ("redirect_status", "utm_from_attribution")
UTM_INPUTS = tuple(f"utm_{name}" for name in UTM_FIELDS)
TARGET_INPUTS = tuple(f"target_{key}" for key in TARGET_KEYS)
PREVIEW_INPUTS = ("preview_title", "preview_description", "preview_image")
FORM_FIELDS = (
    *PLAIN_FIELDS,
    *CHOICE_FIELDS,
    *UTM_INPUTS,
    *TARGET_INPUTS,
    "split",
    *PREVIEW_INPUTS,
    "password",
)
CHECKBOXES = ("forward_query", "remove_password")
# utm_from_attribution's select: the instance default, on, off.
ATTRIBUTION_CHOICES = {"": None, "on": True, "off": False}
SPLIT_LINE = re.compile(r"^(\S+)(?:\s+(\d+))?$")


def form_from_link(link: Link) -> dict[str, str]:
    """A link's fields as the edit form shows them (never the password)."""
    options, destinations = link.options, link.destinations
    form = {
        "url": link.url,
        "title": link.title,
        "tags": ", ".join(link.tags),
        "expires_at": _local_time(link.expires_at),
        "max_clicks": str(link.max_clicks or ""),
        "redirect_status": str(link.redirect_status),
        "utm_from_attribution": next(
            k for k, v in ATTRIBUTION_CHOICES.items() if v == options.utm_from_attribution
        ),
        "forward_query": "on" if options.forward_query else "",
        "split": "\n".join(f"{url} {weight}" for url, weight in destinations.split),
    }
    form |= {f"utm_{name}": value for name, value in options.utm}
    form |= {f"target_{key}": url for key, url in destinations.targets}
    if options.preview is not None:
        form |= {f"preview_{name}": value for name, value in options.preview.as_json().items()}
    return form


def payload_from_form(form: Mapping[str, str], link: Link | None = None) -> dict[str, object]:
    """The API payload of a submitted form: for a new link (`link` None) empty fields are left
    out; for an edit of `link` every field is sent (empty clears it) but the password, kept unless
    a new one is typed or `remove_password` is ticked, and an expiry left as it was."""
    text = {name: form.get(name, "").strip() for name in FORM_FIELDS}
    payload: dict[str, object] = {
        name: text[name] for name in ("url", "title", "tags", "slug", "domain") if text[name]
    }
    if link is not None:
        payload = {"url": text["url"], "title": text["title"], "tags": text["tags"]}
        if text["expires_at"] != _local_time(link.expires_at):
            payload["expires_at"] = text["expires_at"] or None
        payload["max_clicks"] = _whole_number(text["max_clicks"], "max_clicks")
    else:
        if text["expires_at"]:
            payload["expires_at"] = text["expires_at"]
        if text["max_clicks"]:
            payload["max_clicks"] = _whole_number(text["max_clicks"], "max_clicks")
    payload["redirect_status"] = _whole_number(text["redirect_status"] or "302", "redirect_status")
    payload["utm"] = {name: text[f"utm_{name}"] for name in UTM_FIELDS if text[f"utm_{name}"]}
    payload["forward_query"] = form.get("forward_query") == "on"
    payload["utm_from_attribution"] = ATTRIBUTION_CHOICES.get(text["utm_from_attribution"])
    payload["targets"] = {
        key: text[f"target_{key}"] for key in TARGET_KEYS if text[f"target_{key}"]
    }
    payload["split"] = _split(text["split"])
    preview = {name.removeprefix("preview_"): text[name] for name in PREVIEW_INPUTS if text[name]}
    payload["preview"] = preview or None
    if text["password"]:
        payload["password"] = text["password"]
    elif link is not None and form.get("remove_password") == "on":
        payload["password"] = None
    return payload


def form_field_of(api_field: str | None) -> str:
    """The form field an API problem's `field` names ('targets.ios' -> 'target_ios').

    >>> form_field_of("split[1].weight"), form_field_of("utm.source"), form_field_of("color")
    ('split', 'utm_source', 'url')
    """
    name = (api_field or "").split("[")[0]
    head, _, tail = name.partition(".")
    candidate = {"targets": f"target_{tail}", "utm": f"utm_{tail}", "preview": f"preview_{tail}"}
    found = candidate.get(head, name) if tail else name
    return found if found in FORM_FIELDS else "url"


def _whole_number(value: str, field: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(f"{field} must be a whole number", field=field)
    return int(value)


def _split(value: str) -> list[dict[str, object]]:
    """Split destinations typed one per line, `URL weight` (weight 1 when left out)."""
    parts: list[dict[str, object]] = []
    for line in filter(None, (line.strip() for line in value.splitlines())):
        match = SPLIT_LINE.match(line)
        if match is None:
            raise InvalidInput(
                f"split: write one destination per line, a URL then its weight: {line[:80]!r}",
                field="split",
            )
        parts.append({"url": match[1], "weight": int(match[2] or 1)})
    return parts


def _local_time(millis: int | None) -> str:
    """Epoch ms as a datetime-local value in UTC ('' for none)."""
    if millis is None:
        return ""
    return datetime.fromtimestamp(millis / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M")
