"""The agent loop: one run from the first request to the final answer.

``spec`` holds what the loop needs from an agent (built once by ``Agent``, so the loop never
imports it); ``run`` drives the turns; ``turn`` makes one model request under the run's deadline;
``dispatch`` runs one turn's tool calls; ``output`` validates the final answer; ``journal`` writes
each new item to the session (or nowhere); ``resume`` repairs a loaded thread; ``budget`` applies
the retry budgets.
"""
