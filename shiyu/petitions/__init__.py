"""信访 (petitions): records, their lifecycle under 《信访工作条例》, time limits, 包案 leaders, the backlog and
leader reception days. A domain of its own (docs/adr/0012): it links to disputes, warnings and key persons
only through outbox events."""
