"""Storage benchmark: bulk-insert 100,000 realistic records into an encrypted register.

Run from the repository root:  python bench/bench_storage.py [--records N] [--keep DIR]

Prints the time to derive the key, to build the rows, to insert them (records and two keys each,
one transaction, Core executemany), to commit, to checkpoint, the file size per record, and the
time of a duplicate lookup over every person key.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from desktop.storage import (  # noqa: E402
    DEFAULT_KDF,
    UnitInfo,
    bulk_insert_records,
    create_register,
    find_keys,
    open_register,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文博思远晓东海燕"
EDUCATION = ["大学本科", "硕士研究生", "博士研究生", "大学专科"]
DEGREE = ["法学学士", "法学硕士", "法律硕士", "法学博士"]
POSITIONS = ["合伙人", "专职律师", "兼职律师", "公职律师", "公司律师"]
DISTRICTS = ["浦东新区", "黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区"]


def person_data(rng: random.Random, n: int) -> tuple[dict, str, str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    joined = born + timedelta(days=rng.randrange(365 * 18, 365 * 40))
    id_number = f"3101{rng.randrange(10, 99)}{born:%Y%m%d}{n % 1000:03d}{rng.choice('0123456789X')}"
    licence = f"1310{rng.randrange(2000, 2025)}{rng.randrange(10**7):07d}"
    data = {
        "姓名": name,
        "性别": rng.choice(["男", "女"]),
        "民族": "汉族",
        "公民身份号码": id_number,
        "出生日期": born.isoformat(),
        "学历": rng.choice(EDUCATION),
        "学位": rng.choice(DEGREE),
        "入党时间": joined.isoformat(),
        "转正时间": (joined + timedelta(days=365)).isoformat(),
        "执业证号": licence,
        "执业机构": f"上海市{rng.choice(DISTRICTS)}明德律师事务所",
        "执业类别": rng.choice(POSITIONS),
        "党组织关系所在单位": "上海市律师行业党委第三党总支明德律师事务所党支部",
        "是否在本所党组织": rng.choice(["是", "否"]),
        "联系电话": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
        "通讯地址": f"上海市{rng.choice(DISTRICTS)}世纪大道{rng.randrange(1, 2000)}号{rng.randrange(1, 40)}楼",
        "备注": "",
    }
    return data, name, id_number, licence


def build(register, count: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(20250301)
    records, keys = [], []
    for n in range(count):
        data, name, id_number, licence = person_data(rng, n)
        record_id = str(uuid.uuid4())
        person_key = register.person_hash(id_number)
        records.append({
            "id": record_id,
            "form_id": "lawyer_member",
            "form_version": "2025.1",
            "unit_id": register.own_unit_id,
            "data": json.dumps(data, ensure_ascii=False),
            "name": name,
            "person_key": person_key,
            "state": "已接收",
        })
        keys.append({"record_id": record_id, "form_id": "lawyer_member", "kind": "person",
                     "value": person_key})
        keys.append({"record_id": record_id, "form_id": "lawyer_member", "kind": "licence",
                     "value": register.key_hash("licence", licence)})
    return records, keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="folder to leave the register in")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="dengji-bench-"))
    path = folder / f"bench-{uuid.uuid4().hex[:6]}.dengji"
    unit = UnitInfo(code="31310000425000000X", name="上海市律师行业党委", level="city")
    passphrase = "bench 口令 123"

    t = time.perf_counter()
    register = create_register(path, passphrase, unit)
    print(f"create_register (scrypt n=2**15 + schema): {time.perf_counter() - t:6.2f} s")
    empty_size = path.stat().st_size

    t = time.perf_counter()
    records, keys = build(register, args.records)
    build_s = time.perf_counter() - t
    avg_json = sum(len(r["data"].encode("utf-8")) for r in records) / len(records)
    print(f"build {args.records:,} rows + {len(keys):,} keys in Python: {build_s:6.2f} s "
          f"(data JSON {avg_json:.0f} bytes/record in UTF-8)")

    with register.session() as session:
        t = time.perf_counter()
        bulk_insert_records(session, records, keys)
        insert_s = time.perf_counter() - t
        t = time.perf_counter()
        session.commit()
        commit_s = time.perf_counter() - t
    print(f"bulk_insert_records (one transaction):      {insert_s:6.2f} s")
    print(f"commit:                                     {commit_s:6.2f} s")
    print(f"  -> {args.records / (insert_s + commit_s):,.0f} records/s")

    t = time.perf_counter()
    wal = Path(f"{path}-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    with register.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        busy, frames, done = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    assert busy == 0 and frames == done, (busy, frames, done)
    print(f"checkpoint (TRUNCATE):                      {time.perf_counter() - t:6.2f} s "
          f"(WAL file was {wal_size / 2**20:.0f} MiB, already checkpointed at commit)")
    size = path.stat().st_size
    print(f"file size after checkpoint: {size / 2**20:.1f} MiB; "
          f"{(size - empty_size) / args.records:,.0f} bytes per record "
          f"(empty register {empty_size:,} bytes)")

    person_keys = [r["person_key"] for r in records]
    with register.session() as session:
        t = time.perf_counter()
        found = find_keys(session, "person", person_keys)
        lookup_s = time.perf_counter() - t
    dupes = sum(1 for hits in found.values() if len(hits) > 1)
    print(f"find_keys over all {len(person_keys):,} person keys:       {lookup_s:6.2f} s "
          f"({dupes} values held by more than one record)")
    register.close()

    t = time.perf_counter()
    with open_register(path, passphrase):
        pass
    print(f"open_register (scrypt n=2**15, r=8, p=1):   {time.perf_counter() - t:6.2f} s "
          f"(DEFAULT_KDF={DEFAULT_KDF})")
    if args.keep is None:
        path.unlink()
        folder.rmdir()
    else:
        print(f"register kept at {path} (passphrase {passphrase!r})")


if __name__ == "__main__":
    main()
