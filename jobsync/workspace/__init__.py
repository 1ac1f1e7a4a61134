"""Workspaces: one DataArts client (client.py) over HTTPS (http.py), or in process into the
emulator's gateway over a SQLite file (inprocess.py, local.py); the routes as data (routes.py)."""
