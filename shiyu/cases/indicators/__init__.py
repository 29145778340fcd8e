"""GB/T 30428-style indicators of the case loop (结案率, 按期结案率, 返工率, 延期率, 满意率, …).

``definitions`` says what each figure means (as SQL predicates over the case table), ``facts`` keeps the
pre-aggregated day × grid × department × category counts and how they stay equal to the raw computation,
``service`` answers the questions (figures, trend, ranking, the cases behind a figure), ``api`` routes them.
"""
