"""The customers' text: names, phones, e-mails, addresses and time zones for CN and US customers,
with the awkward cases a real lender's file has (rare characters, middle dots, apostrophes,
accents, commas and quotes in addresses, missing phones and e-mails), and the customers table in
the feed's column order.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib.ingest.contracts import load_contract
from tooling.simulator.strings import _digits, _join, _pick

CUSTOMER_COLUMNS: tuple[str, ...] = tuple(load_contract("customers").column_names)
TIMEZONES: tuple[str, ...] = (
    "Asia/Shanghai", "Asia/Urumqi", "America/New_York", "America/Chicago", "America/Denver",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
)

_CN_SURNAMES = (  # (surname, pinyin, weight): common surnames by rough frequency
    ("王", "wang", 72), ("李", "li", 71), ("张", "zhang", 68), ("刘", "liu", 52), ("陈", "chen", 45),
    ("杨", "yang", 33), ("黄", "huang", 24), ("赵", "zhao", 20), ("吴", "wu", 19), ("周", "zhou", 19),
    ("徐", "xu", 14), ("孙", "sun", 13), ("马", "ma", 12), ("朱", "zhu", 12), ("胡", "hu", 11),
    ("郭", "guo", 11), ("何", "he", 10), ("高", "gao", 10), ("林", "lin", 10), ("罗", "luo", 9),
    ("郑", "zheng", 9), ("梁", "liang", 9), ("谢", "xie", 7), ("宋", "song", 7), ("唐", "tang", 7),
    ("许", "xu", 6), ("韩", "han", 6), ("冯", "feng", 6), ("邓", "deng", 6), ("曹", "cao", 6),
    ("彭", "peng", 5), ("曾", "zeng", 5), ("肖", "xiao", 5), ("田", "tian", 5), ("董", "dong", 5),
    ("袁", "yuan", 5), ("潘", "pan", 4), ("于", "yu", 4), ("蒋", "jiang", 4), ("蔡", "cai", 4),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 4), ("苏", "su", 4),
    ("魏", "wei", 4), ("吕", "lv", 4), ("丁", "ding", 4), ("任", "ren", 4), ("沈", "shen", 3),
    ("姚", "yao", 3), ("卢", "lu", 3), ("姜", "jiang", 3), ("崔", "cui", 3), ("钟", "zhong", 3),
    ("谭", "tan", 3), ("陆", "lu", 3), ("汪", "wang", 3), ("范", "fan", 3), ("金", "jin", 3),
    ("石", "shi", 3), ("廖", "liao", 3), ("贾", "jia", 3), ("夏", "xia", 3), ("韦", "wei", 3),
    ("付", "fu", 2), ("方", "fang", 2), ("白", "bai", 2), ("邹", "zou", 2), ("孟", "meng", 2),
    ("熊", "xiong", 2), ("秦", "qin", 2), ("邱", "qiu", 2), ("江", "jiang", 2), ("尹", "yin", 2),
    ("薛", "xue", 2), ("闫", "yan", 2), ("段", "duan", 2), ("雷", "lei", 2), ("侯", "hou", 2),
    ("龙", "long", 2), ("史", "shi", 2), ("陶", "tao", 2), ("黎", "li", 2), ("贺", "he", 2),
    ("顾", "gu", 2), ("毛", "mao", 2), ("郝", "hao", 2), ("龚", "gong", 2), ("邵", "shao", 2),
    ("万", "wan", 2), ("钱", "qian", 2), ("覃", "qin", 2), ("武", "wu", 2), ("戴", "dai", 2),
    ("莫", "mo", 1), ("孔", "kong", 1), ("向", "xiang", 1), ("汤", "tang", 1),
    # compound surnames
    ("欧阳", "ouyang", 1.2), ("司马", "sima", 0.6), ("诸葛", "zhuge", 0.4), ("上官", "shangguan", 0.4),
    ("东方", "dongfang", 0.3), ("皇甫", "huangfu", 0.3), ("令狐", "linghu", 0.2),
    ("慕容", "murong", 0.2), ("尉迟", "yuchi", 0.2), ("长孙", "zhangsun", 0.2),
    ("公孙", "gongsun", 0.2), ("司徒", "situ", 0.3), ("夏侯", "xiahou", 0.2),
    # rare single surnames
    ("亓", "qi", 0.2), ("禤", "xuan", 0.1), ("厍", "she", 0.1), ("蒯", "kuai", 0.1), ("仝", "tong", 0.2),
)
_CN_GIVEN = tuple(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉玲丹萍鹏宇浩凯婷雪琳晨欣怡佳俊博"
    "子轩梓涵一诺依宸睿泽思雨嘉瑞悦天佑安然晓东志红波飞斌海鑫云莉颖倩璐慧春梅峰亮成永健宁欢"
)
_CN_GIVEN_RARE = ("喆", "堃", "燚", "犇", "淼", "赟", "珺", "昳", "曌", "龑", "䶮", "玥", "彧", "翀",
                  "骉", "垚", "焱", "懿", "瑄", "祎", "𠮷", "昇", "旻", "玙")
_MINORITY_NAMES = (  # Uyghur / Kazakh names with the middle dot, and Tibetan / Mongolian names
    "阿卜杜·热合曼", "买买提·艾力", "艾合买提·吐尔逊", "努尔·穆罕默德", "阿依古丽·阿不都",
    "古丽米拉·买买提", "迪丽热巴·迪力木拉提", "热依拉·肉孜", "吐尔逊·卡德尔", "艾尼瓦尔·伊明",
    "阿力木·克里木", "帕提古丽·司马义", "叶尔兰·努尔兰", "阿依达娜·叶尔肯", "扎西次仁",
    "央金卓玛", "巴特尔", "其其格", "格桑梅朵", "阿卜杜外力·吐尔洪",
)
_CN_PLACES = (  # (region, city, ((district, postal code), ...), weight, share on Asia/Urumqi)
    ("北京市", "北京市", (("朝阳区", "100020"), ("海淀区", "100080"), ("东城区", "100010"),
                       ("丰台区", "100071")), 6, 0),
    ("上海市", "上海市", (("浦东新区", "200120"), ("徐汇区", "200030"), ("静安区", "200040"),
                       ("闵行区", "201100")), 6, 0),
    ("天津市", "天津市", (("和平区", "300041"), ("南开区", "300100")), 2.5, 0),
    ("重庆市", "重庆市", (("渝中区", "400010"), ("江北区", "400020")), 3, 0),
    ("广东省", "广州市", (("天河区", "510630"), ("越秀区", "510030"), ("海珠区", "510220")), 6, 0),
    ("广东省", "深圳市", (("南山区", "518052"), ("福田区", "518048"), ("宝安区", "518101")), 6, 0),
    ("广东省", "东莞市", (("南城街道", "523070"), ("东城街道", "523125")), 2, 0),
    ("浙江省", "杭州市", (("西湖区", "310012"), ("上城区", "310002"), ("余杭区", "311100")), 4, 0),
    ("浙江省", "宁波市", (("鄞州区", "315100"),), 2, 0),
    ("江苏省", "南京市", (("鼓楼区", "210008"), ("玄武区", "210018")), 3, 0),
    ("江苏省", "苏州市", (("姑苏区", "215000"), ("吴中区", "215100")), 3, 0),
    ("山东省", "济南市", (("历下区", "250011"),), 2, 0),
    ("山东省", "青岛市", (("市南区", "266001"), ("黄岛区", "266400")), 2, 0),
    ("四川省", "成都市", (("武侯区", "610041"), ("锦江区", "610021"), ("成华区", "610051")), 4, 0),
    ("湖北省", "武汉市", (("洪山区", "430070"), ("江汉区", "430015")), 3, 0),
    ("湖南省", "长沙市", (("岳麓区", "410006"), ("芙蓉区", "410011")), 2.5, 0),
    ("河南省", "郑州市", (("金水区", "450003"), ("二七区", "450052")), 3, 0),
    ("河北省", "石家庄市", (("长安区", "050011"),), 2, 0),
    ("陕西省", "西安市", (("雁塔区", "710061"), ("碑林区", "710001")), 2.5, 0),
    ("福建省", "厦门市", (("思明区", "361001"),), 1.5, 0),
    ("福建省", "福州市", (("鼓楼区", "350001"),), 1.5, 0),
    ("安徽省", "合肥市", (("蜀山区", "230031"),), 2, 0),
    ("辽宁省", "沈阳市", (("和平区", "110001"),), 2, 0),
    ("辽宁省", "大连市", (("中山区", "116001"),), 1.5, 0),
    ("黑龙江省", "哈尔滨市", (("南岗区", "150001"),), 1.5, 0),
    ("吉林省", "长春市", (("朝阳区", "130012"),), 1, 0),
    ("云南省", "昆明市", (("五华区", "650032"),), 1.5, 0),
    ("贵州省", "贵阳市", (("云岩区", "550001"),), 1, 0),
    ("广西壮族自治区", "南宁市", (("青秀区", "530022"),), 1.5, 0),
    ("江西省", "南昌市", (("东湖区", "330006"),), 1.5, 0),
    ("山西省", "太原市", (("小店区", "030032"),), 1, 0),
    ("内蒙古自治区", "呼和浩特市", (("新城区", "010050"),), 0.8, 0),
    ("新疆维吾尔自治区", "乌鲁木齐市", (("天山区", "830002"), ("沙依巴克区", "830000")), 1.2, 0.5),
    ("新疆维吾尔自治区", "喀什地区", (("喀什市", "844000"),), 0.4, 0.7),
    ("西藏自治区", "拉萨市", (("城关区", "850000"),), 0.3, 0),
    ("海南省", "海口市", (("美兰区", "570203"),), 0.8, 0),
    ("甘肃省", "兰州市", (("城关区", "730030"),), 0.8, 0),
    ("宁夏回族自治区", "银川市", (("兴庆区", "750001"),), 0.5, 0),
    ("青海省", "西宁市", (("城中区", "810000"),), 0.4, 0),
)
_CN_STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "长江路", "黄河路",
               "文化路", "学府路", "科技路", "光明街", "幸福街", "朝阳路", "青年路", "育才路", "东风路",
               "滨江大道", "世纪大道", "建国路", "友谊路", "花园街", "工农路")
_CN_ESTATES = ("阳光花园", "碧桂园", "万科城", "绿地中心", "金色家园", "锦绣华庭", "翠苑", "紫金苑",
               "和谐家园", "书香门第", "湖畔名邸", "世纪新城")
_US_PLACES = (  # (state, city, zip prefix, area codes, time zone, weight)
    ("NY", "New York", "100", ("212", "646", "917"), "America/New_York", 5),
    ("NY", "Brooklyn", "112", ("718", "347"), "America/New_York", 3),
    ("NY", "Flushing", "113", ("718", "929"), "America/New_York", 2),
    ("CA", "Los Angeles", "900", ("213", "310", "323"), "America/Los_Angeles", 5),
    ("CA", "San Francisco", "941", ("415", "628"), "America/Los_Angeles", 3),
    ("CA", "San Jose", "951", ("408", "669"), "America/Los_Angeles", 2),
    ("TX", "Houston", "770", ("713", "832"), "America/Chicago", 3),
    ("TX", "Dallas", "752", ("214", "469"), "America/Chicago", 3),
    ("IL", "Chicago", "606", ("312", "773"), "America/Chicago", 3),
    ("FL", "Miami", "331", ("305", "786"), "America/New_York", 3),
    ("MA", "Boston", "021", ("617", "857"), "America/New_York", 2),
    ("GA", "Atlanta", "303", ("404", "470"), "America/New_York", 2),
    ("WA", "Seattle", "981", ("206",), "America/Los_Angeles", 2),
    ("CO", "Denver", "802", ("303", "720"), "America/Denver", 2),
    ("UT", "Salt Lake City", "841", ("801", "385"), "America/Denver", 1),
    ("NM", "Albuquerque", "871", ("505",), "America/Denver", 0.7),
    ("MN", "Minneapolis", "554", ("612",), "America/Chicago", 1),
    ("NV", "Las Vegas", "891", ("702",), "America/Los_Angeles", 1),
    ("NJ", "Jersey City", "073", ("201", "551"), "America/New_York", 1),
    ("AK", "Anchorage", "995", ("907",), "America/Anchorage", 0.5),
    ("HI", "Honolulu", "968", ("808",), "Pacific/Honolulu", 0.6),
)
_US_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
             "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
             "Sarah", "Christopher", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony",
             "Ashley", "José", "María", "Zoë", "Chloé", "Renée", "André", "Seán", "Björn", "Aaliyah",
             "DeShawn", "Priya", "Mohammed", "Thảo", "Luis", "Sofía", "Jamal", "Emily", "Noah")
_US_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
            "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas",
            "Moore", "Jackson", "Martin", "Lee", "O'Brien", "O'Connor", "Smith-Jones", "Núñez",
            "García-López", "McDonald", "D'Angelo", "Nguyen", "Kim", "Patel", "Van der Berg",
            "St. John", "Müller", "Peña", "Washington", "Okafor", "Cohen", "Rossi")
_US_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Park Ave", "Washington Blvd",
               "Lake Shore Dr", "Sunset Blvd", "Pine St", "2nd Ave", "Broadway",
               "Martin Luther King Jr Blvd", "O'Farrell St", "Peachtree Rd", "Ocean Dr", "Mission St",
               "Colfax Ave", "Kalakaua Ave", "Northern Lights Blvd")
_US_BUILDINGS = ("Pines", "Sunrise", "Harbor View", "Old Mill", "Parkside", "Lofts")
_CN_MAIL = ("163.com", "126.com", "sina.com", "foxmail.com", "outlook.com")
_US_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com")
_US_ZH_GIVEN = (("Wei", "伟"), ("Mei", "梅"), ("Jun", "军"), ("Lei", "磊"), ("Xin", "欣"),
                ("Hao", "浩"), ("Ying", "英"), ("Jie", "杰"))


def _ascii(text: str) -> str:
    """E-mail-safe lower-case ASCII of a name (José Núñez -> josenunez)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


