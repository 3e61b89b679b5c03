"""maze."""
