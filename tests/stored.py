"""What a store holds, read the way `feeds export` reads it.

Tests check stored rows through this, the product's one read of every row, rather than
through read methods that only tests would call.
"""

from __future__ import annotations

from typing import Any

from feeds.store import Store


def stored(store: Store, table: str) -> list[dict[str, Any]]:
    """Every row of `table`, by key, with its stored column values."""
    return [row for row in store.export_rows() if row["table"] == table]
