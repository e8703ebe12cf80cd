"""Demo and scale data for customers (CUS-1..11), after ``bizdept.org.demo``.

``build_demo`` gives the demo department a believable year: every salesperson owns
8–15 companies in their team's city, with contacts, a year of visits at the rhythm of
each customer's grade, a public pool, complaints, satisfaction surveys and market
reports. ``build_scale`` writes the benchmark volumes (size L: 200,000 customers and
2,000,000 visits) in bulk.

Both are deterministic: they draw only from ``ctx.rng`` and ``ctx.faker`` (seeded).

How the demo writes:

* customers, transfers and releases go through ``services`` (duplicate checks, audit
  rows, owner-change rows), as a user would; contacts are bulk-created with their
  history rows, since ``services.contact_create``'s duplicate lookups (about 5 ms a
  contact) would cost a third of the demo's time, and the phones here are unique by
  construction;
* visits are too many for ``services.visit_log`` (about 7 ms each), so they are written
  with ``bulk_create``; ``last_followup_at`` is then set from them and
  ``services.customer_grade_recompute()`` derives ``next_revisit_on`` exactly as it does
  every night;
* grades come from money received, which stays zero until the sales app registers its
  payments, so every customer would be D: some are graded by hand, honestly marked
  (``grade_is_manual`` with a "演示数据：…" reason), so that A–D all appear;
* complaints, surveys and market reports have services (``complaint_create``,
  ``survey_record``, ``market_report_create``...), but the demo writes them with the
  models directly: it needs states the services only reach over time (complaints resolved
  late, closed, overdue and already escalated, received months ago) and surveys in bulk.
  The rows still keep the services' rules (deadline = received + the severity's
  allowance, one survey per customer and period, scores 1–5), and history is kept where
  the model has it;
* services stamp "now"; timestamps (created, history, owner changes, pool dates) are
  then moved back to when the story says they happened.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from bizdept.core.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    normalize_company_name,
    normalize_phone,
)
from bizdept.org.choices import EmployeeStatus
from bizdept.org.models import Employee, Unit

from . import selectors, services
from .choices import (
    COMPLAINT_DEADLINES,
    ComplaintStatus,
    Grade,
    OwnerChangeKind,
    ReportKind,
    Severity,
    Source,
    Stage,
    VisitKind,
)
from .models import (
    Complaint,
    Contact,
    Customer,
    MarketReport,
    OwnerChange,
    Survey,
    Visit,
)


# --- geography ------------------------------------------------------------------------
@dataclass(frozen=True)
class City:
    name: str  # 上海
    region: str  # 上海市 / 浙江省杭州市 (what Customer.region holds)
    area_code: str  # 021
    lat: float
    lon: float
    districts: tuple[tuple[str, str], ...]  # (district, administrative division code)

    @property
    def digits(self) -> int:
        """Length of a local landline number (libphonenumber's metadata agrees)."""
        return 7 if self.name in SEVEN_DIGIT_CITIES else 8


SEVEN_DIGIT_CITIES = {"惠州", "厦门", "漳州", "廊坊", "淄博", "泰安"}


CITIES = {c.name: c for c in [
    City("上海", "上海市", "021", 31.2304, 121.4737, (
        ("浦东新区", "310115"), ("徐汇区", "310104"), ("长宁区", "310105"), ("静安区", "310106"),
        ("闵行区", "310112"), ("宝山区", "310113"), ("嘉定区", "310114"), ("松江区", "310117"))),
    City("苏州", "江苏省苏州市", "0512", 31.2990, 120.5853, (
        ("姑苏区", "320508"), ("虎丘区", "320505"), ("吴中区", "320506"), ("相城区", "320507"))),
    City("杭州", "浙江省杭州市", "0571", 30.2741, 120.1551, (
        ("上城区", "330102"), ("拱墅区", "330105"), ("西湖区", "330106"), ("滨江区", "330108"),
        ("萧山区", "330109"), ("余杭区", "330110"))),
    City("宁波", "浙江省宁波市", "0574", 29.8683, 121.5440, (
        ("海曙区", "330203"), ("北仑区", "330206"), ("鄞州区", "330212"))),
    City("绍兴", "浙江省绍兴市", "0575", 30.0303, 120.5802, (
        ("越城区", "330602"), ("柯桥区", "330603"))),
    City("南京", "江苏省南京市", "025", 32.0603, 118.7969, (
        ("玄武区", "320102"), ("秦淮区", "320104"), ("建邺区", "320105"), ("鼓楼区", "320106"),
        ("栖霞区", "320113"), ("江宁区", "320115"))),
    City("镇江", "江苏省镇江市", "0511", 32.1877, 119.4250, (
        ("京口区", "321102"), ("润州区", "321111"))),
    City("扬州", "江苏省扬州市", "0514", 32.3942, 119.4129, (
        ("广陵区", "321002"), ("邗江区", "321003"))),
    City("广州", "广东省广州市", "020", 23.1291, 113.2644, (
        ("荔湾区", "440103"), ("越秀区", "440104"), ("海珠区", "440105"), ("天河区", "440106"),
        ("白云区", "440111"), ("黄埔区", "440112"), ("番禺区", "440113"))),
    City("佛山", "广东省佛山市", "0757", 23.0215, 113.1214, (
        ("禅城区", "440604"), ("南海区", "440605"), ("顺德区", "440606"))),
    City("深圳", "广东省深圳市", "0755", 22.5431, 114.0579, (
        ("罗湖区", "440303"), ("福田区", "440304"), ("南山区", "440305"), ("宝安区", "440306"),
        ("龙岗区", "440307"))),
    City("东莞", "广东省东莞市", "0769", 23.0207, 113.7518, (
        ("南城街道", "441900"), ("松山湖", "441900"), ("长安镇", "441900"))),
    City("惠州", "广东省惠州市", "0752", 23.1115, 114.4161, (
        ("惠城区", "441302"), ("惠阳区", "441303"))),
    City("厦门", "福建省厦门市", "0592", 24.4798, 118.0894, (
        ("思明区", "350203"), ("海沧区", "350205"), ("湖里区", "350206"), ("集美区", "350211"))),
    City("泉州", "福建省泉州市", "0595", 24.8741, 118.6757, (
        ("鲤城区", "350502"), ("丰泽区", "350503"), ("晋江市", "350582"))),
    City("漳州", "福建省漳州市", "0596", 24.5130, 117.6471, (
        ("芗城区", "350602"), ("龙文区", "350603"))),
    City("北京", "北京市", "010", 39.9042, 116.4074, (
        ("东城区", "110101"), ("西城区", "110102"), ("朝阳区", "110105"), ("丰台区", "110106"),
        ("海淀区", "110108"), ("昌平区", "110114"), ("大兴区", "110115"))),
    City("廊坊", "河北省廊坊市", "0316", 39.5380, 116.6837, (
        ("安次区", "131002"), ("广阳区", "131003"))),
    City("天津", "天津市", "022", 39.0842, 117.2009, (
        ("和平区", "120101"), ("河东区", "120102"), ("河西区", "120103"), ("南开区", "120104"),
        ("滨海新区", "120116"))),
    City("济南", "山东省济南市", "0531", 36.6512, 117.1201, (
        ("历下区", "370102"), ("市中区", "370103"), ("槐荫区", "370104"), ("天桥区", "370105"),
        ("历城区", "370112"))),
    City("淄博", "山东省淄博市", "0533", 36.8131, 118.0549, (("张店区", "370303"),)),
    City("泰安", "山东省泰安市", "0538", 36.2000, 117.0870, (("泰山区", "370902"),)),
]}

# Each demo team works its own city (most customers) and the cities around it.
TEAM_CITIES = {
    "上海一所": ("上海", "苏州"), "杭州所": ("杭州", "宁波", "绍兴"),
    "南京所": ("南京", "镇江", "扬州"), "广州所": ("广州", "佛山"),
    "深圳所": ("深圳", "东莞", "惠州"), "厦门所": ("厦门", "泉州", "漳州"),
    "北京一所": ("北京", "廊坊"), "天津所": ("天津",), "济南所": ("济南", "淄博", "泰安"),
}
MAIN_CITIES = ["上海", "杭州", "南京", "广州", "深圳", "厦门", "北京", "天津", "济南"]

ROADS = ["人民路", "建设路", "中山路", "解放路", "新华路", "和平路", "工业园路", "科技路",
         "创业路", "发展大道", "长江路", "黄河路", "文化路", "学院路", "东风路", "光明路",
         "振兴路", "滨江大道", "环城路", "金融街"]

# --- what the companies do -------------------------------------------------------------
# (word in the company name, industry)
TRADES = [("精密机械", "机械制造"), ("机电设备", "机械制造"), ("新材料", "新材料"),
          ("医疗器械", "医疗健康"), ("生物医药", "医疗健康"), ("供应链管理", "物流运输"),
          ("物流", "物流运输"), ("食品", "食品饮料"), ("建设工程", "建筑工程"),
          ("电子", "电子制造"), ("环保科技", "节能环保"), ("化工", "化工"),
          ("汽车零部件", "汽车及零部件"), ("包装", "包装印刷"), ("贸易", "批发零售"),
          ("能源", "能源电力"), ("智能装备", "机械制造"), ("纺织", "纺织服装")]
FAKER_INDUSTRY = {"科技": "信息技术", "网络": "信息技术", "信息": "信息技术",
                  "传媒": "文化传媒"}
# Trade names (字号) made of two characters, next to Faker's own list.
TRADE_CHARS = "宏华鑫瑞博恒泰盛达远新隆源嘉誉汇通德信安正丰捷锦立诚创晟铭昊卓顺力明海天永峰"
LEGAL_FORMS = ["有限公司"] * 6 + ["股份有限公司", "有限责任公司"]

PRODUCTS = ["智能仓储管理系统", "工业传感器", "数据采集终端", "ERP实施服务", "设备运维服务",
            "定制化软件开发", "网络安全解决方案", "办公自动化系统"]
CONCERNS = ["价格", "交付周期", "售后响应速度", "系统兼容性", "付款方式", "培训安排"]
NEXT_STEPS = ["发送正式报价单", "安排技术交流会", "提供成功案例资料", "约见采购负责人",
              "跟进合同条款", "邀请参观公司展厅", "确认样品测试结果", "准备投标文件"]
TITLES = ["总经理", "副总经理", "采购经理", "采购主管", "技术总监", "财务经理", "行政主管",
          "项目经理", "生产部经理", "信息部主任"]
SUMMARIES = {
    VisitKind.VISIT: [
        "上门拜访{contact}，介绍了我司{product}方案，客户对{concern}比较关注。",
        "到客户现场了解{product}的使用情况，{contact}反馈整体稳定，希望改进{concern}。",
        "拜访{contact}，了解到客户今年有扩产计划，初步意向采购{product}。",
        "与{contact}面谈年度合作计划，客户希望在{concern}上给予支持。",
    ],
    VisitKind.REVISIT: [
        "定期回访{contact}，客户对前期供货整体满意，提出{concern}方面的改进建议。",
        "回访{product}使用情况，运行正常，{contact}表示下季度可能追加采购。",
        "回访{contact}，处理上次遗留问题，客户确认已解决。",
    ],
    VisitKind.CALL: [
        "电话联系{contact}，确认{product}的交付时间，客户无异议。",
        "与{contact}电话沟通报价，客户认为{concern}方面还需内部讨论。",
        "电话回访{contact}，客户近期暂无新需求，保持联系。",
        "电话跟进{contact}，对方在出差，约定下周再联系。",
    ],
    VisitKind.ONLINE: [
        "与{contact}线上会议，演示{product}的新功能，客户技术团队参加。",
        "线上沟通{product}实施计划，{contact}确认了时间节点。",
    ],
    VisitKind.JOINT: [
        "与{coach}一同拜访{contact}，洽谈年度合作框架，客户同意进入商务谈判。",
        "{coach}陪同拜访{contact}，就{concern}问题当面沟通，客户态度积极。",
    ],
}
REVIEWS = ["客户需求把握准确，沟通节奏较好。", "开场准备充分，对客户组织架构了解清楚。",
           "能够主动引导话题，推进了项目进度。", "对产品讲解熟练，回应异议及时。"]
IMPROVEMENTS = ["报价前应先确认预算范围和决策流程。", "需加强对竞品优劣势的说明。",
                "会后应在24小时内发送会议纪要。", "提问可以更开放，多听客户的痛点。",
                "注意控制拜访时间，重点要提前准备。"]
MANUAL_GRADE_REASONS = ["演示数据：按历史合作情况评定", "演示数据：按上年回款情况评定",
                        "演示数据：区域重点客户"]
RELEASE_REASONS = ["客户暂无采购计划，释放至公海", "多次联系无果，释放至公海",
                   "客户已选择其他供应商", "客户业务调整，暂停合作"]

# How often each grade is followed up in the demo (days between follow-ups, jitter).
# The grade intervals for C (30) and D (90) are not both reachable: a customer without
# follow-up for pool_release_days (30 by default) goes to the pool first, so owners of
# C and D customers follow up (mostly by phone) every three to four weeks.
RHYTHM = {Grade.A: (7, 2), Grade.B: (14, 3), Grade.C: (24, 4), Grade.D: (25, 3)}

COMPLAINTS = {
    Severity.CRITICAL: [("系统宕机影响生产",
                         "客户反映{product}昨晚起无法使用，产线数据无法采集，要求立即处理。"),
                        ("批量产品质量问题",
                         "客户收货抽检发现一批{product}存在质量问题，要求退换并说明原因。")],
    Severity.HIGH: [("交付延期两周", "合同约定的{product}交付日期已过两周，客户项目进度受影响。"),
                    ("售后工程师未按约上门", "客户报修后工程师未按约定时间上门，客户不满。")],
    Severity.MEDIUM: [("发票开具错误", "客户收到的发票抬头与合同不一致，需重新开具。"),
                      ("配件型号与合同不符", "到货配件型号与合同清单不一致，需调换。"),
                      ("报价前后不一致", "客户认为正式报价高于前期口头报价，要求解释。")],
    Severity.LOW: [("对接人员更换未通知", "我方对接人员变更后没有及时告知客户。"),
                   ("培训资料不完整", "客户反映{product}培训资料缺少操作手册部分。")],
}
RESOLUTIONS = ["已上门处理并恢复正常，客户确认。", "已安排换货并书面说明原因，客户接受。",
               "已重新开具发票并寄出。", "已向客户致歉并明确了后续对接人。",
               "已补发资料并安排一次线上培训。"]

REPORTS = {
    ReportKind.COMPETITOR: [
        ("{competitor}在{city}低价推广同类产品",
         "据多家客户反馈，{competitor}近期在{city}以低于市场价约{pct}%的价格推广同类{product}，"
         "已接触我方{n}家客户。建议针对重点客户提前做好续约沟通。"),
        ("{competitor}调整渠道政策",
         "{competitor}本季度起给经销商的返点提高{pct}个百分点，部分渠道转向主推其产品。"),
    ],
    ReportKind.DEMAND: [
        ("{city}{industry}企业{product}需求上升",
         "走访发现{city}{industry}企业今年普遍在推进数字化改造，对{product}的咨询明显增多，"
         "预计下半年有{n}个以上项目招标。"),
    ],
    ReportKind.PRICE: [
        ("上游元器件价格上涨{pct}%",
         "供应商通知芯片及传感器元件价格上涨约{pct}%，同行已开始调整报价，建议评估我方报价策略。"),
        ("客户压价明显",
         "{city}多家客户在年度招标中要求降价{pct}%左右，价格成为主要竞争因素。"),
    ],
    ReportKind.POLICY: [
        ("{province}出台中小企业数字化转型补贴",
         "{province}发布中小企业数字化转型专项补贴政策，单个项目最高补贴{n}0万元，"
         "可作为向客户推荐{product}的切入点。"),
    ],
    ReportKind.OTHER: [
        ("{city}行业展会见闻",
         "参加{city}工业博览会，{competitor}等厂商展出新一代{product}，现场客户关注度较高。"),
    ],
}
REPORT_KIND_WEIGHTS = {ReportKind.COMPETITOR: 9, ReportKind.DEMAND: 8, ReportKind.PRICE: 6,
                       ReportKind.POLICY: 4, ReportKind.OTHER: 3}
SURVEY_COMMENTS = ["服务响应及时。", "希望交付更准时。", "产品稳定，售后到位。",
                   "价格偏高，但质量可靠。", "对接人员专业。"]


# --- identifiers ----------------------------------------------------------------------
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organization code body."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code(division: str, body: str) -> str:
    """A valid unified social credit code for an enterprise (登记管理部门 9, 类别 1):
    administrative division, organization code with its own check, GB 32100 check."""
    first17 = f"91{division}{body}{_org_check(body)}"
    return first17 + credit_code_check_char(first17)


def _aware(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _quarter(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


# --- the demo -------------------------------------------------------------------------
@dataclass
class _Plan:
    """One customer's story before it is written."""

    owner: Employee
    creator: Employee
    lead: Employee
    city: City
    stage: str
    grade: str  # the manual grade, "" when the rules grade it
    created_on: datetime.date
    last_days_ago: int
    created_at: datetime.datetime | None = None
    pool_on: datetime.date | None = None  # released to the pool on
    handover: tuple[Employee, datetime.date] | None = None  # (new owner, on)
    collaborator: Employee | None = None
    customer: Customer | None = None
    contacts: list[Contact] = field(default_factory=list)
    lat: float = 0.0
    lon: float = 0.0


@dataclass
class _Team:
    lead: Employee
    manager: Employee
    cities: list[City]
    active: list[Employee]


class _Demo:
    def __init__(self, ctx):
        self.ctx = ctx
        self.rng = ctx.rng
        self.f = ctx.faker
        self.today = ctx.today
        self.now = timezone.now()
        self.name_keys: set[str] = set()
        self.codes: set[str] = set()
        self.phones: set[str] = set()
        self.plans: list[_Plan] = []

    # identifiers ------------------------------------------------------------------
    def company_name(self, city: City) -> tuple[str, str]:
        rng, f = self.rng, self.f
        while True:
            if rng.random() < 0.4:
                name = f.company()
                if name.count("公司") > 1 or "华远" in name:
                    continue
                industry = next((v for k, v in FAKER_INDUSTRY.items()
                                 if name.endswith(k + "有限公司")), "信息技术")
            else:
                trade = "".join(rng.sample(TRADE_CHARS, 2))
                word, industry = rng.choice(TRADES)
                name = f"{trade}{word}{rng.choice(LEGAL_FORMS)}"
            name = f"{city.name}{name}"
            key = normalize_company_name(name)
            if key not in self.name_keys:
                self.name_keys.add(key)
                return name, industry

    def credit_code(self, division: str) -> str:
        rng = self.rng
        while True:
            if rng.random() < 0.6:  # codes issued since 2015 often start with MA
                body = "MA" + "".join(rng.choice(CREDIT_CODE_ALPHABET[:-1]) for _ in range(6))
                body = body.replace("X", "1")
            else:
                body = f"{rng.randrange(10 ** 8):08d}"
            code = credit_code(division, body)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def landline(self, city: City) -> str:
        rng = self.rng
        while True:
            local = str(rng.randint(2, 8)) + "".join(str(rng.randrange(10))
                                                     for _ in range(city.digits - 1))
            try:
                phone = normalize_phone(f"{city.area_code}-{local}")
            except ValidationError:
                continue
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def mobile(self) -> str:
        while True:
            try:
                phone = normalize_phone(self.f.phone_number())
            except ValidationError:
                continue
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def when(self, day: datetime.date, kind: str) -> datetime.datetime:
        if kind in (VisitKind.CALL, VisitKind.ONLINE):
            hour = self.rng.randint(9, 17)
        else:
            hour = self.rng.choice([9, 10, 10, 11, 14, 14, 15, 16])
        return min(_aware(day, hour, self.rng.choice([0, 10, 15, 20, 30, 40, 45, 50])),
                   self.now - datetime.timedelta(minutes=30))

    def ago(self, days: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days)

    # people -----------------------------------------------------------------------
    def people(self):
        """The teams' leads and salespeople, read back from the database."""
        teams = list(Unit.objects.filter(pk__in=[t.pk for t in self.ctx.teams])
                     .select_related("head__user", "parent__head__user"))
        members = defaultdict(list)
        for e in (Employee.objects.filter(unit__in=teams).select_related("user", "unit")
                  .order_by("number")):
            members[e.unit_id].append(e)
        return [(team, team.head, [e for e in members[team.pk] if e.pk != team.head_id])
                for team in sorted(teams, key=lambda t: self.ctx.teams.index(t))]

    # the plan ---------------------------------------------------------------------
    def plan(self):
        rng = self.rng
        for team, lead, sales in self.people():
            t = _Team(lead=lead, manager=team.parent.head,
                      cities=[CITIES[c] for c in TEAM_CITIES.get(team.name, MAIN_CITIES[:1])],
                      active=[s for s in sales if s.status != EmployeeStatus.LEFT])
            for person in sales:
                left = person.status == EmployeeStatus.LEFT
                for _ in range(rng.randint(8, 15) if not left else rng.randint(6, 8)):
                    self.plan_owned(t, person, left)
            # The lead keeps a few key accounts; their division manager coaches them.
            for _ in range(rng.randint(3, 5)):
                grade = rng.choice([Grade.A, Grade.B])
                self.new(t, lead, lead, Stage.ACTIVE, grade, rng.randint(400, 2000),
                         self.last_days(grade), coach=t.manager)
            # A customer or two per team went back to the pool (about 15 in all).
            for _ in range(rng.choice([1, 2, 2])):
                owner = rng.choice(t.active)
                pool_days = rng.randint(10, 200)
                stage = rng.choice([Stage.PROSPECT, Stage.DORMANT, Stage.LOST])
                p = self.new(t, owner, owner, stage, "", pool_days + rng.randint(60, 400),
                             pool_days + rng.randint(31, 60))
                p.pool_on = self.ago(pool_days)
                p.collaborator = None

    def new(self, t: _Team, owner, creator, stage, grade, created_days, last_days,
            coach=None) -> _Plan:
        rng = self.rng
        city = t.cities[0] if rng.random() < 0.75 or len(t.cities) == 1 \
            else rng.choice(t.cities[1:])
        p = _Plan(owner=owner, creator=creator, lead=coach or t.lead, city=city, stage=stage,
                  grade=grade, created_on=self.ago(created_days),
                  last_days_ago=min(last_days, created_days))
        p.created_at = min(_aware(p.created_on, rng.randint(9, 16), rng.randrange(60)),
                           self.now - datetime.timedelta(hours=1))
        p.lat = city.lat + rng.uniform(-0.08, 0.08)
        p.lon = city.lon + rng.uniform(-0.1, 0.1)
        if rng.random() < 0.08 and len(t.active) > 1:
            p.collaborator = rng.choice([s for s in t.active if s.pk != owner.pk])
        self.plans.append(p)
        return p

    def last_days(self, grade: str, overdue: bool = False) -> int:
        """Days since the last follow-up: inside the rhythm, or past an A/B interval
        (overdue) but inside the pool's 30 days."""
        gap = RHYTHM[grade or Grade.D][0]
        interval = {Grade.A: 7, Grade.B: 14}.get(grade)
        if overdue and interval:
            return interval + self.rng.randint(1, min(10, 29 - interval))
        return self.rng.randint(1, gap - 1)

    def plan_owned(self, t: _Team, person, left: bool):
        rng = self.rng
        roll = rng.random()
        if roll < 0.58:
            stage = Stage.ACTIVE
            grade = rng.choices([Grade.A, Grade.B, Grade.C, ""], [18, 32, 35, 15])[0]
            created = rng.randint(200, 1800)
        elif roll < 0.95:
            stage, grade, created = Stage.PROSPECT, "", rng.randint(3, 330)
        else:
            stage, grade = Stage.DORMANT, rng.choice([Grade.C, ""])
            created = rng.randint(400, 1500)
        if stage == Stage.DORMANT:  # no follow-up for over a month: the sweep's next catch
            last = rng.randint(31, 50)
        else:
            last = self.last_days(grade, overdue=grade in (Grade.A, Grade.B)
                                  and rng.random() < 0.3)
        if left:  # handed over to a colleague on the leave date
            p = self.new(t, person, person, stage, grade, max(created, 60), last)
            heir = rng.choice([s for s in t.active if s.mentor_id is None] or t.active)
            p.handover = (heir, person.leave_date)
            p.collaborator = None
        else:
            self.new(t, person, person, stage, grade, created, last)

    # writing ----------------------------------------------------------------------
    def write_customers(self):
        # The org demo has already recorded who left; they created their customers while
        # still employed, so they are employed again for these calls, then left again.
        leavers = {p.owner.pk: (p.owner, p.owner.status, p.owner.leave_date)
                   for p in self.plans if p.owner.status == EmployeeStatus.LEFT}
        self._set_status(leavers.values(), EmployeeStatus.ACTIVE)
        self._write_customers()
        self._set_status(leavers.values(), None)

    @staticmethod
    def _set_status(leavers, status):
        User = get_user_model()
        for employee, old_status, leave_date in leavers:
            employee.status = status or old_status
            employee.leave_date = None if status else leave_date
            employee.user.is_active = bool(status)
            Employee.objects.filter(pk=employee.pk).update(status=employee.status,
                                                           leave_date=employee.leave_date)
            User.objects.filter(pk=employee.user_id).update(is_active=employee.user.is_active)

    def _write_customers(self):
        rng = self.rng
        for p in self.plans:
            district, division = rng.choice(p.city.districts)
            name, industry = self.company_name(p.city)
            address = f"{p.city.region}{district}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
            if rng.random() < 0.4:
                building = "".join(rng.sample(TRADE_CHARS, 2)) + rng.choice(["大厦", "广场"])
                address += f"{building}{rng.randint(2, 28)}层"
            source = rng.choices(list(Source.values), [30, 15, 12, 20, 13, 10])[0]
            kwargs = {"owner": p.owner} if p.creator.pk != p.owner.pk else {}
            p.customer = services.customer_create(
                by=p.creator.user, name=name, credit_code=self.credit_code(division),
                phone=self.landline(p.city), industry=industry, region=p.city.region,
                source=source, stage=p.stage, address=address,
                collaborators=[p.collaborator] if p.collaborator else (), **kwargs)
            for i in range(rng.choices([1, 2, 3], [30, 45, 25])[0]):
                mobile = self.mobile()  # E.164, unique among all phones here
                contact = Contact(
                    customer=p.customer, name=self.f.name(),
                    title=TITLES[0] if i == 0 and rng.random() < 0.3 else rng.choice(TITLES),
                    mobile=mobile, is_key=i == 0,
                    email=self.f.free_email() if rng.random() < 0.6 else "",
                    wechat=mobile[3:] if rng.random() < 0.5 else "",
                    created_at=p.created_at + datetime.timedelta(minutes=5 + i))
                contact._history_user = p.creator.user
                contact._history_date = contact.created_at
                p.contacts.append(contact)
        # services.contact_create runs four duplicate lookups per contact (about 5 ms
        # each, a third of the demo's time); the phones here are unique by construction,
        # so contacts go in bulk, with the history rows contact_create would have written.
        contacts = [c for p in self.plans for c in p.contacts]
        Contact.objects.bulk_create(contacts, batch_size=1000)  # keeps the given created_at
        Contact.history.bulk_history_create(contacts, batch_size=1000)

    def write_visits(self):
        rng = self.rng
        visits = []
        for p in self.plans:
            gap, jitter = RHYTHM[p.grade or Grade.D]
            start = max(p.created_on, self.ago(365))
            last = self.ago(p.last_days_ago)
            days, day = [], last
            while day >= start:
                days.append(day)
                day -= datetime.timedelta(days=gap + rng.randint(-jitter, jitter))
            days.reverse()
            for n, day in enumerate(days):
                if n < len(days) - 1 and day.weekday() == 5:  # Saturday: on Friday
                    day -= datetime.timedelta(days=1)
                elif n < len(days) - 1 and day.weekday() == 6:  # Sunday: on Monday
                    day += datetime.timedelta(days=1)
                visits.append(self.visit(p, day, first=n == 0, final=n == len(days) - 1))
        visits += self.daily_reports(visits)
        Visit.objects.bulk_create(visits, batch_size=2000)  # keeps the given created_at
        self.visits = visits

    def daily_reports(self, visits: list[Visit]) -> list[Visit]:
        """The last four weeks at the rhythm of 每日汇报 (CUS-8): on a working day with no
        visit yet, a salesperson makes a call or visit to one of their customers, on
        about 19 days in 20 — so a head sees a missed day now and then, not every day.
        These come before each customer's last follow-up, so revisit dates and overdue
        lists stay as the plans say."""
        from bizdept.core.calendar import working_days

        rng = self.rng
        reported = {(v.employee_id, timezone.localdate(v.visited_at)) for v in visits}
        by_owner = defaultdict(list)
        for p in self.plans:
            if p.pool_on is None and p.handover is None and p.owner.status != EmployeeStatus.LEFT:
                by_owner[p.owner.pk].append(p)
        extra = []
        for day in working_days(self.ago(28), self.ago(1)):
            for owner_id, plans in sorted(by_owner.items()):
                if (owner_id, day) in reported or rng.random() < 0.05:
                    continue
                fitting = [p for p in plans
                           if p.created_on < day < self.ago(p.last_days_ago)]
                if fitting:
                    extra.append(self.visit(rng.choice(fitting), day, first=False, final=False))
        return extra

    def visit(self, p: _Plan, day: datetime.date, *, first: bool, final: bool) -> Visit:
        rng = self.rng
        employee = p.owner
        if p.handover and day >= p.handover[1]:
            employee = p.handover[0]
        if first:
            kind = VisitKind.CALL if rng.random() < 0.3 else VisitKind.VISIT
        elif p.grade in (Grade.A, Grade.B):
            kind = rng.choices(list(VisitKind.values), [32, 22, 28, 8, 10])[0]
        else:
            kind = rng.choices(list(VisitKind.values), [20, 45, 15, 5, 15])[0]
        coach = p.lead if kind == VisitKind.JOINT and p.lead.pk != employee.pk else None
        if kind == VisitKind.JOINT and coach is None:
            kind = VisitKind.VISIT
        contact = p.contacts[0] if rng.random() < 0.6 else rng.choice(p.contacts)
        at = self.when(day, kind)
        text = rng.choice(SUMMARIES[kind]).format(
            contact=f"{contact.name}{contact.title}", product=rng.choice(PRODUCTS),
            concern=rng.choice(CONCERNS), coach=coach.name if coach else "")
        visit = Visit(customer=p.customer, employee=employee, contact=contact, kind=kind,
                      visited_at=at, summary=text)
        if rng.random() < 0.5:
            visit.next_step = rng.choice(NEXT_STEPS)
            gap = RHYTHM[p.grade or Grade.D][0]
            visit.next_on = day + datetime.timedelta(days=rng.randint(max(3, gap // 2), gap))
            if final and visit.next_on <= self.today:
                visit.next_on = None  # overdue only where the plan says so
                visit.next_step = ""
        if kind in (VisitKind.VISIT, VisitKind.REVISIT, VisitKind.JOINT) and rng.random() < 0.7:
            visit.latitude = Decimal(f"{p.lat + rng.uniform(-0.001, 0.001):.6f}")
            visit.longitude = Decimal(f"{p.lon + rng.uniform(-0.001, 0.001):.6f}")
            visit.accuracy_m = float(rng.randint(5, 60))
            visit.checked_in_at = at
        visit.coach = coach
        if coach and (self.today - day).days > 7:  # the latest ones still await review
            visit.coach_review = rng.choice(REVIEWS)
            visit.improvement_points = rng.choice(IMPROVEMENTS)
        visit.created_at = min(at + datetime.timedelta(minutes=rng.randint(20, 600)), self.now)
        return visit

    def write_handovers_and_pool(self):
        by_heir = defaultdict(list)
        for p in self.plans:
            if p.handover:
                by_heir[(p.handover[0].pk, p.lead.pk)].append(p)
        for plans in by_heir.values():
            services.customer_transfer(customers=[p.customer for p in plans],
                                       to_owner=plans[0].handover[0], by=plans[0].lead.user,
                                       reason="员工离职，客户交接")
        for p in self.plans:
            if p.pool_on:
                p.customer.refresh_from_db()
                services.customer_release(customer=p.customer, by=p.owner.user,
                                          reason=self.rng.choice(RELEASE_REASONS))

    def set_grades_and_followups(self):
        """Manual grades (honestly marked), last follow-up from the visits, then the
        services' own recompute for grades and next revisits."""
        last = {}
        for v in self.visits:
            if v.customer_id not in last or v.visited_at > last[v.customer_id].visited_at:
                last[v.customer_id] = v
        customers = []
        for p in self.plans:
            c = p.customer
            c.last_followup_at = last[c.pk].visited_at
            if p.grade:
                c.grade, c.grade_is_manual = p.grade, True
                c.grade_reason = self.rng.choice(MANUAL_GRADE_REASONS)
                c.graded_at = min(_aware(p.created_on + datetime.timedelta(days=30), 10, 0),
                                  self.now)
            customers.append(c)
        for name in ("last_followup_at", "grade", "grade_is_manual", "grade_reason",
                     "graded_at"):
            _update_column(Customer, name, {c.pk: getattr(c, name) for c in customers})
        services.customer_grade_recompute()  # also applies the last visit's next_on

    def backdate(self):
        """Services stamp 'now'; move creation, history and owner changes to when the
        story has them happen."""
        plans = {p.customer.pk: p for p in self.plans}
        _update_column(Customer, "created_at", {pk: p.created_at for pk, p in plans.items()})

        def moved_on(p, kind):
            if kind == OwnerChangeKind.TRANSFER and p.handover:
                return _aware(p.handover[1], 10, 0)
            if kind == OwnerChangeKind.RELEASE and p.pool_on:
                return _aware(p.pool_on, 17, 30)
            return p.created_at

        _update_column(OwnerChange, "at", {
            pk: moved_on(plans[customer_id], kind) for pk, customer_id, kind
            in OwnerChange.objects.values_list("pk", "customer_id", "kind")})
        _update_column(Customer, "pooled_at", {
            pk: moved_on(p, OwnerChangeKind.RELEASE) for pk, p in plans.items() if p.pool_on})
        History = Customer.history.model
        dates = {}
        # created (with its collaborators), handed over, released
        for history_id, pk, owner_id in History.objects.values_list("pk", "id", "owner_id"):
            p = plans[pk]
            dates[history_id] = p.created_at
            if p.pool_on and owner_id is None:
                dates[history_id] = moved_on(p, OwnerChangeKind.RELEASE)
            elif p.handover and owner_id == p.handover[0].pk:
                dates[history_id] = moved_on(p, OwnerChangeKind.TRANSFER)
        _update_column(History, "history_date", dates)

    def record_manual_grades(self):
        """The history rows customer_grade_override writes: the head and the reason."""
        graded = []
        fresh = Customer.objects.in_bulk([p.customer.pk for p in self.plans if p.grade])
        for p in self.plans:
            if p.grade:
                c = p.customer = fresh[p.customer.pk]
                c._history_user = p.lead.user
                c._history_date = c.graded_at
                c._change_reason = c.grade_reason
                graded.append(c)
        Customer.history.bulk_history_create(graded, update=True, batch_size=500)

    # complaints, surveys, market reports (no services yet: models directly) -------
    def write_complaints(self):
        rng = self.rng
        active = [p for p in self.plans if p.stage == Stage.ACTIVE and not p.pool_on]
        chosen = rng.sample(active, 20)
        severities = ([Severity.CRITICAL] * 2 + [Severity.HIGH] * 5 + [Severity.MEDIUM] * 8
                      + [Severity.LOW] * 5)
        # resolved in time, resolved late, closed, open and overdue, in progress, just in
        states = (["resolved"] * 7 + ["late"] * 2 + ["closed"] * 3 + ["overdue"] * 4
                  + ["in_progress"] * 2 + ["new"] * 2)
        rng.shuffle(states)
        for p, severity, state in zip(chosen, severities, states, strict=True):
            limit = COMPLAINT_DEADLINES[severity]
            if state == "overdue":
                received = self.now - limit - datetime.timedelta(hours=rng.randint(6, 240))
            elif state in ("in_progress", "new"):
                received = self.now - limit * rng.uniform(0.1, 0.6)
            else:
                age = (self.today - p.created_on).days
                received = _aware(self.ago(rng.randint(20, max(21, min(330, age - 1)))),
                                  rng.randint(9, 17), 0)
            title, text = rng.choice(COMPLAINTS[severity])
            handler = p.handover[0] if p.handover else p.owner
            complaint = Complaint(
                customer=p.customer, title=title,
                description=text.format(product=rng.choice(PRODUCTS)), severity=severity,
                handler=handler, received_at=received, deadline_at=received + limit)
            if state in ("resolved", "late", "closed"):
                share = rng.uniform(0.2, 0.9) if state != "late" else rng.uniform(1.2, 2.5)
                complaint.resolved_at = received + limit * share
                complaint.resolution = rng.choice(RESOLUTIONS)
                complaint.status = (ComplaintStatus.CLOSED if state == "closed"
                                    else ComplaintStatus.RESOLVED)
            elif state == "in_progress":
                complaint.status = ComplaintStatus.IN_PROGRESS
            elif state == "overdue":
                complaint.status = rng.choice([ComplaintStatus.OPEN,
                                               ComplaintStatus.IN_PROGRESS])
                if rng.random() < 0.5:  # overdue ones go to the head of the handler's unit
                    complaint.escalated_to = p.lead if p.lead.pk != handler.pk else \
                        handler.unit.parent.head
                    complaint.escalated_at = complaint.deadline_at
            complaint._history_user = handler.user
            complaint._history_date = received
            complaint.save()

    def write_surveys(self):
        rng = self.rng
        quarters = []
        year, q = _quarter(self.today)
        for _ in range(4):  # the last four complete quarters
            year, q = (year, q - 1) if q > 1 else (year - 1, 4)
            end = datetime.date(year + (q == 4), q * 3 % 12 + 1, 1) - datetime.timedelta(days=1)
            quarters.append((f"{year}-Q{q}", end))
        complained = set(Complaint.objects.values_list("customer_id", flat=True))
        surveys = []
        for p in self.plans:
            if p.stage != Stage.ACTIVE or p.pool_on:
                continue
            for period, end in quarters:
                if p.created_on > end - datetime.timedelta(days=30) or rng.random() < 0.15:
                    continue
                on = end - datetime.timedelta(days=rng.randint(0, 25))
                by = p.handover[0] if p.handover and on >= p.handover[1] else p.owner
                low = p.customer.pk in complained and rng.random() < 0.5
                weights = [1, 4, 17, 38, 40] if not low else [3, 15, 40, 30, 12]

                def score(weights=weights):
                    return rng.choices([1, 2, 3, 4, 5], weights)[0]

                surveys.append(Survey(
                    customer=p.customer, surveyed_on=on, period=period, service=score(),
                    delivery=score(), product=score(), surveyed_by=by,
                    comment=rng.choice(SURVEY_COMMENTS) if rng.random() < 0.3 else ""))
        Survey.objects.bulk_create(surveys, batch_size=1000)

    def write_reports(self):
        rng, f = self.rng, self.f
        competitors = [f"{f.company_prefix()}科技" for _ in range(4)]
        competitors = [c for c in competitors if "公司" not in c] or ["恒通科技"]
        reporters = defaultdict(list)
        for p in self.plans:
            if p.owner.status != EmployeeStatus.LEFT:
                reporters[p.owner.pk].append(p)
        people = list(reporters.values())
        kinds = list(REPORT_KIND_WEIGHTS)
        for _ in range(30):
            plans = rng.choice(people)
            p = rng.choice(plans)
            kind = rng.choices(kinds, list(REPORT_KIND_WEIGHTS.values()))[0]
            title, text = rng.choice(REPORTS[kind])
            city = p.city
            province = city.region[:3] if "省" in city.region else city.region
            values = {"competitor": rng.choice(competitors), "city": city.name,
                      "province": province, "industry": rng.choice(TRADES)[1],
                      "product": rng.choice(PRODUCTS), "pct": rng.randint(5, 20),
                      "n": rng.randint(2, 8)}
            on = self.ago(rng.randint(1, 360))
            report = MarketReport(
                reporter=p.owner, kind=kind, region=city.region, title=title.format(**values),
                text=text.format(**values), reported_on=on,
                customer=p.customer if rng.random() < 0.4 else None)
            report._history_user = p.owner.user
            report._history_date = _aware(on, 18, 0)
            report.save()

    def run(self):
        self.plan()
        self.write_customers()
        self.write_visits()
        self.write_handovers_and_pool()
        self.set_grades_and_followups()
        self.backdate()
        self.record_manual_grades()
        self.write_complaints()
        self.write_surveys()
        self.write_reports()


@transaction.atomic
def build_demo(ctx) -> None:
    """A year of customers and field work for the demo department (see the module doc)."""
    _Demo(ctx).run()


# --- scale ----------------------------------------------------------------------------
# size → (customers, visits). L is the figure; M and S are proportionally fewer.
SCALE = {"S": (5_000, 50_000), "M": (50_000, 500_000), "L": (200_000, 2_000_000)}
SCALE_BATCH = 5_000
SCALE_POOL_SHARE = 0.03
SCALE_GRADES = {Grade.A: 10, Grade.B: 20, Grade.C: 30, Grade.D: 40}
SCALE_SUMMARIES = [s.format(contact="客户", product=p, concern=c, coach="所长")
                   for kind in SUMMARIES.values() for s in kind[:2]
                   for p, c in zip(PRODUCTS[:3], CONCERNS[:3], strict=True)]


def build_scale(ctx, size: str) -> None:
    """Customers and visits in bulk for benchmarks (sizes in ``SCALE``): one key contact
    each, 3% in the pool, grades A–C set by hand and D by the rules, no history rows.

    Names carry the customer's index, so name keys, credit codes and phones are unique.
    ``last_followup_at`` is the customer's latest visit and ``next_revisit_on`` follows
    the same rule as ``services.customer_grade_recompute`` (a test checks that a
    recompute changes nothing); running that service over 200,000 rows would dominate
    the build. Each batch of customers, with their contacts and visits, is one
    transaction, so the write-ahead log stays small.
    """
    n_customers, n_visits = SCALE[size]
    rng, names = ctx.rng, [ctx.faker.name() for _ in range(500)]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # a bigger page cache for the index inserts
            cursor.execute("PRAGMA cache_size=-262144")
    teams = sorted(Unit.objects.filter(pk__in=[t.pk for t in ctx.teams]),
                   key=lambda t: [u.pk for u in ctx.teams].index(t.pk))
    head = {t.pk: t.head_id for t in teams}
    staff = list(Employee.objects.filter(unit__in=teams).exclude(status=EmployeeStatus.LEFT)
                 .order_by("number").only("pk", "unit_id"))
    salespeople = [e for e in staff if head[e.unit_id] != e.pk] or staff
    if not salespeople:
        return
    team_city = {t.pk: CITIES[MAIN_CITIES[i % len(MAIN_CITIES)]] for i, t in enumerate(teams)}
    interval = {r.grade: r.revisit_days for r in selectors.grade_rules()}
    now = timezone.now()
    today = timezone.localdate(now)
    grades, weights = list(SCALE_GRADES), list(SCALE_GRADES.values())
    # Visits per customer follow its grade's rhythm, scaled so that the total is exact.
    per_year = {g: 365 / RHYTHM[g][0] for g in grades}
    mean = sum(per_year[g] * w for g, w in SCALE_GRADES.items()) / sum(weights)
    visits_left = n_visits
    kinds = list(VisitKind.values)

    for start in range(0, n_customers, SCALE_BATCH):
        stop = min(n_customers, start + SCALE_BATCH)
        customers, stories = [], []
        for i in range(start, stop):
            owner = rng.choice(salespeople)
            city = team_city[owner.unit_id]
            district, division = city.districts[i % len(city.districts)]
            word, industry = TRADES[i % len(TRADES)]
            trade = TRADE_CHARS[i % len(TRADE_CHARS)] + TRADE_CHARS[i // 7 % len(TRADE_CHARS)]
            name = f"{city.name}{trade}{word}{i + 1}号有限公司"
            grade = rng.choices(grades, weights)[0]
            in_pool = rng.random() < SCALE_POOL_SHARE
            if in_pool:
                last_days = rng.randint(40, 300)
            elif grade in (Grade.A, Grade.B) and rng.random() < 0.15:  # revisit overdue
                last_days = interval[grade] + rng.randint(1, 10)
            else:
                last_days = rng.randint(1, RHYTHM[grade][0] - 1)
            last_at = _aware(today - datetime.timedelta(days=last_days), rng.randint(9, 17),
                             rng.randrange(60))
            manual = grade != Grade.D
            customers.append(Customer(
                name=name, name_key=normalize_company_name(name),
                credit_code=credit_code(division, f"{i + 1:08d}"),
                phone=f"+86138{i:08d}",  # a valid mobile range, unique by index
                industry=industry,
                region=city.region,
                address=f"{city.region}{district}{ROADS[i % len(ROADS)]}{i % 999 + 1}号",
                source=Source.values[i % len(Source.values)],
                stage=Stage.ACTIVE if manual else rng.choice([Stage.PROSPECT, Stage.ACTIVE]),
                owner_id=None if in_pool else owner.pk,
                pooled_at=last_at + datetime.timedelta(days=31) if in_pool else None,
                grade=grade, grade_is_manual=manual,
                grade_reason=MANUAL_GRADE_REASONS[0] if manual else "", graded_at=now,
                last_followup_at=last_at,
                next_revisit_on=None if in_pool else
                timezone.localdate(last_at) + datetime.timedelta(days=interval[grade]),
                created_at=last_at - datetime.timedelta(days=rng.randint(400, 2000))))
            share = per_year[grade] / mean * n_visits / n_customers
            count = max(1, int(share) + (rng.random() < share % 1))
            count = min(count, visits_left - (n_customers - 1 - i))  # ≥ 1 left for the rest
            if i == n_customers - 1:
                count = visits_left
            visits_left -= count
            stories.append((owner, count))
        with transaction.atomic():
            Customer.objects.bulk_create(customers, batch_size=SCALE_BATCH)
            contacts = Contact.objects.bulk_create([
                Contact(customer=c, name=names[i % len(names)], title=TITLES[i % len(TITLES)],
                        mobile=f"+86139{start + i:08d}", is_key=True, created_at=c.created_at)
                for i, c in enumerate(customers)], batch_size=SCALE_BATCH)
            # Visits: bulk_create spends ~200 µs per row compiling 17 fields (400 s for
            # size L), so they go through one prepared INSERT with the same values.
            rows = []
            adapt = connection.ops.adapt_datetimefield_value
            n_summaries = len(SCALE_SUMMARIES)
            for c, contact, (owner, count) in zip(customers, contacts, stories, strict=True):
                coach = head[owner.unit_id]
                coach = coach if coach != owner.pk else None
                at = c.last_followup_at
                gap = RHYTHM[c.grade][0]
                for _ in range(count):
                    kind = kinds[rng.randrange(len(kinds))]
                    if kind == VisitKind.JOINT and coach is None:
                        kind = VisitKind.VISIT
                    joint = kind == VisitKind.JOINT
                    when = adapt(at)
                    rows.append((c.pk, owner.pk, contact.pk, kind, when,
                                 SCALE_SUMMARIES[rng.randrange(n_summaries)], "",
                                 coach if joint else None, REVIEWS[0] if joint else "", "",
                                 when))
                    at -= datetime.timedelta(days=gap, hours=rng.randint(-24, 24))
            _insert_rows(Visit, VISIT_COLUMNS, rows)


VISIT_COLUMNS = ["customer", "employee", "contact", "kind", "visited_at", "summary", "next_step",
                 "coach", "coach_review", "improvement_points", "created_at"]


def _insert_rows(model, names: list[str], rows: list[tuple], batch: int = SCALE_BATCH) -> None:
    """INSERT rows of database-ready values into ``model``'s table, ``batch`` at a time."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(n).column) for n in names)
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "
           f"VALUES ({', '.join(['%s'] * len(names))})")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start:start + batch])


def _update_column(model, name: str, values: dict) -> None:
    """Set one column row by row ({pk: value}) in a single executemany: bulk_update's
    CASE expression costs more here than all the rows it writes."""
    if not values:
        return
    qn = connection.ops.quote_name
    field = model._meta.get_field(name)
    sql = (f"UPDATE {qn(model._meta.db_table)} SET {qn(field.column)} = %s "
           f"WHERE {qn(model._meta.pk.column)} = %s")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(field.get_db_prep_save(v, connection), pk)
                                 for pk, v in values.items()])

