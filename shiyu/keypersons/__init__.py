"""重点人员 / 特殊人群: records per person and group, graded control, visit plans, hand-over, strictest access
(docs/keypersons.md)."""
