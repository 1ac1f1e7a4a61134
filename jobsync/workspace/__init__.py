"""Workspace backends: the embedded SQLite workspace and the DataArts Studio HTTP API."""
