"""Training what AgentRM trained, here: an SFT policy, MCTS-labelled states, explicit and implicit RMs.

The pipeline, one command per step (each resumable, each output folder carrying a manifest):

1. ``collect expert`` (:mod:`.collect_expert`) -- expert trajectories of non-test instances
   (:mod:`.pools`) as chat samples (:mod:`.chat_format`);
2. ``train policy`` (:mod:`.sft`) -- LoRA fine-tuning, loss on the replies (:mod:`.encode`, :mod:`.loop`);
3. ``collect mcts`` (:mod:`.collect_mcts`, :mod:`.mcts`) -- states valued by the returns of rollouts;
4. ``train rm --kind explicit`` (:mod:`.rm_explicit`) and ``--kind implicit`` (:mod:`.rm_implicit`).

:mod:`.miniature` runs all of it, then the evaluations, as one resumable script.
"""
