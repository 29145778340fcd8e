"""Cases: intake, the workflow (dispatch, handling, verification, closing, evaluation), categories, routing
rules and the GB/T 30428 indicators."""

from shiyu.cases import api as cases_api
from shiyu.cases import models as case_models
from shiyu.cases import reporters, saved_filters, search_api
from shiyu.cases import tasks as case_tasks
from shiyu.cases.categories import api as categories_api
from shiyu.cases.categories import models as category_models
from shiyu.cases.indicators import api as indicators_api
from shiyu.cases.indicators import facts, weights
from shiyu.cases.indicators import tasks as indicator_tasks
from shiyu.cases.routing import api as routing_api
from shiyu.cases.routing import models as routing_models
from shiyu.cases.workflow import deadlines
from shiyu.core.domains import Domain

DOMAIN = Domain(
    name="cases",
    api_routers=(cases_api.router, search_api.router, categories_api.router, routing_api.router, indicators_api.router),
    models=(case_models, reporters, saved_filters, category_models, routing_models, facts, weights),
    worker=(deadlines, case_tasks, indicator_tasks),
    permissions={
        "case.view": "查看辖区案件",
        "case.report": "上报案件",
        "case.register": "立案",
        "case.dispatch": "派遣、转派和上报案件",
        "case.handle": "处置案件",
        "case.verify": "现场核查",
        "case.close": "结案",
        "case.evaluate": "回访评价",
        "case.supervise": "督办",
        "case.approve": "审批延期和退回",
        "category.edit": "编辑案件分类和时限",
        "routing.edit": "编辑派遣规则",
        "indicator.view": "查看辖区统计指标",
        "indicator.view_department": "查看本部门统计指标",
        "indicator.configure": "配置指标权重",
    },
)
