"""The agent loop: one run from the first request to the final answer.

``spec`` holds what the loop needs from an agent (built once by ``Agent``, so the loop never
imports it); ``run`` drives the turns; ``state`` is what one run mutates; ``turn`` makes one model
request under the run's deadline; ``calls`` handles a turn's tool calls (run, pause, resume);
``pending`` decides which calls wait for the caller and matches the decisions; ``per_run``
adjusts the spec for one run (tools disabled by their predicate, tracing hooks); ``guard`` applies
the guardrails; ``dispatch`` runs tool calls (``execute`` calls one function); ``output``
validates the final answer; ``reply`` refuses replies that are no answer; ``journal`` writes each
new item to the session (or nowhere); ``resume`` and ``repair`` rebuild a loaded thread;
``budget`` applies the retry budgets.
"""
