"""Many links at once: the bulk API's items, and the CSV import (resumable) and export of links.

Each link is created whole or not at all: every field of an item or row is validated before
anything is written (`LinkStore.create`), so a bad item leaves nothing behind and the others go on.
A CSV import keeps a journal beside the file (`<file>.journal`): one line per row created, with
the row's number, a digest of its cells and the link made. Run the same import again after an
error and the rows in the journal are skipped, so nothing is created twice; a row whose cells
changed since it was journalled stops the import instead of being guessed at.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from shortener.errors import InvalidInput, LumenError
from shortener.links import Link, LinkStore

MAX_BULK_ITEMS = 1000
# A bulk body may be larger than other requests' (LUMEN_MAX_BODY_BYTES): 1,000 links with titles,
# tags and long targets come to about 2.5 MB at most.
MAX_BULK_BODY_BYTES = 4 * 1024 * 1024
# Columns an import turns into link fields; `slug` is the link's code, so an export imports again.
IMPORT_COLUMNS = (
    "url",
    "slug",
    "domain",
    "title",
    "tags",
    "expires_at",
    "max_clicks",
    "redirect_status",
)
# Columns an export adds that an import reads past (they describe a link, they do not make one).
EXPORT_ONLY_COLUMNS = ("id", "short_url", "created_at", "clicks", "human_clicks")
EXPORT_COLUMNS = ("id", "short_url", *IMPORT_COLUMNS, "created_at", "clicks", "human_clicks")
INTEGER_COLUMNS = frozenset({"max_clicks", "redirect_status"})


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What became of one bulk item: the link made, or the problem that stopped it."""

    link: Link | None = None
    error: LumenError | None = None

    def as_json(self) -> dict[str, object]:
        """`{"status": 201, "link": …}` or `{"status": 4xx, "problem": …}`, as the API shows it."""
        if self.link is not None:
            return {"status": 201, "link": self.link.as_json()}
        assert self.error is not None
        error = self.error
        problem = {"type": "about:blank", "title": error.title, "status": error.status}
        problem["detail"] = error.detail
        if error.field:
            problem["field"] = error.field
        return {"status": error.status, "problem": problem}


def create_item(links: LinkStore, item: object) -> ItemResult:
    """Create one link from one bulk item; a client error becomes the item's result."""
    try:
        if not isinstance(item, dict):
            raise InvalidInput('each item must be a JSON object, such as {"url": "https://…"}')
        return ItemResult(link=links.create(item))
    except LumenError as error:
        return ItemResult(error=error)


def check_bulk_size(items: list[object]) -> None:
    """Refuse an empty batch; a batch over MAX_BULK_ITEMS is refused by the caller (413)."""
    if not items:
        raise InvalidInput("send at least one item")


def row_payload(row: Mapping[str, str | None]) -> dict[str, object]:
    """A CSV row as a link payload: empty cells left out, whole-number columns parsed.

    >>> row_payload({"url": "https://e.com", "title": "", "max_clicks": "5", "id": "7"})
    {'url': 'https://e.com', 'max_clicks': 5}
    """
    payload: dict[str, object] = {}
    for name in IMPORT_COLUMNS:
        value = (row.get(name) or "").strip()
        if not value:
            continue
        if name in INTEGER_COLUMNS:
            try:
                payload[name] = int(value)
            except ValueError:
                raise InvalidInput(f"{name} must be a whole number", field=name) from None
        elif name == "title":
            payload[name] = restore_formula(value)
        else:
            payload[name] = value
    return payload


