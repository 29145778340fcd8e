"""Hot issues (热点问题): grouping messages about the same matter (``grouping``), and over the city's cases the
daily job and the analyst's decisions (``hot_cases``)."""
