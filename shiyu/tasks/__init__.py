"""The grid task engine: what the centres send down to the grids (campaigns, visits, screenings, stale-record
checks) as work items with one transition table (docs/tasks.md, docs/adr/0009)."""
