"""The case workflow: its declared transition table, the engine that applies it, the per-action effects, the
deadline clock, the timeline and the work queues derived from the table."""
