"""Reference data the county loads: organisation names by code (services/reference/files.py)."""
