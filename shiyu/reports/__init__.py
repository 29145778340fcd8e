"""The weekly and monthly reports (周报/月报) of a centre's area: the GB/T 30428 figures with 环比, the breakdown
by category, the ranking of the areas below and of the departments, the overdue and supervised cases and the
hot issues — as an Excel workbook or a Word document with charts.

``periods`` parses and steps weeks and months, ``data`` gathers one report from the indicator code,
``excel``/``word``/``charts`` write it, ``export`` picks the writer by file suffix, ``filing`` keeps the
reports the weekly job files for each centre, ``tasks`` is that job and ``cli`` the ``shiyu report`` command.
"""
