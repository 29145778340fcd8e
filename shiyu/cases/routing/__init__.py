"""Routing rules: which department (or which territory's centre) handles a case."""
