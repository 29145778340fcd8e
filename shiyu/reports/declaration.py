"""Reports: the weekly and monthly reports of a centre's area. A domain of its own above cases and triage,
because a report gathers both (the indicators of cases, the hot issues of triage)."""

from shiyu.core.domains import Domain
from shiyu.reports import cli, filing, tasks

DOMAIN = Domain(
    name="reports",
    models=(filing,),
    worker=(tasks,),
    commands=(cli,),
)
