"""Reward models judged offline on frozen candidate pools (issue 16).

Comparing reward models online mixes the reward model's quality with the policy's sampling noise and
costs a full policy run per reward model. A *pool* freezes the candidates instead: N complete
trajectories per test instance with their outcomes, and, at sampled states along them, K sibling next
actions with Monte Carlo values -- built once (:mod:`.build`), content-addressed (:mod:`.format`), named
under ``leaderboard/pools/`` (:mod:`.store`). A reward model then scores a pool without any environment
(:mod:`.evaluate`): Best-of-k against the exact random@k and oracle@k bounds, step-level accuracy
against the Monte Carlo values (:mod:`.metrics`), its cost; the scores become a reward-model leaderboard
row that is recomputed from them and verified by re-scoring a sample (:mod:`.board`).
"""

from .format import Instance, Pool, PoolError
from .store import DEFAULT_DIR, open_pool

__all__ = ["DEFAULT_DIR", "Instance", "Pool", "PoolError", "open_pool"]
