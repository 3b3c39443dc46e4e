"""Strategies defined only in the tests: they prove a new strategy needs no other file."""
