"""The working calendar (工作日历): office hours, weekends, public holidays and make-up working days, and the
working-time arithmetic every deadline is measured in. Part of ``org`` because a city keeps one calendar
for all its units; domains read it, none owns it."""
