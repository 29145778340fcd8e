"""Case intake: checking and writing reports (``service``), the group-commit writer (``writer``) and the hooks
other domains register to add rows of their own to each new case (``hooks``)."""
