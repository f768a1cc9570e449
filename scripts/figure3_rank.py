#!/usr/bin/env python3
"""Ranks the candidate rules of experiments/figure3_search.toml by how far their final
points are from the paper's Figure 3: for each rule (noise entry, r, T), the largest
|ours - paper| over the three shares P(|x| <= 0.5, 1, 1.5), averaged over the panels, with
and without the noise-0.15 panel (which no rule reproduces). Reads
plots/figure3_comparison.csv, which `sgd-escape report` writes.

Usage: python3 scripts/figure3_rank.py results/figure3_search
"""
import csv
import re
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(f"{sys.argv[1]}/plots/figure3_comparison.csv")))
by_rule = defaultdict(dict)
for row in rows:
    rest = row["config"][len(row["panel"]):]
    m = re.match(r" (?:(step|point) r=(\S+)|eta=(\S+)) \[steps=(\d+)\]$", rest)
    if not m:
        continue
    rule = (m.group(1) or "GD", m.group(2) or m.group(3), int(m.group(4)))
    worst = max(abs(float(row[f"difference_le_{r}"])) for r in ("0.5", "1", "1.5"))
    by_rule[rule][row["panel"]] = (worst, row["verdict"])

print("entry  r/eta   T     mean max|diff|  without noise 0.15  panels that differ (Holm)")
ranked = []
for rule, panels in by_rule.items():
    all_ = [w for w, _ in panels.values()]
    rest = [w for p, (w, _) in panels.items() if p != "noise 0.15"]
    differ = sum(v == "differs" for _, v in panels.values())
    ranked.append((sum(rest) / len(rest), sum(all_) / len(all_), rule, differ, len(panels)))
# The noisy rules first, best first; then GD's step sizes.
for rest, all_, rule, differ, n in sorted(ranked, key=lambda r: (r[2][0] == "GD", r[0])):
    print(f"{rule[0]:6s} {rule[1]:7s} {rule[2]:5d} {all_:14.3f}  {rest:18.3f}  {differ} of {n}")
