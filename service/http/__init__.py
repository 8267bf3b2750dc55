"""HTTP endpoints, one blueprint per feature."""
