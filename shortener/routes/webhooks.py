"""Webhooks under /api/v1 (admin keys): register, list, delete, and read the delivery log."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

from shortener.links import now_ms
from shortener.routes import lumen
from shortener.routes.api_requests import json_body, require_api_key
from shortener.webhooks import create_webhook, delete_webhook, list_deliveries, list_webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1")
bp.before_request(require_api_key)


@bp.post("/webhooks")
def create() -> tuple[Response, int, dict[str, str]]:
    """Register a webhook; its secret is shown in this answer only."""
    ctx = lumen()
    webhook = create_webhook(
        ctx.redis, ctx.keys, json_body(), now_ms(), ctx.settings.webhook_allow_private
    )
    location = url_for("webhooks.deliveries", webhook_id=webhook.id)
    return jsonify(webhook.as_json(with_secret=True)), 201, {"Location": location}


@bp.get("/webhooks")
def list_all() -> Response:
    """Every webhook (without secrets)."""
    ctx = lumen()
    return jsonify({"webhooks": [w.as_json() for w in list_webhooks(ctx.redis, ctx.keys)]})


@bp.delete("/webhooks/<webhook_id>")
def delete(webhook_id: str) -> tuple[str, int]:
    """Delete a webhook; its pending deliveries are dropped."""
    ctx = lumen()
    delete_webhook(ctx.redis, ctx.keys, webhook_id)
    return "", 204


@bp.get("/webhooks/<webhook_id>/deliveries")
def deliveries(webhook_id: str) -> Response:
    """The webhook's last deliveries, newest first, each with its outcome."""
    ctx = lumen()
    return jsonify({"deliveries": list_deliveries(ctx.redis, ctx.keys, webhook_id)})