_SURNAME_TEXT = tuple(s[0] for s in _CN_SURNAMES)
_SURNAME_PINYIN = tuple(s[1] for s in _CN_SURNAMES)
_SURNAME_WEIGHT = np.array([s[2] for s in _CN_SURNAMES], float) / sum(s[2] for s in _CN_SURNAMES)
_CN_DISTRICTS = tuple(d for p in _CN_PLACES for d in p[2])
_CN_DISTRICT_START = np.cumsum([0] + [len(p[2]) for p in _CN_PLACES])[:-1]
_CN_DISTRICT_COUNT = np.array([len(p[2]) for p in _CN_PLACES])
_CN_PLACE_WEIGHT = np.array([p[3] for p in _CN_PLACES], float) / sum(p[3] for p in _CN_PLACES)
_CN_URUMQI = np.array([p[4] for p in _CN_PLACES])
_US_WEIGHT = np.array([p[5] for p in _US_PLACES], float) / sum(p[5] for p in _US_PLACES)
_US_AREA = tuple(a for p in _US_PLACES for a in p[3])
_US_AREA_START = np.cumsum([0] + [len(p[3]) for p in _US_PLACES])[:-1]
_US_AREA_COUNT = np.array([len(p[3]) for p in _US_PLACES])
_US_ZONE = np.array([TIMEZONES.index(p[4]) for p in _US_PLACES], np.int64)


