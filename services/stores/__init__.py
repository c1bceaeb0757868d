"""Where every store's rows live: SQLite files by default, or one PostgreSQL database."""
