"""The instructor's verbs of the command line, one module each."""
