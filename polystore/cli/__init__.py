"""The ``polystore`` command line."""
