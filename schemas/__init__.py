"""Contracts shared by every part of hubnet: envelope, event codes, topics, dead letters, errors."""
