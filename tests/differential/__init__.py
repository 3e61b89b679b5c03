"""Differential harness: the same action sequences through our environments and through the raw upstream
engines driven by upstream's wrapper rules, as each reference module here re-implements them from
upstream's file (named in its docstring). The references share no code with ``agentrm_bench.envs``:
they drive TextWorld, minigrid, jericho's FrotzEnv and a small STRIPS interpreter directly.
"""
