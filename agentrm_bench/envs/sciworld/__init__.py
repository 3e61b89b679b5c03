"""sciworld."""
