"""The dispatch catalogue 派单目录: the default categories of needs, and its XLSX/CSV import
and export.

Each category says who handles it by default (the grid, the community, or a department of a
kind) and its time limits, following Beijing's 12345 接诉即办: emergencies such as a gas leak
are answered within 2 hours, water, power, gas and heating within 24 hours, ordinary needs are
resolved within 7 working days and complex ones within 15. The keywords and examples, written
as residents write, train the triage classifier, so the categories are kept distinguishable.

A category with ``city`` null is the default for cities that have not defined that code.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from linli.core.audit import audit_record
from linli.core.models import AuditEntry
from linli.needs.models import Category, HandlingLevel, LimitUnit
from linli.needs.workdays import check_city, read_table, require_system_admin
from linli.people.models import DepartmentKind
from linli.places.models import Place
from linli.places.services import ImportFailed, ImportResult, LineError, RowError, import_failed

WD = LimitUnit.WORKDAYS
H = LimitUnit.HOURS
GRID, COMMUNITY, DEPARTMENT = HandlingLevel.GRID, HandlingLevel.COMMUNITY, HandlingLevel.DEPARTMENT


@dataclass(frozen=True)
class Entry:
    """One line of the default catalogue; ``limits`` are (response, check-in, resolution),
    each (amount, unit)."""

    code: str
    name: str
    name_hant: str
    name_en: str
    level: str
    department_kind: str
    limits: tuple[tuple[int, str], tuple[int, str], tuple[int, str]]
    keywords: tuple[str, ...]
    examples: tuple[str, ...]

    def fields(self) -> dict[str, Any]:
        (response, response_unit), (checkin, checkin_unit), (resolution, resolution_unit) = self.limits
        return {
            "name": self.name,
            "name_hant": self.name_hant,
            "name_en": self.name_en,
            "level": self.level,
            "department_kind": self.department_kind,
            "response_limit": response,
            "response_unit": response_unit,
            "checkin_limit": checkin,
            "checkin_unit": checkin_unit,
            "resolution_limit": resolution,
            "resolution_unit": resolution_unit,
            "keywords": list(self.keywords),
            "examples": list(self.examples),
            "active": True,
        }


#: Emergencies: answered and checked in within 2 hours, made safe within 24.
EMERGENCY = ((2, H), (2, H), (24, H))
#: Water, power, gas and heating: feedback within 24 hours.
UTILITY = ((24, H), (24, H), (7, WD))
#: Ordinary needs: resolved within 7 working days.
ORDINARY = ((1, WD), (1, WD), (7, WD))
#: Complex needs (several parties, works, mediation): 15 working days.
COMPLEX = ((1, WD), (2, WD), (15, WD))

DEFAULT_CATALOGUE: tuple[Entry, ...] = (
    Entry(
        "lighting",
        "路灯照明",
        "路燈照明",
        "Street and stairwell lighting",
        DEPARTMENT,
        DepartmentKind.CITY_MANAGEMENT,
        ORDINARY,
        ("路灯", "不亮", "太暗", "照明", "灯杆", "楼道灯", "黑灯瞎火"),
        (
            "小区门口那几盏路灯坏了快一个月了，晚上黑漆漆的，老人都不敢出门",
            "3栋后面的路灯太暗了，跟没开一样，能不能换个亮点的",
            "楼道灯不亮，声控的喊半天都没反应，昨晚上楼还摔了一跤",
            "幸福路和常青路路口的路灯白天一直亮着，晚上反而不亮",
            "我们这条巷子一盏路灯都没有，孩子下晚自习回家很害怕",
            "篮球场边上的灯杆被车撞歪了，灯罩都快掉下来了",
            "路灯一闪一闪的晃眼睛，麻烦派人来修一下",
        ),
    ),
    Entry(
        "parking",
        "停车与电动车",
        "停車與電動車",
        "Parking and e-bikes",
        COMMUNITY,
        "",
        ORDINARY,
        ("停车", "车位", "乱停", "电动车", "充电桩", "车棚", "共享单车"),
        (
            "电动车乱停在单元门口，轮椅都推不进去",
            "小区里充电桩太少了，每天晚上排队充电，能不能多装几个",
            "外面的车随便开进小区停，我们业主下班回来都没车位",
            "车棚里的充电插座坏了好几个，扫码付了钱也充不上",
            "有人把车停在我家车库门口，打电话也不接",
            "共享单车堆在小区门口一大片，人都过不去",
            "电动车车棚没有顶，一下雨车全淋湿了，能不能搭个棚",
            "路边双排停车，早上上班车堵得开不出去",
        ),
    ),
    Entry(
        "drainage",
        "排水与污水",
        "排水與污水",
        "Drains and sewage",
        DEPARTMENT,
        DepartmentKind.WATER,
        UTILITY,
        ("下水道", "堵塞", "污水", "倒灌", "积水", "化粪池", "窨井", "返臭"),
        (
            "一下雨一楼家里就往上冒污水，地板全泡了，已经好几回了",
            "地下排水管网年久失修，楼栋出水井被埋了，下雨污水倒灌进一楼住户家",
            "楼下下水道堵了，污水漫到路上，臭得不行",
            "小区门口一下大雨就积水，水都漫过脚脖子了",
            "化粪池满了往外溢，整栋楼都是臭味",
            "厨房下水返臭，物业说是主管道堵了，让我们找水务",
            "窨井盖旁边一直往外冒黑水，流得花坛里都是",
            "雨水口被落叶和垃圾堵死了，雨一大就排不出去",
        ),
    ),
    Entry(
        "wiring",
        "线路杂乱",
        "線路雜亂",
        "Tangled overhead wiring",
        DEPARTMENT,
        DepartmentKind.TELECOM,
        COMPLEX,
        ("线缆", "飞线", "蜘蛛网", "电线", "光缆", "网线", "杂乱", "电线杆"),
        (
            "楼外墙上的电线网线缠成一团像蜘蛛网，看着就危险",
            "巷子上空的线乱拉一气，有几根耷拉下来快碰到头了",
            "废弃的光缆挂在树上没人管，一刮风就甩来甩去",
            "有人从楼上拉飞线下来，电线就横在路边",
            "电线杆上挂的线太多了，杆子都被拽歪了",
            "楼道里几家运营商的网线乱七八糟，弱电箱门都关不上",
            "老小区的线路又老又乱，能不能统一整理一下、弄到地下去",
        ),
    ),
    Entry(
        "water",
        "供水",
        "供水",
        "Water supply",
        DEPARTMENT,
        DepartmentKind.WATER,
        UTILITY,
        ("停水", "水压", "自来水", "水管", "爆管", "水质", "水表", "二次供水"),
        (
            "从早上到现在一直停水，也没看到通知，一家老小没水用",
            "高层水压太低，一到做饭的时候十楼以上就没水",
            "自来水放出来是黄的，还有一股铁锈味",
            "路边水管爆了，水哗哗地往外冒，路都淹了",
            "水表冻裂了一直在漏水，水表井盖也是破的",
            "二次供水的水箱多久没洗了？烧开水底下全是沉淀",
            "停水能不能提前发个通知，半夜没水真的很麻烦",
        ),
    ),
    Entry(
        "power",
        "供电",
        "供電",
        "Power supply",
        DEPARTMENT,
        DepartmentKind.POWER,
        UTILITY,
        ("停电", "跳闸", "电压", "电表", "变压器", "断电", "配电房"),
        (
            "整栋楼突然停电两个小时了，冰箱里的东西都要坏了",
            "晚上电压不稳，空调开不起来，电器老是自动关机",
            "小区变压器一直嗡嗡响，夏天用电高峰天天跳闸",
            "这个月已经停了三次电，一次通知都没有",
            "楼下配电房冒烟，有股焦糊味，赶紧来看看",
            "电表箱的门锈坏了关不上，下雨往里面灌水",
            "交了电费还是没来电，营业厅说要等明天",
        ),
    ),
    Entry(
        "gas",
        "燃气",
        "燃氣",
        "Gas",
        DEPARTMENT,
        DepartmentKind.GAS,
        EMERGENCY,
        ("燃气", "煤气", "天然气", "漏气", "燃气表", "液化气", "打不着火"),
        (
            "楼道里一股很浓的煤气味，不知道谁家漏气了，快来人看看！",
            "小区门口施工把燃气管挖破了，嘶嘶地往外冒气",
            "厨房燃气灶打不着火，燃气表上明明还有气",
            "外墙上的天然气管道锈得很厉害，怕哪天漏了",
            "卡里充了气，插到燃气表上就是不显示",
            "冬天一到晚上气压就不够，热水器老是熄火",
            "说好来给我们装燃气报警器，一个月了也没人来",
        ),
    ),
    Entry(
        "telecom",
        "通信网络",
        "通信網絡",
        "Phone and internet",
        DEPARTMENT,
        DepartmentKind.TELECOM,
        ORDINARY,
        ("信号", "宽带", "断网", "网速", "基站", "光纤", "手机"),
        (
            "家里宽带老是断网，报修三次了都没人上门",
            "地下车库和电梯里一点手机信号都没有",
            "小区只能装一家的宽带，想换别家都不让进",
            "网速特别慢，晚上看个视频一直转圈圈",
            "楼顶新装了个基站，大家担心有辐射，想问问有没有审批",
            "光纤入户说要排队等一个月，孩子上网课等不了",
        ),
    ),
    Entry(
        "property",
        "物业管理",
        "物業管理",
        "Property management",
        DEPARTMENT,
        DepartmentKind.PROPERTY,
        ORDINARY,
        ("物业", "物业费", "保安", "门禁", "电梯", "维修基金", "公示"),
        (
            "物业费年年涨，服务越来越差，门口保安经常不在岗",
            "电梯三天两头坏，物业就贴张纸说在维修",
            "门禁卡坏了去物业补办，一张要收五十块，这合理吗",
            "物业公司说下个月就撤了，小区以后谁来管",
            "公共部分的维修用了维修基金，也不公示账目",
            "小区大门坏了一个月了，物业说没钱修",
            "楼上装修把建材堆在公共走廊，物业也不管",
        ),
    ),
    Entry(
        "greening",
        "绿化",
        "綠化",
        "Trees and green spaces",
        COMMUNITY,
        "",
        ORDINARY,
        ("绿化", "树木", "修剪", "草坪", "毁绿", "种菜", "枯树", "杂草"),
        (
            "楼下的树长得比楼还高，二楼常年晒不到太阳，能不能修剪一下",
            "有人把小区草坪挖了种菜，还浇粪水",
            "有棵大树被风吹歪了，斜在人行道上",
            "绿化带好久没人打理，杂草比人还高，蚊子特别多",
            "枯死的树一直没人清，树枝随时会掉下来",
            "树上毛毛虫太多了，掉得到处都是，能不能打点药",
            "小区花坛被挖掉了一半，说是要铺水泥",
        ),
    ),
    Entry(
        "sanitation",
        "环境卫生",
        "環境衛生",
        "Rubbish and cleanliness",
        GRID,
        "",
        ORDINARY,
        ("垃圾", "清运", "卫生", "老鼠", "蚊蝇", "垃圾桶", "保洁", "脏乱"),
        (
            "垃圾桶满了好几天没人来收，苍蝇到处飞",
            "楼道好久没人打扫了，地上全是烟头和灰",
            "小区里老鼠越来越多，晚上在垃圾站那边乱窜",
            "有人把装修垃圾倒在路边，堆成小山了",
            "垃圾分类的桶太少，厨余垃圾一到夏天就发臭",
            "狗屎到处都是，遛狗的也不捡",
            "菜市场门口污水横流，烂菜叶子没人扫",
        ),
    ),
    Entry(
        "noise",
        "噪音扰民",
        "噪音擾民",
        "Noise",
        COMMUNITY,
        "",
        ORDINARY,
        ("噪音", "扰民", "广场舞", "施工", "装修", "太吵", "半夜"),
        (
            "楼下广场舞音响开得震天响，每天晚上跳到九点多",
            "隔壁工地半夜还在打桩，吵得根本睡不着",
            "楼上装修周末一大早就开电钻，说了也不听",
            "楼下烧烤店半夜划拳喝酒，吵到凌晨两三点",
            "商铺门口大喇叭循环放促销，一天到晚吵",
            "对面空调外机噪音太大，正对着我家卧室窗户",
        ),
    ),
    Entry(
        "road",
        "道路设施",
        "道路設施",
        "Roads and pavements",
        DEPARTMENT,
        DepartmentKind.CITY_MANAGEMENT,
        COMPLEX,
        ("路面", "坑洼", "井盖", "人行道", "破损", "护栏", "减速带", "盲道"),
        (
            "小区门口的路坑坑洼洼的，骑车颠得要命",
            "人行道地砖翘起来好几块，老人走路容易绊倒",
            "路中间的井盖缺了一个角，晚上看不见很危险",
            "路口的护栏被撞坏了，好几天也没人修",
            "学校门口车开得太快了，能不能装几个减速带",
            "盲道上全是坑，还被摆摊的占了",
            "斑马线的漆都磨没了，过马路车都不让人",
        ),
    ),
    Entry(
        "building",
        "房屋安全与维修",
        "房屋安全與維修",
        "Building safety and repairs",
        DEPARTMENT,
        DepartmentKind.HOUSING,
        COMPLEX,
        ("漏水", "墙体", "裂缝", "外墙", "屋顶", "脱落", "危房", "加装电梯"),
        (
            "顶楼一下雨屋顶就漏水，墙都发霉了",
            "外墙瓷砖掉下来一块，差点砸到楼下的人",
            "楼梯间墙上裂了好长一条缝，越来越宽，是不是危房",
            "阳台底板的水泥一块块往下掉，钢筋都露出来了",
            "老楼想加装电梯，要办哪些手续，社区能不能帮忙协调",
            "楼上卫生间漏水渗到我家天花板，墙皮都泡起来了",
            "楼道窗户玻璃碎了好久，冬天冷风直往里灌",
        ),
    ),
    Entry(
        "safety",
        "消防与安全",
        "消防與安全",
        "Fire and public safety",
        COMMUNITY,
        "",
        ((2, H), (24, H), (7, WD)),
        ("消防", "灭火器", "消防通道", "安全出口", "隐患", "消防栓", "着火"),
        (
            "有人把电动车推进楼道里充电，万一着火整栋楼都跑不掉",
            "消防通道天天被车堵着，真出事消防车根本进不来",
            "楼道里的灭火器都过期好几年了",
            "楼梯口堆满了纸箱和旧家具，把安全出口都挡住了",
            "小区的消防栓拧开一点水都没有",
            "地下室住了人，还乱接电线做饭，太危险了",
            "隔壁出租屋住了十几个人，屋里还用液化气罐，怕出事",
        ),
    ),
    Entry(
        "dispute",
        "邻里纠纷",
        "鄰里糾紛",
        "Disputes between neighbours",
        COMMUNITY,
        "",
        COMPLEX,
        ("纠纷", "邻居", "吵架", "调解", "矛盾", "协商", "占用"),
        (
            "对门邻居把鞋柜放在公共走廊，说了几次就吵起来了，想请社区调解",
            "楼上邻居家的狗天天叫，去沟通还骂人",
            "两家为了楼顶晾衣服的地方闹矛盾，差点打起来",
            "邻居在院子里私自搭棚子，占了我家门前的路",
            "楼上空调滴水滴到我家窗台，协商了好多次没结果",
            "借钱给邻居一直不还，想请社区帮忙调解一下",
            "兄弟几个为了老人的房子闹得不可开交，请社区出面说和",
        ),
    ),
    Entry(
        "elderly",
        "养老助老",
        "養老助老",
        "Care for older people",
        COMMUNITY,
        "",
        ORDINARY,
        ("老人", "独居", "助餐", "养老", "高龄", "适老化", "上门"),
        (
            "我妈一个人住，七十多了腿脚不好，能不能有人定期上门看看",
            "社区食堂能不能给高龄老人送餐上门",
            "家里老人不会用智能手机交燃气费电费，能不能教教他",
            "想给老人家里装扶手和防滑垫，听说有适老化改造补贴，怎么申请",
            "高龄津贴今年还没到账，该去哪里问",
            "楼下独居的孙奶奶好几天没出门了，敲门也没人应，有点担心",
            "老年活动室一直锁着，老人们想下个棋都没地方去",
        ),
    ),
    Entry(
        "other",
        "其他",
        "其他",
        "Other",
        GRID,
        "",
        ORDINARY,
        ("咨询", "建议", "求助", "证明", "办事", "其他"),
        (
            "想开个居住证明，需要带什么材料",
            "建议社区周末多办点亲子活动",
            "社保卡丢了，在社区能补办吗",
            "小区快递柜太少了，快递经常放在门口被拿走",
            "想组织几个邻居成立读书会，社区能借个场地吗",
            "孩子入学要社区开证明，找谁办",
        ),
    ),
)


@transaction.atomic
def catalogue_load_defaults(*, city: Place | None = None) -> int:
    """Create or reset the default categories (for ``city``, or the national defaults).
    Returns the number of rows created or changed; running it again writes nothing."""
    check_city(city)
    existing = {c.code: c for c in Category.objects.filter(city=city, code__in=[e.code for e in DEFAULT_CATALOGUE])}
    written = 0
    for entry in DEFAULT_CATALOGUE:
        wanted = entry.fields()
        current = existing.get(entry.code)
        if current is None:
            category = Category(city=city, code=entry.code, **wanted)
            category.full_clean()
            category.save()
            written += 1
        elif any(getattr(current, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(current, k, v)
            current.full_clean()
            current.save()
            written += 1
    return written


# --- import and export ----------------------------------------------------------------------------

COLUMNS = [
    "code",
    "name",
    "name_hant",
    "name_en",
    "level",
    "department_kind",
    "response_limit",
    "response_unit",
    "checkin_limit",
    "checkin_unit",
    "resolution_limit",
    "resolution_unit",
    "keywords",
    "examples",
]
CATALOGUE_ALIASES = {c: c for c in COLUMNS} | {
    "编码": "code",
    "名称": "name",
    "繁体名称": "name_hant",
    "名称(繁体)": "name_hant",
    "英文名称": "name_en",
    "名称(英文)": "name_en",
    "默认办理层级": "level",
    "办理层级": "level",
    "部门类别": "department_kind",
    "默认承办部门类别": "department_kind",
    "响应时限": "response_limit",
    "响应时限单位": "response_unit",
    "报到时限": "checkin_limit",
    "部门报到时限": "checkin_limit",
    "报到时限单位": "checkin_unit",
    "办结时限": "resolution_limit",
    "办结时限单位": "resolution_unit",
    "关键词": "keywords",
    "示例": "examples",
}
LEVEL_ALIASES = {v: v for v in HandlingLevel.values} | {str(label): v for v, label in HandlingLevel.choices}
KIND_ALIASES = {v: v for v in DepartmentKind.values} | {str(label): v for v, label in DepartmentKind.choices}
UNIT_ALIASES = {v: v for v in LimitUnit.values} | {str(label): v for v, label in LimitUnit.choices} | {"天": WD}
KEYWORD_SPLIT = re.compile(r"[、,，;；]")
EXAMPLE_SPLIT = re.compile(r"[\r\n｜|]+")
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,32}$")
MAX_LIMIT = 365
LIMITS = (("response", "响应时限"), ("checkin", "报到时限"), ("resolution", "办结时限"))


def _parse_row(row: dict[str, str], msgs: list[str]) -> dict[str, Any]:
    code = row.get("code", "")
    if not SLUG.match(code):
        msgs.append(
            f"编码“{code}”无效(字母、数字、-、_，最多32位) / invalid code {code!r} (letters, digits, - and _, at most 32)"
        )
    item: dict[str, Any] = {"code": code}
    for column, limit, zh in (("name", 60, "名称"), ("name_hant", 60, "繁体名称"), ("name_en", 80, "英文名称")):
        value = row.get(column, "")
        if len(value) > limit:
            msgs.append(f"{zh}过长(最多{limit}字) / {column} is longer than {limit} characters")
        item[column] = value
    if not item["name"]:
        msgs.append("名称不能为空 / the name is empty")
    level = LEVEL_ALIASES.get(row.get("level", "").lower(), LEVEL_ALIASES.get(row.get("level", "")))
    if level is None:
        msgs.append(f"办理层级“{row.get('level', '')}”无效 / invalid level {row.get('level', '')!r}")
    item["level"] = level
    raw_kind = row.get("department_kind", "")
    kind = KIND_ALIASES.get(raw_kind.lower(), KIND_ALIASES.get(raw_kind)) if raw_kind else ""
    if kind is None:
        msgs.append(f"部门类别“{raw_kind}”无效 / invalid department kind {raw_kind!r}")
    elif level == DEPARTMENT and not kind:
        msgs.append("部门办理的类别要填部门类别 / a category handled by a department needs a department kind")
    item["department_kind"] = kind or ""
    for prefix, zh in LIMITS:
        raw = row.get(f"{prefix}_limit", "")
        amount = _int(raw)
        if amount is None or not 1 <= amount <= MAX_LIMIT:
            msgs.append(
                f"{zh}“{raw}”应为 1 到 {MAX_LIMIT} 的整数 / {prefix}_limit {raw!r} must be a whole number from 1 to {MAX_LIMIT}"
            )
        item[f"{prefix}_limit"] = amount
        raw_unit = row.get(f"{prefix}_unit", "")
        unit = UNIT_ALIASES.get(raw_unit.lower(), UNIT_ALIASES.get(raw_unit))
        if unit is None:
            msgs.append(
                f"{zh}单位“{raw_unit}”无效，应为 工作日 或 小时 / {prefix}_unit {raw_unit!r} must be workdays or hours"
            )
        item[f"{prefix}_unit"] = unit
    keywords = [k.strip() for k in KEYWORD_SPLIT.split(row.get("keywords", "")) if k.strip()]
    long = [k for k in keywords if len(k) > 30]
    if long:
        msgs.append(f"关键词过长(最多30字): {long[0]} / keyword longer than 30 characters: {long[0]}")
    item["keywords"] = keywords
    item["examples"] = [e.strip() for e in EXAMPLE_SPLIT.split(row.get("examples", "")) if e.strip()]
    return item


def _int(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def catalogue_import(*, actor: Any, data: bytes, filename: str, city: Place | None = None) -> ImportResult:
    """Create or update categories (of ``city``, or the defaults) from an XLSX or CSV file in
    the export's format. Codes not in the file are left as they are. Every row is checked
    first; with any bad row nothing is written (``ImportFailed`` with each row's errors).
    System administrators only (``actor=SYSTEM`` is the system).
    """
    require_system_admin(actor, "导入派单目录", "import the dispatch catalogue")
    check_city(city)
    rows = list(read_table(data, filename, aliases=CATALOGUE_ALIASES, required=COLUMNS))
    if not rows:
        raise import_failed(0, "文件中没有数据行 / The file has no data rows")
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    parsed: list[dict[str, Any]] = []
    for line, row in rows:
        msgs: list[str] = []
        item = _parse_row(row, msgs)
        code = item["code"]
        if code in seen:
            msgs.append(f"编码 {code} 与第{seen[code]}行重复 / code {code} repeats row {seen[code]}")
        seen.setdefault(code, line)
        if msgs:
            errors.append(LineError(line, msgs))
        else:
            parsed.append(item)
    if errors:
        raise ImportFailed(errors)
    return _catalogue_write(actor=actor, filename=filename, city=city, items=parsed)


@transaction.atomic
def _catalogue_write(*, actor: Any, filename: str, city: Place | None, items: list[dict[str, Any]]) -> ImportResult:
    existing = {c.code: c for c in Category.objects.select_for_update().filter(city=city)}
    result = ImportResult()
    anchor: Category | None = None
    for item in items:
        fields = {k: v for k, v in item.items() if k != "code"}
        current = existing.get(item["code"])
        if current is None:
            current = Category(city=city, code=item["code"], **fields)
            result.created += 1
        elif any(getattr(current, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(current, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
            anchor = anchor or current
            continue
        try:
            current.full_clean()
        except ValidationError as exc:  # the row checks above should make this unreachable
            raise ImportFailed([LineError(0, [f"{item['code']}: {m}" for m in exc.messages])]) from exc
        current.save()
        anchor = anchor or current
    assert anchor is not None
    audit_record(
        actor=actor,
        action=AuditEntry.Action.IMPORT,
        target=anchor,
        place=city,
        reason=filename,
        changes={"created": result.created, "updated": result.updated},
    )
    return result


def catalogue_export_xlsx(*, actor: Any, city: Place | None = None) -> bytes:
    """The catalogue (of ``city``, or the defaults) as an XLSX in the import format, so it
    round-trips. System administrators only."""
    from openpyxl import Workbook

    require_system_admin(actor, "导出派单目录", "export the dispatch catalogue")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("catalogue")
    sheet.append(COLUMNS)
    for category in Category.objects.filter(city=city).order_by("code"):
        sheet.append(
            [
                category.code,
                category.name,
                category.name_hant,
                category.name_en,
                category.level,
                category.department_kind,
                category.response_limit,
                category.response_unit,
                category.checkin_limit,
                category.checkin_unit,
                category.resolution_limit,
                category.resolution_unit,
                "、".join(category.keywords),
                "\n".join(category.examples),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
