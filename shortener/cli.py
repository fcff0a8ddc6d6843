"""`python -m shortener`: serve, manage API keys, create links, classify hits, fill a demo
history."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import config
from shortener.errors import Conflict, LumenError

# Each command imports what it needs when it runs: `classify` must start without Redis, gevent or
# Flask (docs/ATTRIBUTION.md, start-up under 0.5 s).

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def serve(args: argparse.Namespace, settings: config.Settings) -> int:
    """Run gunicorn with gunicorn.conf.py; it starts the embedded Redis when needed."""
    env = dict(os.environ)
    port = args.port or settings.port
    env["PORT"] = str(port)
    if args.workers:
        env["LUMEN_WORKERS"] = str(args.workers)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(PROJECT_ROOT / "gunicorn.conf.py"),
        "--bind",
        f"{args.host}:{port}",
        "--no-control-socket",
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, command, env)
    return 0


def keys_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """keys create|list|revoke."""
    from shortener.apikeys import ADMIN, create_api_key, list_api_keys, revoke_api_key
    from shortener.boot import open_context
    from shortener.links import now_ms
    from shortener.validation import iso_from_ms

    with open_context(settings) as ctx:
        if args.action == "create":
            key = create_api_key(ctx.redis, ctx.keys, args.name, now_ms(), args.scope)
            scopes = ", ".join(args.scope or [ADMIN])
            print(f"Created API key {args.name!r} ({scopes}). It is shown only this once:")
            print(key)
        elif args.action == "list":
            for entry in list_api_keys(ctx.redis, ctx.keys):
                created = iso_from_ms(entry.created_at)
                print(f"{entry.name}\t{' '.join(entry.scopes)}\tcreated {created}")
        else:
            revoke_api_key(ctx.redis, ctx.keys, args.name)
            print(f"Revoked API key {args.name!r}.")
    return 0


def publishers_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """publishers create NAME --origin URL [--origin URL ...] | list | revoke NAME."""
    from shortener.boot import open_context
    from shortener.links import now_ms
    from shortener.publishers import create_publisher, list_publishers, revoke_publisher
    from shortener.validation import iso_from_ms

    with open_context(settings) as ctx:
        if args.action == "create":
            publisher = create_publisher(ctx.redis, ctx.keys, args.name, args.origin, now_ms())
            print(f"Created publisher {publisher.name!r} for {', '.join(publisher.origins)}.")
            print("Its public key goes in the share.js script tag (data-lumen-key):")
            print(publisher.key)
        elif args.action == "list":
            for publisher in list_publishers(ctx.redis, ctx.keys):
                created = iso_from_ms(publisher.created_at)
                origins = " ".join(publisher.origins)
                print(f"{publisher.name}\t{publisher.key}\t{origins}\tcreated {created}")
        else:
            revoke_publisher(ctx.redis, ctx.keys, args.name)
            print(f"Revoked publisher {args.name!r}; its pages' links and statistics are kept.")
    return 0


def links_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """links create URL [--slug] [--domain] [--title] [--tag ...] | import FILE | export."""
    from shortener.boot import open_context

    if args.action == "import":
        return import_command(args, settings)
    if args.action == "export":
        return export_command(args, settings)

    payload: dict[str, object] = {"url": args.url}
    for name in ("slug", "domain", "title"):
        if getattr(args, name):
            payload[name] = getattr(args, name)
    if args.tag:
        payload["tags"] = args.tag
    with open_context(settings) as ctx:
        link = ctx.links.create(payload)
    print(json.dumps(link.as_json(), indent=2))
    print(link.as_json()["short_url"])
    return 0


def import_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """links import FILE.csv: a link per row, resumable through the journal beside the file."""
    import redis
    from tqdm import tqdm

    from shortener.boot import open_context
    from shortener.bulk import count_rows, import_rows, journal_path

    source_path = Path(args.file)
    journal = Path(args.journal) if args.journal else journal_path(source_path)
    counts = {"created": 0, "skipped": 0, "failed": 0}
    with (
        open_context(settings) as ctx,
        source_path.open(newline="", encoding="utf-8-sig") as source,
        tqdm(total=count_rows(source_path), unit="row", desc="import", file=sys.stderr) as bar,
    ):
        try:
            for outcome in import_rows(ctx.links, source, journal):
                counts[outcome.status] += 1
                if outcome.status == "failed":
                    bar.write(f"row {outcome.row}: {outcome.error}", file=sys.stderr)
                bar.update()
        except redis.RedisError as error:
            raise LumenError(
                f"Redis failed after {sum(counts.values()):,} rows ({error}); the rows made "
                f"so far are in {journal}: run the same command again to resume"
            ) from None
    print(
        f"Created {counts['created']:,} links, skipped {counts['skipped']:,} already imported, "
        f"{counts['failed']:,} rows refused. Journal: {journal}"
    )
    if counts["failed"]:
        print("Fix the refused rows and run the same command again: done rows are skipped.")
        return 1
    return 0


def export_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """links export [--output FILE] [--tag] [--domain]: every link as CSV (importable again)."""
    from tqdm import tqdm

    from shortener.boot import open_context
    from shortener.bulk import EXPORT_COLUMNS, export_rows
    from shortener.exports import csv_lines

    with open_context(settings) as ctx:
        rows = tqdm(
            export_rows(ctx.links, tag=args.tag, domain=args.domain),
            unit="link",
            desc="export",
            file=sys.stderr,
        )
        lines = csv_lines(EXPORT_COLUMNS, rows)
        if args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                out.writelines(lines)
        else:
            sys.stdout.writelines(lines)
    return 0


def classify_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """Read JSON lines {"ua", "referrer"} on stdin; write one attribution line per input line."""
    from shortener.analytics.jsonlines import classify_lines

    sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]  # bad bytes become U+FFFD, not a crash
    for line in classify_lines(sys.stdin):
        sys.stdout.write(line + "\n")
    return 0


def demo_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """Fill a 90-day demo history (links, tags, share links, every channel) through the real
    recording code."""
    from tqdm import tqdm

    from shortener.boot import open_context
    from shortener.demo import fill_demo
    from shortener.figures import select_links
    from shortener.links import short_url

    with open_context(settings) as ctx:
        if not args.again and select_links(ctx.links, tag="demo"):
            raise Conflict(
                "the demo history is already there (links tagged 'demo'); pass --again to "
                "add another"
            )
        started = time.monotonic()
        summary = fill_demo(
            ctx,
            days=args.days,
            track=lambda events: tqdm(events, unit="hit", desc="demo", file=sys.stderr),
        )
        elapsed = time.monotonic() - started
        dashboard = short_url(ctx.settings.primary_domain, "dashboard")
    print(
        f"Recorded {summary.hits:,} hits, {summary.shares_made:,} share-button clicks and "
        f"{summary.orphans:,} "
        f"unknown-code requests over {args.days} days for {len(summary.links)} links in "
        f"{elapsed:.1f} s."
    )
    print(f"Open {dashboard} and sign in with your API key.")
    return 0


def worker_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """Deliver webhooks until interrupted (instead of, or beside, the gunicorn workers)."""
    from shortener.boot import open_context
    from shortener.context import webhook_consumer

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_context(settings) as ctx:
        print("Delivering webhooks; Ctrl-C stops.", flush=True)
        try:
            webhook_consumer(ctx).run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
    return 0


def migrate_command(args: argparse.Namespace, settings: config.Settings) -> int:
    """Upgrade the installation's keys to the current key scheme."""
    from shortener.boot import open_context
    from shortener.migration import migrate

    with open_context(settings) as ctx:
        done = migrate(ctx.redis, ctx.keys)
    if done.from_version == done.to_version:
        print(f"The keys are at scheme version {done.to_version}; nothing to do.")
    else:
        print(
            f"Migrated the keys from scheme version {done.from_version} to {done.to_version}: "
            f"{done.hits_moved:,} raw hits moved to the merged instance-wide stream."
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="python -m shortener", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve Lumen with gunicorn")
    serve_parser.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    serve_parser.add_argument("--workers", type=int, help="gunicorn worker processes")
    serve_parser.set_defaults(handler=serve)

    keys_parser = commands.add_parser("keys", help="manage API keys")
    key_actions = keys_parser.add_subparsers(dest="action", required=True)
    create_key = key_actions.add_parser("create", help="create a key and print it")
    create_key.add_argument("name")
    create_key.add_argument(
        "--scope",
        action="append",
        metavar="SCOPE",
        help="links:read, links:write, stats:read or admin (repeatable; default: admin, which "
        "may do everything)",
    )
    key_actions.add_parser("list", help="list key names")
    key_actions.add_parser("revoke", help="revoke a key").add_argument("name")
    keys_parser.set_defaults(handler=keys_command)

    publishers_parser = commands.add_parser("publishers", help="manage share-button publishers")
    publisher_actions = publishers_parser.add_subparsers(dest="action", required=True)
    create_publisher_parser = publisher_actions.add_parser(
        "create", help="create a publisher and print its key"
    )
    create_publisher_parser.add_argument("name")
    create_publisher_parser.add_argument(
        "--origin",
        action="append",
        required=True,
        help="a site origin such as https://site.example (repeatable)",
    )
    publisher_actions.add_parser("list", help="list publishers, their keys and origins")
    publisher_actions.add_parser("revoke", help="revoke a publisher's key").add_argument("name")
    publishers_parser.set_defaults(handler=publishers_command)

    links_parser = commands.add_parser("links", help="manage links")
    link_actions = links_parser.add_subparsers(dest="action", required=True)
    create = link_actions.add_parser("create", help="create a short link")
    create.add_argument("url")
    create.add_argument("--slug")
    create.add_argument("--domain")
    create.add_argument("--title")
    create.add_argument("--tag", action="append", help="a tag (repeatable)")
    importer = link_actions.add_parser(
        "import", help="create a link per row of a CSV file (resumable: see README)"
    )
    importer.add_argument("file", help="CSV whose header names url, slug, domain, title, tags…")
    importer.add_argument("--journal", help="journal of rows done (default: FILE.journal)")
    exporter = link_actions.add_parser("export", help="write every link as CSV")
    exporter.add_argument("--output", "-o", help="file to write (default: standard output)")
    exporter.add_argument("--tag", help="only links with this tag")
    exporter.add_argument("--domain", help="only links on this domain")
    links_parser.set_defaults(handler=links_command)

    worker_parser = commands.add_parser("worker", help="deliver webhooks (a consumer process)")
    worker_parser.set_defaults(handler=worker_command)

    classify_parser = commands.add_parser("classify", help="classify JSON lines of hits from stdin")
    classify_parser.set_defaults(handler=classify_command)

    demo_parser = commands.add_parser("demo", help="fill a realistic demo history (90 days)")
    demo_parser.add_argument(
        "--days",
        type=int,
        default=90,
        choices=range(1, 366),
        metavar="DAYS",
        help="days of history, 1 to 365 (default 90)",
    )
    demo_parser.add_argument(
        "--again", action="store_true", help="add another demo history next to an existing one"
    )
    demo_parser.set_defaults(handler=demo_command)

    migrate_parser = commands.add_parser(
        "migrate", help="upgrade the keys of an existing installation to the current key scheme"
    )
    migrate_parser.set_defaults(handler=migrate_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user error prints its message and exits 2."""
    args = build_parser().parse_args(argv)
    try:
        settings = config.from_env(os.environ)
        handler: Callable[[argparse.Namespace, config.Settings], int] = args.handler
        return handler(args, settings)
    except (LumenError, config.SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
