"""Realistic generated records (names, valid ID numbers, licences, firms) for benchmarks,
tests and the smoke test. Deterministic for a given seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import ric

from desktop.domain.identifiers import org_code_check

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽秀飞"
#: county-level codes present in GB/T 2260 (and python-stdnum's table), with their area phone codes
AREAS = [("110105", "010"), ("110108", "010"), ("120101", "022"), ("130102", "0311"),
         ("130602", "0312"), ("310104", "021"), ("320102", "025"), ("330106", "0571"),
         ("370102", "0531"), ("410105", "0371"), ("420106", "027"), ("440106", "020"),
         ("440304", "0755"), ("510104", "028"), ("610113", "029"), ("500103", "023")]
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: allocated mobile segments (forms/codes/mobile_segments.toml) and the local numbers' length
#: where an area code of AREAS has 7-digit numbers (forms/codes/phone_areas.toml; 8 elsewhere)
MOBILE_SEGMENTS = ("130", "133", "135", "136", "138", "139", "150", "153", "158", "177", "180",
                   "186", "189", "199")
SHORT_LOCAL = {"0312": 7}


_USED: set[str] = set()


def resident_id(rng: random.Random, birth: date, male: bool, area: str) -> str:
    """A valid number, unique within this process (as real people's numbers are)."""
    while True:
        seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{area}{birth:%Y%m%d}{seq:03d}"
        if body not in _USED:
            _USED.add(body)
            return body + ric.calc_check_digit(body + "0")


def firm_uscc(rng: random.Random, area: str) -> str:
    org = "".join(rng.choice("0123456789") for _ in range(8))
    body = "31" + area + org + org_code_check(org)
    total = sum(_USCC.index(ch) * pow(3, i, 31) for i, ch in enumerate(body))
    return body + _USCC[(31 - total % 31) % 31]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass(frozen=True)
class Firm:
    name: str
    uscc: str
    area: str
    phone_code: str


def firms(rng: random.Random, n: int) -> list[Firm]:
    words = "正大 金诚 中伦 君合 天元 大成 德恒 国浩 锦天城 汉坤 通商 竞天 海问 环球 方达 康达 观韬 隆安 京都 炜衡".split()
    out = []
    for i in range(n):
        area, code = rng.choice(AREAS)
        out.append(Firm(f"{rng.choice(words)}{['', '恒', '信', '泰', '华'][i % 5]}律师事务所"
                        f"（第{i + 1}所）", firm_uscc(rng, area), area, code))
    return out


def lawyer_member(rng: random.Random, firm: Firm, today: date = date(2026, 11, 1)) -> dict:
    """One complete, valid 附件1 record keyed by the field labels of FORMS.md."""
    male = rng.random() < 0.6
    birth = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 365 * 43))
    joined = birth.replace(year=birth.year + rng.randint(20, 30)) if birth.month != 2 or \
        birth.day != 29 else date(birth.year + 22, 3, 1)
    joined = min(joined, today - timedelta(days=800))
    probationary = rng.random() < 0.05
    if probationary:
        joined = today - timedelta(days=rng.randrange(30, 300))
    first_year = max(1980, min(birth.year + 25, today.year))
    while True:
        licence = (f"1{firm.area[:2]}{firm.area[2:4]}{first_year}1{0 if male else 1}"
                   f"{rng.randrange(0, 999999):06d}")
        if licence not in _USED:
            _USED.add(licence)
            break
    return {
        "姓名": person_name(rng),
        "性别": "男" if male else "女",
        "民族": "汉族" if rng.random() < 0.9 else rng.choice(["回族", "满族", "蒙古族", "壮族"]),
        "证件类型": "居民身份证",
        "公民身份号码": resident_id(rng, birth, male, firm.area),
        "出生日期": birth.isoformat(),
        "学历": rng.choice(["大学本科毕业", "硕士研究生毕业", "博士研究生毕业", "大学本科毕业"]),
        "学位": rng.choice(["法学学士学位", "法学硕士学位", "法律硕士专业学位"]),
        "手机号码": f"{rng.choice(MOBILE_SEGMENTS)}{rng.randrange(0, 10**8):08d}",
        "固定电话": f"{firm.phone_code}-{rng.randrange(2, 9)}"
                    f"{rng.randrange(0, 10**6):06d}{'' if firm.phone_code in SHORT_LOCAL else rng.randrange(10)}",
        "家庭住址": f"{rng.choice(['长安区', '海淀区', '天河区', '武侯区'])}{rng.choice(['建设', '和平', '中山', '人民'])}路"
                    f"{rng.randrange(1, 300)}号{rng.randrange(1, 30)}栋{rng.randrange(101, 2999)}室",
        "律师执业证号": licence,
        "执业类别": "专职",
        "执业机构": firm.name,
        "执业机构统一社会信用代码": firm.uscc,
        "所内职务": rng.choice(["主任", "合伙人", "专职律师", "专职律师", "专职律师"]),
        "人员类别": "预备党员" if probationary else "正式党员",
        "入党日期": joined.isoformat(),
        "转正日期": "" if probationary else _plus_year(joined).isoformat(),
        "党籍状态": "正常",
        "组织关系所在党组织": f"中共{firm.name}支部委员会",
        "组织关系是否已转入本所党组织": "是",
        "是否参加组织生活": "是",
        "是否按时交纳党费": "是",
        "党内职务": "无",
        "是否失联党员": "否",
        "是否流动党员": "否",
    }


def _plus_year(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return d.replace(year=d.year + 1, day=28)


def party_org(firm: Firm, members: list[dict]) -> dict:
    """A 附件3 record consistent with the given member records of one firm."""
    full = sum(m["人员类别"] == "正式党员" for m in members)
    return {
        "党组织名称（全称）": f"中共{firm.name}支部委员会",
        "组织类别": "党支部",
        "上级党组织": "中共某市律师行业委员会",
        "成立日期": "2018-07-01",
        "党组织所在单位情况": "法人单位",
        "律师事务所": [{"名称": firm.name, "统一社会信用代码": firm.uscc, "组织形式": "普通合伙"}],
        "联系人": "王敏",
        "联系电话": f"{firm.phone_code}-85551234",
        "执业律师总数": len(members) * 3,
        "工作人员总数": 10,
        "正式党员数": full,
        "预备党员数": len(members) - full,
        "律师党员数": len(members),
        "工作人员党员数": 0,
        "是否设支部委员会": "是" if full >= 7 else "否",
        **({"委员人数": 3} if full >= 7 else {}),
        "本届任期开始": "2024-07-01",
        "届满日期": "2027-07-01",
    }