class _Parts:
    """A pool of text pieces built from named segments, so each row is a few integer indices.

    Every customer column is one join of a few ``take`` s from such pools, in final row order:
    building text row by row (or variant by variant) is what made large books slow.
    """

    def __init__(self, **segments: tuple[str, ...]):
        self.start: dict[str, int] = {}
        values: list[str] = []
        for name, texts in segments.items():
            self.start[name] = len(values)
            values.extend(texts)
        self.array = pa.array(values, pa.string())

    def take(self, index: np.ndarray) -> pa.Array:
        return self.array.take(pa.array(index, pa.int64()))


_HAN_NAMES = _Parts(surname=_SURNAME_TEXT, minority=_MINORITY_NAMES,
                    us_first=tuple(f"{f} " for f in _US_FIRST),
                    zh_romanised=tuple(f"{g[0]} " for g in _US_ZH_GIVEN))
_NAME_MIDDLE = _Parts(empty=("",), common=_CN_GIVEN, rare=_CN_GIVEN_RARE,
                      initial=tuple(f"{c}. " for c in "ABCDEFGHJKLMNPRSTW"),
                      zh_hanzi=tuple(g[1] for g in _US_ZH_GIVEN))
_NAME_LAST = _Parts(empty=("",), common=_CN_GIVEN, us_last=_US_LAST,
                    pinyin=tuple(p.capitalize() for p in _SURNAME_PINYIN))
