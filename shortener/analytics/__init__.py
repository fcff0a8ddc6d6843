"""Pure attribution rules: who made a hit (human, preview, bot) and which channel it came from.

No Flask, no Redis and no I/O here: the routes pass plain strings in and record the result.
"""

from shortener.analytics.attribution import Attribution, classify_hit, warm_up

__all__ = ["Attribution", "classify_hit", "warm_up"]