# A title that starts like a spreadsheet formula is exported with a leading "'" (OWASP "CSV
# injection"), and imported without it, so an export imports again unchanged.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(text: str) -> str:
    """`text`, with a leading "'" when it starts like a formula.

    >>> defuse_formula("=1+1"), restore_formula(defuse_formula("=1+1")), defuse_formula("Hi")
    ("'=1+1", '=1+1', 'Hi')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore_formula(text: str) -> str:
    """The text `defuse_formula` was given."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def check_header(columns: Iterable[str] | None) -> None:
    """The header must name `url` and nothing Lumen does not know."""
    names = list(columns or ())
    if "url" not in names:
        raise InvalidInput(
            f"the CSV header must name a url column; columns are {', '.join(IMPORT_COLUMNS)}"
        )
    known = set(IMPORT_COLUMNS) | set(EXPORT_ONLY_COLUMNS)
    if unknown := [name for name in names if name not in known]:
        raise InvalidInput(
            f"unknown column {unknown[0]!r}; columns are {', '.join(IMPORT_COLUMNS)} "
            f"(and, ignored, {', '.join(EXPORT_ONLY_COLUMNS)})"
        )


def row_digest(row: Mapping[str, str | None]) -> str:
    """A short digest of a row's import cells: the journal's check that a row did not change."""
    cells = json.dumps([row.get(name) or "" for name in IMPORT_COLUMNS])
    return hashlib.sha256(cells.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One CSV row's fate: created now, done by an earlier run, or refused with a reason."""

    row: int
    status: str  # "created", "skipped" or "failed"
    link: Link | None = None
    error: str = ""


def journal_path(csv_path: Path) -> Path:
    """Where the import of `csv_path` records the rows it created."""
    return csv_path.with_name(csv_path.name + ".journal")


def read_journal(path: Path) -> dict[int, str]:
    """Row number -> digest of the rows an earlier run of this import created."""
    if not path.exists():
        return {}
    done: dict[int, str] = {}
    with path.open(newline="") as journal:
        for entry in csv.DictReader(journal):
            done[int(entry["row"])] = entry["digest"]
    return done


def import_rows(links: LinkStore, source: TextIO, journal: Path) -> Iterator[RowOutcome]:
    """Create a link per CSV row not yet journalled, journalling each one as soon as it exists.

    Rows are numbered as a spreadsheet shows them (the header is row 1). A row that is invalid or
    collides (a taken slug) is reported and left out; a Redis failure stops the import, and the
    next run resumes after the last journalled row.
    """
    reader = csv.DictReader(source)
    check_header(reader.fieldnames)
    done = read_journal(journal)
    fresh = not journal.exists()
    with journal.open("a", newline="") as out:
        writer = csv.writer(out)
        if fresh:
            writer.writerow(("row", "digest", "id", "short_url"))
            out.flush()
        for number, row in enumerate(reader, start=2):
            digest = row_digest(row)
            if number in done:
                if done[number] != digest:
                    raise InvalidInput(
                        f"row {number} changed since it was imported (see {journal}); "
                        "restore it, or delete the journal to import the file as new"
                    )
                yield RowOutcome(number, "skipped")
                continue
            try:
                link = links.create(row_payload(row))
            except LumenError as error:
                field = f"{error.field}: " if error.field else ""
                yield RowOutcome(number, "failed", error=f"{field}{error.detail}")
                continue
            writer.writerow((number, digest, link.id, link.as_json()["short_url"]))
            out.flush()
            yield RowOutcome(number, "created", link)


def count_rows(path: Path) -> int:
    """The number of data rows in a CSV file (for the progress bar)."""
    with path.open(newline="") as source:
        return max(0, sum(1 for _ in csv.reader(source)) - 1)


def export_rows(
    links: LinkStore, *, tag: str | None = None, domain: str | None = None
) -> Iterator[tuple[object, ...]]:
    """Every link (newest first) as a row of EXPORT_COLUMNS, page by page."""
    cursor: int | None = None
    while True:
        page, cursor = links.list(cursor=cursor, limit=200, tag=tag, domain=domain)
        for link in page:
            data = link.as_json()
            yield (
                link.id,
                data["short_url"],
                link.url,
                link.code,
                link.domain,
                defuse_formula(link.title),
                ",".join(link.tags),
                data["expires_at"] or "",
                link.max_clicks or "",
                link.redirect_status,
                data["created_at"],
                link.hits,
                link.human,
            )
        if cursor is None:
            return
