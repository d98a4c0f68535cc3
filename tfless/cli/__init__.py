"""tfless.cli."""
