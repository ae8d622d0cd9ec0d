"""The topology: the typed, validated declaration every other part of polystore reads."""
