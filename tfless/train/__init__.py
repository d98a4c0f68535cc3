"""tfless.train."""
