"""Case categories (部件 / 事件, major → minor class) with per-step time limits and the fields they ask for."""
