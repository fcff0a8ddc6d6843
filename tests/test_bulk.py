"""Bulk creation: the API's array endpoint, and the CLI's CSV import (resumable) and export."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import redis

import config
from shortener.bulk import EXPORT_COLUMNS, import_rows, journal_path
from shortener.context import build_context
from shortener.embedded_redis import EmbeddedRedis
from shortener.store import connect
from tests.conftest import DOMAINS


def all_links(client, auth) -> list[dict]:
    return client.get("/api/v1/links?limit=200", headers=auth).get_json()["links"]


def test_bulk_creates_each_item_or_reports_its_problem_in_order(client, auth):
    items = [
        {"url": "https://example.com/a", "slug": "bulk-a", "tags": ["spring"]},
        {"url": "not a url"},
        "a string",
        {"url": "https://example.com/b", "slug": "bulk-a"},
        {"url": "https://example.com/c", "colour": "red"},
        {"url": "https://example.com/d", "title": "D"},
    ]
    response = client.post("/api/v1/links/bulk", json=items, headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == [201, 422, 422, 409, 422, 201]
    assert body["created"] == 2 and body["failed"] == 4
    assert body["results"][0]["link"]["short_url"] == f"https://{DOMAINS[0]}/bulk-a"
    assert body["results"][1]["problem"]["field"] == "url"
    assert body["results"][3]["problem"]["field"] == "slug"
    assert body["results"][4]["problem"]["field"] == "colour"
    assert body["results"][5]["link"]["title"] == "D"
    # Nothing half-made: exactly the two good items exist.
    assert sorted(link["url"] for link in all_links(client, auth)) == [
        "https://example.com/a",
        "https://example.com/d",
    ]


def test_bulk_takes_a_thousand_with_titles_and_refuses_more(client, auth):
    items = [
        {"url": f"https://example.com/articles/{n}/" + "a" * 200, "title": "t" * 100, "tags": ["x"]}
        for n in range(1000)
    ]
    assert len(json.dumps(items)) > 300_000  # far over the 64 KiB other requests may send
    response = client.post("/api/v1/links/bulk", json=items, headers=auth)
    assert response.status_code == 200 and response.get_json()["created"] == 1000
    over = client.post("/api/v1/links/bulk", json=[*items, {"url": "https://e.com"}], headers=auth)
    assert over.status_code == 413 and over.mimetype == "application/problem+json"
    assert "1,000" in over.get_json()["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [("", 400), ("{", 400), ('{"url": "https://e.com"}', 400), ("[]", 422), ("[" * 1000, 400)],
    ids=["empty", "malformed", "object", "no-items", "nested-too-deep"],
)
def test_bulk_refuses_a_body_that_is_not_a_list_of_items(client, auth, body, status):
    response = client.post(
        "/api/v1/links/bulk", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == status and response.mimetype == "application/problem+json"


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_import_reports_bad_rows_and_resumes_without_duplicates(run_cli, tmp_path, redis_client):
    source = tmp_path / "links.csv"
    rows = [
        {
            "url": "https://example.com/1",
            "slug": "one",
            "title": "One",
            "tags": "a,b",
            "max_clicks": "",
        },
        {"url": "ftp://example.com/2", "slug": "two", "title": "Two", "tags": "", "max_clicks": ""},
        {
            "url": "https://example.com/3",
            "slug": "",
            "title": "=SUM(1)",
            "tags": "",
            "max_clicks": "5",
        },
    ]
    write_csv(source, rows)
    first = run_cli("links", "import", str(source))
    assert first.returncode == 1, first.stderr
    assert "row 3: url: url must start with http:// or https://" in first.stderr
    assert "Created 2 links, skipped 0 already imported, 1 rows refused" in first.stdout
    assert "import" in first.stderr and "3/3" in first.stderr  # the progress bar
    rows[1]["url"] = "https://example.com/2"
    write_csv(source, rows)
    second = run_cli("links", "import", str(source))
    assert second.returncode == 0, second.stderr
    assert "Created 1 links, skipped 2 already imported, 0 rows refused" in second.stdout
    assert len(redis_client.hgetall("lumen:codes:go.test")) == 3
    journal = list(csv.DictReader(journal_path(source).open()))
    assert [entry["row"] for entry in journal] == ["2", "4", "3"]
    assert journal[2]["short_url"] == "https://go.test/two"


def test_import_stops_when_a_journalled_row_changed(run_cli, tmp_path):
    source = tmp_path / "links.csv"
    write_csv(source, [{"url": "https://example.com/1"}])
    assert run_cli("links", "import", str(source)).returncode == 0
    write_csv(source, [{"url": "https://example.com/changed"}])
    result = run_cli("links", "import", str(source))
    assert result.returncode == 2 and "row 2 changed since it was imported" in result.stderr


def test_import_refuses_an_unknown_column_before_creating_anything(run_cli, tmp_path, redis_client):
    source = tmp_path / "links.csv"
    write_csv(source, [{"url": "https://example.com/1", "colour": "red"}])
    result = run_cli("links", "import", str(source))
    assert result.returncode == 2 and "unknown column 'colour'" in result.stderr
    assert not redis_client.keys("lumen:codes:*")


def test_an_interrupted_import_resumes_after_the_last_row_made(app, tmp_path, redis_client):
    ctx = app.extensions["lumen"]
    text = "url,slug\n" + "".join(f"https://example.com/{n},s{n}\n" for n in range(5))
    journal = tmp_path / "j.csv"
    outcomes = import_rows(ctx.links, io.StringIO(text), journal)
    assert [next(outcomes).status for _ in range(2)] == ["created", "created"]
    outcomes.close()  # the process dies here
    again = [o.status for o in import_rows(ctx.links, io.StringIO(text), journal)]
    assert again == ["skipped", "skipped", "created", "created", "created"]
    assert len(redis_client.hgetall(f"lumen:codes:{DOMAINS[0]}")) == 5


def test_export_writes_every_link_and_imports_again(run_cli, tmp_path, redis_client, redis_server):
    assert (
        run_cli(
            "links", "create", "https://example.com/x", "--slug", "x", "--title", "-5 %"
        ).returncode
        == 0
    )
    assert (
        run_cli("links", "create", "https://example.com/y", "--tag", "t1", "--tag", "t2").returncode
        == 0
    )
    exported = run_cli("links", "export")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [row["url"] for row in rows] == ["https://example.com/y", "https://example.com/x"]
    assert rows[0]["tags"] == "t1,t2" and rows[1]["slug"] == "x" and rows[1]["title"] == "'-5 %"
    target = tmp_path / "out.csv"
    assert run_cli("links", "export", "--output", str(target), "--tag", "t1").returncode == 0
    assert [row["url"] for row in csv.DictReader(target.open())] == ["https://example.com/y"]
    # Into an empty instance: the same links, codes and titles come back.
    redis_client.flushall()
    source = tmp_path / "all.csv"
    source.write_text(exported.stdout)
    assert run_cli("links", "import", str(source)).returncode == 0
    again = list(csv.DictReader(io.StringIO(run_cli("links", "export").stdout)))
    keep = ("url", "slug", "title", "tags")

    def kept(found: list[dict[str, str]]) -> list[dict[str, str]]:
        return sorted(({k: r[k] for k in keep} for r in found), key=lambda r: r["slug"])

    assert kept(again) == kept(rows)


def test_an_import_cut_by_redis_going_away_resumes_once_it_is_back(tmp_path):
    """A Redis server of its own, stopped in the middle of an import and started again."""
    server = EmbeddedRedis(str(tmp_path / "redis"), os.environ.get("REDIS_SERVER_BIN", ""))
    server.ensure_running()
    client = connect(server.url)
    try:
        settings = config.from_env({}).replace(
            data_dir=str(tmp_path / "data"), secret_key="s", domains=("go.test",)
        )
        ctx = build_context(settings, client)
        text = "url,slug\n" + "".join(f"https://example.com/{n},r{n}\n" for n in range(6))
        journal = tmp_path / "j.csv"
        outcomes = import_rows(ctx.links, io.StringIO(text), journal)
        assert [next(outcomes).status for _ in range(3)] == ["created"] * 3
        server.stop()
        with pytest.raises(redis.RedisError):
            next(outcomes)
        server.ensure_running()  # the append-only file brings the first rows back
        again = [o.status for o in import_rows(ctx.links, io.StringIO(text), journal)]
        assert again == ["skipped"] * 3 + ["created"] * 3
        assert sorted(client.hkeys(ctx.keys.codes("go.test"))) == [f"r{n}" for n in range(6)]
    finally:
        client.close()
        server.stop()
