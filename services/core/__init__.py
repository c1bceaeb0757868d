"""Runtime every service shares: settings, logging, broker, topics, outbox publisher, dead letters."""
