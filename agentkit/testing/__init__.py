"""Test kit: a scripted model, cassettes, and a pytest plugin."""
