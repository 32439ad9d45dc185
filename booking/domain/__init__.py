"""Pure rules: standard library only, tested without I/O."""
