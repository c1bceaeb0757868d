"""Long-running hubnet processes, their shared runtime (`services.core`) and the `hubnet` CLI."""
