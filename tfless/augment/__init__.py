"""tfless.augment."""
