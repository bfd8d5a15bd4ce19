"""NATS JetStream, the optional transport (``NATS_URL``): every event is also published to
``civic.{service}.{type}`` with ``Nats-Msg-Id`` = the event id, so the server drops a repeat
within the stream's duplicate window. The stream is created when missing."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("shared.events")

DUPLICATE_WINDOW_SECONDS = 900.0


class NatsPublisher:
    def __init__(
        self,
        url: str,
        *,
        stream: str = "CIVIC_EVENTS",
        subjects: tuple[str, ...] = ("civic.>",),
        replicas: int = 1,
    ) -> None:
        self.url = url
        self.replicas = replicas
        self.stream = stream
        self.subjects = list(subjects)
        self._nc: Any = None
        self._js: Any = None

    async def connect(self) -> None:
        import nats
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        self._nc = await nats.connect(
            self.url, connect_timeout=5, max_reconnect_attempts=-1, allow_reconnect=True, name="civic-relay"
        )
        self._js = self._nc.jetstream()
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=self.subjects,
                    duplicate_window=DUPLICATE_WINDOW_SECONDS,
                    num_replicas=self.replicas,
                )
            )
            logger.info("created the JetStream stream %s (%s)", self.stream, ", ".join(self.subjects))

    async def publish(self, subject: str, body: bytes, *, msg_id: str) -> bool:
        """Publish and wait for the server's acknowledgement; False when it was a duplicate."""
        if self._js is None:
            await self.connect()
        ack = await self._js.publish(subject, body, headers={"Nats-Msg-Id": msg_id}, timeout=10)
        return not bool(getattr(ack, "duplicate", False))

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None
            self._js = None
