"""API reference pages (Swagger UI, ReDoc) served from assets vendored in this package."""
