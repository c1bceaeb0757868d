"""The county pack: reading, checking and loading a county's own facts (docs/county.md)."""
