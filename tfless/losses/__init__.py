"""tfless.losses."""
