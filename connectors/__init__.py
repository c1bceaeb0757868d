"""Connectors: one package per partner format, each a pure mapping from bytes to hub events."""