_MAIL_LOCAL = _Parts(empty=("",), pinyin=_SURNAME_PINYIN,
                     us=tuple(f"{_ascii(f)}.{_ascii(s)}" for f in _US_FIRST for s in _US_LAST),
                     zh=tuple(f"{g[0].lower()}.{p}" for g in _US_ZH_GIVEN for p in _SURNAME_PINYIN))
_MAIL_DOMAIN = _Parts(qq=("@qq.com",), cn=tuple(f"@{d}" for d in _CN_MAIL),
                      us=tuple(f"@{d}" for d in _US_MAIL))
_ADDRESS_1 = _Parts(district=tuple(d[0] for d in _CN_DISTRICTS), empty=("",),
                    unit=tuple(f'Unit {n}{c}, "The {b}", ' for n in range(1, 40) for c in "ABCD"
                               for b in _US_BUILDINGS))
_ADDRESS_2 = _Parts(street=_CN_STREETS, house=tuple(f"{n} " for n in range(1, 9_900)))
_ADDRESS_3 = _Parts(house=tuple(f"{n}号" for n in range(1, 400)), street=_US_STREETS)
_ADDRESS_4 = _Parts(empty=("",), estate=_CN_ESTATES, yard=("院",),
                    comma_estate=tuple(f", {e}" for e in _CN_ESTATES),
                    apt=tuple(f", Apt {n}{c}" for n in range(1, 40) for c in "ABCD"),
                    hash=tuple(f" #{n}{c}" for n in range(1, 40) for c in "ABCD"))
