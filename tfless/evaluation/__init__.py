"""tfless.evaluation."""
