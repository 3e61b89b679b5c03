"""tool_query."""
