"""Cases: the reference data the closed loop runs on (working-time calendar, categories with time limits,
routing rules) and, later, the case workflow itself."""
