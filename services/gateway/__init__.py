"""The partner ingestion gateway: HTTP API, partner credentials, idempotency, rate limits and file drop.

Every transport here ends in `submission.Submissions`, which runs the format's connector, enforces
what the authenticated partner may publish, skips what was already accepted, and hands the rest to
the durable publisher.
"""
