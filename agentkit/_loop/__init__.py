"""The agent loop: one run from the first request to the final answer.

``spec`` holds what the loop needs from an agent (built once by ``Agent``, so the loop never
imports it); ``run`` drives the turns; ``state`` is what one run mutates; ``turn`` makes one model
request under the run's deadline; ``calls`` handles a turn's tool calls (run, pause, resume);
``pending`` decides which calls wait for the caller and matches the decisions; ``dispatch`` runs
tool calls; ``output`` validates the final answer; ``journal`` writes each new item to the
session (or nowhere); ``resume`` and ``repair`` rebuild a loaded thread; ``budget`` applies the
retry budgets.
"""
