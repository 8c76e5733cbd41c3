"""Serving: the command line and the OpenAI-compatible HTTP API (the page is ui/, at the top level)."""
