"""tfless test suite; a package so tests import the shared harness as ``tests.testing``."""
