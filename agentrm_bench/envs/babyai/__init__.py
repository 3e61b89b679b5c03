"""babyai."""
