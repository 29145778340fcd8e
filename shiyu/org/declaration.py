"""Organisation: areas and grids, centres and departments, people and their grants, the working calendar."""

from shiyu.core.domains import Domain
from shiyu.org import units_api
from shiyu.org.areas import api as areas_api
from shiyu.org.areas import cli as areas_cli
from shiyu.org.areas import models as area_models
from shiyu.org.calendar import api as calendar_api
from shiyu.org.calendar import cli as calendar_cli
from shiyu.org.calendar import models as calendar_models
from shiyu.org.identity import api as identity_api
from shiyu.org.identity import api_clients, audit_api
from shiyu.org.identity import cli as identity_cli
from shiyu.org.identity import models as identity_models
from shiyu.org.identity import tasks as identity_tasks
from shiyu.org.identity.bulk import api as bulk_api
from shiyu.org.identity.bulk import models as bulk_models
from shiyu.org.notices import models as notice_models
from shiyu.org.units import bulk_api as units_bulk_api
from shiyu.org.units import cli as units_cli
from shiyu.org.units import models as unit_models

DOMAIN = Domain(
    name="org",
    api_routers=(bulk_api.router, identity_api.router, areas_api.router, units_bulk_api.router, units_api.router,
                 audit_api.router, calendar_api.router),
    models=(area_models, calendar_models, identity_models, bulk_models, api_clients, unit_models, notice_models),
    worker=(identity_tasks,),
    commands=(areas_cli, identity_cli, units_cli, calendar_cli),
    permissions={
        "area.view": "查看区划和网格",
        "area.edit": "编辑区划和网格",
        "area.import": "导入区划边界",
        "area.propose": "提出边界调整",
        "area.approve": "审批边界调整",
        "centre.view": "查看综治中心",
        "centre.edit": "编辑综治中心",
        "department.view": "查看职能部门",
        "department.edit": "编辑职能部门",
        "user.view": "查看账号",
        "user.manage": "管理账号和授权",
        "grant.any": "在辖区内授予任何角色",
        "api_client.manage": "管理外部系统的接口密钥",
        "calendar.edit": "编辑工作日历",
    },
)
