"""The nine tasks, one package each: ``envs/<task>/__init__.py`` declares the task's :class:`TaskSpec`
(``SPEC``), the single source of its facts; the engine code beside it is imported only when the task is made.
See docs/adding-a-task.md."""
