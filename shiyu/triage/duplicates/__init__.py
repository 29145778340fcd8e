"""Duplicate finding: near-duplicate texts (``similarity``) and, over the city's cases, duplicate candidates
and repeat complaints found right after intake (``case_duplicates``)."""
