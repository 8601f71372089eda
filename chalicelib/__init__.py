"""The Media API library: everything app.py wires together."""
