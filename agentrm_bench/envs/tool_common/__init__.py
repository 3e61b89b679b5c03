"""tool_common."""
