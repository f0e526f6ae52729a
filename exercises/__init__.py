"""Your exercises: fill in each TODO until `make test-module-N` passes."""
