"""Renderers: pure functions of plans, results and events (text, markdown, JSON). The CLI only picks one.

`escape` is the one place names and content from git or a workspace are made safe for a terminal
and for markdown; every renderer goes through it.
"""
