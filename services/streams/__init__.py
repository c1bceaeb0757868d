"""Shared plumbing for hubnet's faust-streaming workers (identity, timeline, referrals): one way to
build the app, read and write raw topics, and dead-letter a poison message instead of crashing."""
