"""JSON logs (LUMEN_LOG_FORMAT=json): one JSON object per line, from gunicorn and from Lumen.

Used through gunicorn's `logger_class` setting (gunicorn.conf.py): gunicorn sets up its loggers
as usual, then every handler gets the JSON formatter, and the root logger (where Lumen's own
`logging.getLogger(__name__)` records end) gets a JSON handler on stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from gunicorn.glogging import Logger


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, pid, message and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class JsonLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's logger, writing JSON lines; Lumen's own records go the same way."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
        root = logging.getLogger()
        if not any(getattr(h, "lumen_json", False) for h in root.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(formatter)
            handler.lumen_json = True  # type: ignore[attr-defined]
            root.addHandler(handler)
            root.setLevel(logging.INFO)
