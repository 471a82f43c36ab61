"""From a Python function to an exact JSON tool schema.

``callable`` inspects what can be called and how; ``docstring`` reads parameter descriptions
(Google, NumPy, reST, Epydoc); ``function_schema`` builds the natural schema and the argument
validator with pydantic; ``strict_schema`` turns a schema into OpenAI's strict mode and reports
what changed; ``check`` validates a schema against the JSON Schema meta-schema.
"""