_ADDRESS_5 = _Parts(empty=("",), dong_unit=tuple(f"{d}栋{u}单元" for d in range(1, 30)
                                                 for u in range(1, 6)),
                    lou=tuple(f"{d}号楼" for d in range(1, 30)),
                    dong=tuple(f"{d}栋" for d in range(1, 30)))
_ADDRESS_6 = _Parts(empty=("",), room=tuple(f"{f}{d:02d}" for f in range(1, 33) for d in range(1, 5)),
                    room_shi=tuple(f"{f}{d:02d}室" for f in range(1, 33) for d in range(1, 5)))
_PLACE = _Parts(cn_city=tuple(p[1] for p in _CN_PLACES), us_city=tuple(p[1] for p in _US_PLACES))
_REGION = _Parts(cn=tuple(p[0] for p in _CN_PLACES), us=tuple(p[0] for p in _US_PLACES))
_POSTAL = _Parts(cn=tuple(d[1] for d in _CN_DISTRICTS),
                 us=tuple(f"{p[2]}{n:02d}" for p in _US_PLACES for n in range(100)))


def _plus_digits(numbers: np.ndarray, widths: np.ndarray, missing: np.ndarray) -> pa.Array:
    """'+' and the number's digits as an Arrow string array, built byte-wise in numpy (fast)."""
    longest = int(widths.max()) if len(widths) else 0
    text = np.zeros((len(numbers), longest + 1), np.uint8)
    text[:, 0] = ord("+")
    rest = numbers.copy()
    for position in range(longest, 0, -1):  # right-aligned, trimmed below
        text[:, position] = ord("0") + rest % 10
        rest //= 10
    shift = longest - widths  # narrower numbers: move digits left over the leading zeros
    columns = np.arange(1, longest + 1)[None, :] + shift[:, None]
    text[:, 1:] = np.take_along_axis(text, np.minimum(columns, longest), axis=1)
    lengths = np.where(missing, 0, widths + 1)
    keep = np.arange(longest + 1)[None, :] < lengths[:, None]
    data = text[keep]
    offsets = np.zeros(len(numbers) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity = pa.array(~missing).buffers()[1] if missing.any() else None
    return pa.Array.from_buffers(pa.string(), len(numbers),
                                 [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                 null_count=int(missing.sum()))


@dataclass
class _People:
    """Generated customer text columns (pyarrow) and each customer's time zone (index)."""

    columns: dict[str, pa.Array]
    timezone: np.ndarray


def _generate_people(rng: np.random.Generator, is_us: np.ndarray) -> _People:
    """Names, phones, e-mails and addresses for customers of the given countries (CN or US).

    CN: Han names (compound surnames, rare characters), Uyghur/Kazakh names with the middle dot,
    +86 1[3-9] mobiles, province/city/district addresses (some with commas). US: apostrophes,
    hyphens and accents in names, a few zh-CN speakers, +1 NANP numbers, addresses with commas and
    quotes. Some e-mails and phones are missing.
    """
    n = len(is_us)
    us = is_us
    integers = lambda high: rng.integers(0, high, n)
    place = rng.choice(len(_CN_PLACES), n, p=_CN_PLACE_WEIGHT)
    district = _CN_DISTRICT_START[place] + integers(1 << 30) % _CN_DISTRICT_COUNT[place]
    us_place = rng.choice(len(_US_PLACES), n, p=_US_WEIGHT)
    xinjiang = (_CN_URUMQI[place] > 0) & ~us
    on_urumqi = rng.random(n) < _CN_URUMQI[place]
    surname = rng.choice(len(_CN_SURNAMES), n, p=_SURNAME_WEIGHT)
    first, last = integers(len(_US_FIRST)), integers(len(_US_LAST))
    zh_given = integers(len(_US_ZH_GIVEN))
    chinese_american = us & (rng.random(n) < 0.08)

    # names: three pieces per row
    minority = ~us & (rng.random(n) < np.where(xinjiang, 0.6, 0.01))
    hanzi = rng.random(n) < 0.5
    rare = rng.random(n) < 0.03
    middle_initial = rng.random(n) < 0.15
    two_characters = rng.random(n) < 0.7
    h, m, l3 = _HAN_NAMES.start, _NAME_MIDDLE.start, _NAME_LAST.start
    piece1 = np.select(
        [minority, chinese_american & ~hanzi, us & ~chinese_american],
        [h["minority"] + integers(len(_MINORITY_NAMES)), h["zh_romanised"] + zh_given,
         h["us_first"] + first], h["surname"] + surname)
    piece2 = np.select(
        [minority, chinese_american & hanzi, chinese_american, us],
        [m["empty"], m["zh_hanzi"] + zh_given, m["empty"],
         np.where(middle_initial, m["initial"] + integers(18), m["empty"])],
        np.where(rare, m["rare"] + integers(len(_CN_GIVEN_RARE)), m["common"] + integers(len(_CN_GIVEN))))
    piece3 = np.select(
        [minority, chinese_american & hanzi, chinese_american, us],
        [l3["empty"], l3["empty"], l3["pinyin"] + surname, l3["us_last"] + last],
        np.where(two_characters, l3["common"] + integers(len(_CN_GIVEN)), l3["empty"]))
    full_name = _join(_HAN_NAMES.take(piece1), _NAME_MIDDLE.take(piece2), _NAME_LAST.take(piece3))

    # phones: the whole E.164 number as one integer
    area = _US_AREA_START[us_place] + integers(1 << 30) % _US_AREA_COUNT[us_place]
    area_code = np.array(_US_AREA, np.int64)[area]
    exchange = rng.integers(200, 1000, n)
    exchange = np.where(exchange % 100 == 11, exchange + 1, exchange)  # no N11 exchanges
    us_number = 10**10 + area_code * 10**7 + exchange * 10**4 + integers(10_000)
    cn_number = 86 * 10**11 + rng.integers(13_000_000_000, 20_000_000_000, n)
    no_phone = rng.random(n) < np.where(us, 0.03, 0.02)
    phone = _plus_digits(np.where(us, us_number, cn_number), np.where(us, 11, 13), no_phone)

    # e-mail: local part, optional number, domain
    style = rng.random(n)
    qq = ~us & (style < 0.5)
    local = np.select(
        [qq, ~us, chinese_american],
        [_MAIL_LOCAL.start["empty"], _MAIL_LOCAL.start["pinyin"] + surname,
         _MAIL_LOCAL.start["zh"] + zh_given * len(_SURNAME_PINYIN) + surname],
        _MAIL_LOCAL.start["us"] + first * len(_US_LAST) + last)
    number = np.select([qq, ~us], [rng.integers(10_000, 3_000_000_000, n), integers(100_000) + 1],
                       integers(99) + 1)
    no_number = us & (chinese_american | (rng.random(n) < 0.6))
    domain = np.select(
        [qq, ~us, chinese_american],
        [_MAIL_DOMAIN.start["qq"], _MAIL_DOMAIN.start["cn"] + integers(len(_CN_MAIL)),
         _MAIL_DOMAIN.start["us"]], _MAIL_DOMAIN.start["us"] + integers(len(_US_MAIL)))
    no_email = rng.random(n) < np.where(us, 0.05, 0.12)
    email = pc.binary_join_element_wise(
        _MAIL_LOCAL.take(local), pc.cast(pa.array(number, mask=no_number), pa.string()),
        _MAIL_DOMAIN.take(domain), "", null_handling="replace", null_replacement="")
    email = pc.if_else(pa.array(no_email), pa.scalar(None, pa.string()), email)

    # addresses: six pieces per row
    cn_style = rng.choice(4, n, p=[0.55, 0.2, 0.12, 0.13])
    us_style = rng.choice(4, n, p=[0.5, 0.25, 0.15, 0.1])
    apartment = integers(39 * 4)
    room, dong, unit = integers(128), integers(29), integers(5)
    a1, a2, a3 = _ADDRESS_1.start, _ADDRESS_2.start, _ADDRESS_3.start
    a4, a5, a6 = _ADDRESS_4.start, _ADDRESS_5.start, _ADDRESS_6.start
    part1 = np.where(us, np.where(us_style == 3, a1["unit"] + apartment * len(_US_BUILDINGS)
                                  + integers(len(_US_BUILDINGS)), a1["empty"]),
                     a1["district"] + district)
    part2 = np.where(us, a2["house"] + integers(9_899), a2["street"] + integers(len(_CN_STREETS)))
    part3 = np.where(us, a3["street"] + integers(len(_US_STREETS)), a3["house"] + integers(399))
    estate = integers(len(_CN_ESTATES))
    part4 = np.where(us, np.select([us_style == 1, us_style == 2], [a4["apt"] + apartment,
                                                                    a4["hash"] + apartment],
                                   a4["empty"]),
                     np.select([cn_style == 0, cn_style == 1, cn_style == 2],
                               [a4["estate"] + estate, a4["yard"], a4["comma_estate"] + estate],
                               a4["empty"]))
    part5 = np.where(us, a5["empty"],
                     np.select([cn_style == 0, cn_style == 1, cn_style == 2],
                               [a5["dong_unit"] + dong * 5 + unit, a5["lou"] + dong,
                                a5["dong"] + dong], a5["empty"]))
    part6 = np.where(us, a6["empty"],
                     np.select([cn_style == 0, cn_style == 1, cn_style == 2],
                               [a6["room_shi"] + room, a6["room"] + room, a6["room_shi"] + room],
                               a6["empty"]))
    postal_address = _join(_ADDRESS_1.take(part1), _ADDRESS_2.take(part2),
                           _ADDRESS_3.take(part3), _ADDRESS_4.take(part4),
                           _ADDRESS_5.take(part5), _ADDRESS_6.take(part6))
    timezone = np.where(us, _US_ZONE[us_place], np.where(on_urumqi, 1, 0)).astype(np.int8)
    us_index = us.astype(np.int64)
    columns = {
        "full_name": full_name, "mobile_phone": phone, "email": email,
        "postal_address": postal_address,
        "city": _PLACE.take(np.where(us, _PLACE.start["us_city"] + us_place, place)),
        "region": _REGION.take(np.where(us, _REGION.start["us"] + us_place, place)),
        "postal_code": _POSTAL.take(np.where(us, _POSTAL.start["us"] + us_place * 100
                                             + integers(100), district)),
        "country": _pick(("CN", "US"), us_index),
        "preferred_language": _pick(("zh-CN", "en-US"), (us & ~chinese_american).astype(np.int64)),
        "timezone": _pick(TIMEZONES, timezone.astype(np.int64)),
    }
    return _People(columns, timezone)


def _build_customers(rng: np.random.Generator, is_us: np.ndarray) -> tuple[_People, pa.Table]:
    """Runs on a worker thread, and alone uses ``rng`` until the main thread waits for it."""
    people = _generate_people(rng, is_us)
    ids = _join("CU", _digits(np.arange(1, len(is_us) + 1), 7))
    table = pa.table({"customer_id": ids} | people.columns).select(list(CUSTOMER_COLUMNS))
    return people, table
