"""Newborn blood spot screening laboratory results CSV (NHS NBS programme status codes)."""
