"""jericho."""
