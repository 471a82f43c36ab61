"""Shared pytest configuration: pytester runs the plugin in separate small projects."""

pytest_plugins = ["pytester"]
