"""Ingestion: partner input through a connector onto `fh.events`, or onto `fh.dlq` with a reason."""
