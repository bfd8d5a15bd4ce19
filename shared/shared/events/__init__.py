"""Change events: the outbox read in commit-safe order (:mod:`.feed`), the CloudEvents
envelope (:mod:`.envelope`), webhook subscriptions and their deliveries (:mod:`.webhooks`),
the optional NATS JetStream transport (:mod:`.nats`), the relay that drives both
(:mod:`.relay`), and the wake-up of readers waiting on the feed (:mod:`.commits`).

Every event is written by the one write path (:meth:`shared.writes.WriteContext.record`) in the
transaction of its change. Readers take only events whose transaction id is below the oldest
transaction still running that could write this outbox (the feed's horizon), in (transaction id,
sequence) order: an event whose transaction commits late is never passed by a cursor; a long
transaction delays the feed, it never loses an event.
"""
