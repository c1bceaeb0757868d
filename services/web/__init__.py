"""The hub staff web service: sign in, search, family and person pages, plus the timeline API."""
