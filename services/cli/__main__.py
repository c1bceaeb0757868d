"""`python -m services.cli` runs the `hubnet` command (used where the console script is not on PATH)."""

from services.cli.main import app

app()
