"""tool_operation."""
