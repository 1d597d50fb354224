"""Environments for the reinforcement-learning lab (``gymnasium.Env`` subclasses and their makers)."""
