"""The CloudEvents 1.0 JSON envelope of an outbox row, and the feed's cursor."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared.citizen_ids import CitizenIdVault
from shared.writes import PERSONAL_KEY

SPECVERSION = "1.0"
MEDIA_TYPE = "application/cloudevents+json"
_WIDTH = 19  # digits of the largest bigint


@dataclass(frozen=True, order=True)
class Position:
    """Where an event stands in the feed: its transaction id, then its sequence.

    As text (the CloudEvents ``sequence`` attribute and the feed's cursor) both numbers are
    zero-padded, so the text sorts as the position does.
    """

    transaction_id: int
    sequence: int

    def __str__(self) -> str:
        return f"{self.transaction_id:0{_WIDTH}d}-{self.sequence:0{_WIDTH}d}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """The position in ``text``; ``ValueError`` when it is not one this feed gave."""
        head, sep, tail = text.partition("-")
        if not sep or len(head) != _WIDTH or len(tail) != _WIDTH or not (head + tail).isascii():
            raise ValueError("not a cursor of this feed")
        if not (head.isdigit() and tail.isdigit()):
            raise ValueError("not a cursor of this feed")
        return cls(int(head), int(tail))


START = Position(0, 0)


def cloud_event(
    row: Any, *, service: str, vault: CitizenIdVault | None = None, personal: bool = False
) -> dict[str, Any]:
    """The CloudEvents 1.0 JSON form of an outbox row.

    ``personal``: the reader holds ``{service}:pii`` and the numbers are revealed into ``data``;
    otherwise ``data`` has none of them.
    """
    data = dict(row.data)
    protected = data.pop(PERSONAL_KEY, None)
    if personal and protected and vault is not None:
        for name, value in protected.items():
            data[name] = vault.reveal(base64.b64decode(value["cipher"]), value["masked"], value.get("key_id"))
    occurred: dt.datetime = row.occurred_at
    return {
        "specversion": SPECVERSION,
        "id": str(row.id),
        "source": f"/api/{service}/v1",
        "type": row.type,
        "time": occurred.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "subject": row.subject,
        "datacontenttype": "application/json",
        "jurisdiction": row.jurisdiction,
        "sequence": str(Position(row.transaction_id, row.sequence)),
        "data": data,
    }


def reveals(row: Any) -> bool:
    """The row keeps personal values (a citizen ID number) that a pii reader is shown."""
    return bool(row.data.get(PERSONAL_KEY))


def access_rows(
    rows: Any, *, actor: str, client_id: str | None, path: str, request_id: str | None
) -> list[dict[str, Any]]:
    """``personal_data_access`` rows for the events whose numbers a pii reader was shown."""
    return [
        {
            "actor": actor,
            "client_id": client_id,
            "request_id": request_id,
            "path": path,
            "entity": "event",
            "entity_id": str(row.id),
            "jurisdiction": row.jurisdiction,
            "purpose": None,
        }
        for row in rows
        if reveals(row)
    ]
