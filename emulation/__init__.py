"""emulation: the same topology on one machine (embedded or docker runtime)."""
