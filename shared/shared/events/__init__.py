"""Change events: the outbox read in commit-safe order (:mod:`.feed`), the CloudEvents
envelope (:mod:`.envelope`), webhook subscriptions and their deliveries (:mod:`.webhooks`),
the optional NATS JetStream transport (:mod:`.nats`) and the relay that drives both
(:mod:`.relay`).

Every event is written by the one write path (:meth:`shared.writes.WriteContext.record`) in the
transaction of its change. Readers take only events whose transaction id is below the oldest
transaction still running (``pg_snapshot_xmin(pg_current_snapshot())``), in (transaction id,
sequence) order: an event whose transaction commits late is never passed by a cursor; a long
transaction delays the feed, it never loses an event.
"""
