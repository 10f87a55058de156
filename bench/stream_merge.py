#!/usr/bin/env python3
"""Adds bench/stream.sh's results (its STREAM_OUT lines) to the CSV and
JSON that `warren-perf report` wrote for `make bench` (bench/run.sh):
one CSV row per broker and stream case, in the matrix's columns, and a
"streams" list in the JSON.

usage: stream_merge.py stream.jsonl results.csv results.json
"""
import csv
import json
import sys

NAMES = {
    "publish-16B": "stream protocol: publish 16 B, confirms, 1 producer",
    "publish-1KiB": "stream protocol: publish 1 KiB, confirms, 1 producer",
    "consume-1x-first": "stream protocol: 1 consumer from first",
    "consume-10x-first": "stream protocol: 10 consumers from first, aggregate",
}


def rows(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def main():
    src, csv_path, json_path = sys.argv[1:4]
    results = rows(src)
    with open(csv_path, newline="") as f:
        header = next(csv.reader(f))
    with open(csv_path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        for r in results:
            res = r["r"]
            rate = round(res["msg_per_s"])
            publish = res["mode"] == "publish"
            cpu = res.get("broker_cpu_s")
            w.writerow({
                "broker": r["target"],
                "case": "s:" + r["case"],
                "name": NAMES.get(r["case"], r["case"]),
                "client": "streamperf",
                "seconds": f'{res["seconds"]:.2f}',
                "publish_rate": rate if publish else 0,
                "confirm_rate": rate if publish else 0,
                "deliver_rate": 0 if publish else rate,
                "broker_cpu_us_per_msg": f'{cpu * 1e6 / res["messages"]:.4f}' if cpu and res["messages"] else "",
                "broker_rss_after_mb": f'{res["broker_rss_mib"] * 1.048576:.1f}' if res.get("broker_rss_mib") else "",
            })
    with open(json_path) as f:
        doc = json.load(f)
    doc["streams"] = [{"broker": r["target"], "case": r["case"], "name": NAMES.get(r["case"], r["case"]), "result": r["r"]} for r in results]
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
