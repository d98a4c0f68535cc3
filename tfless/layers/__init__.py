"""tfless.layers."""
