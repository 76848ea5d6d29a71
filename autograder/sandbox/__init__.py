"""The wall around student code: the worker process, its confinement, and the one wire to it."""
