"""What the two tool tasks share: the ``Action: <tool> with Action Input: {json}`` protocol, the typed
wire codec for values crossing the sandbox socket, and AgentRM's reward-model instructions for both."""
