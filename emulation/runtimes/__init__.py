"""Runtimes: how the engines run (child processes, or Docker containers)."""
