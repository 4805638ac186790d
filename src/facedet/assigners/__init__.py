"""assigners."""
