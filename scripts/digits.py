"""Writes data/digits_train.csv and data/digits_validation.csv from the 8x8 handwritten
digits (UCI "Optical Recognition of Handwritten Digits", the 1,797-image copy bundled with
scikit-learn as sklearn/datasets/data/digits.csv.gz; CC BY 4.0).

Usage: python3 scripts/digits.py [PATH/TO/digits.csv.gz]
(without a path, the copy inside an installed scikit-learn is used).

Features: the 64 pixel counts (0..16) divided by 16, so every value is exact in binary
(k/16) and lies in [0, 1]; columns p1..p64 (row by row), then `digit` (0..9).
Split, stratified and fixed: within each digit, in the file's order, every fifth image
(the 5th, 10th, ...) goes to validation, the others to training.
"""

import csv
import gzip
import hashlib
import os
import sys


def source_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    import sklearn.datasets

    return os.path.join(os.path.dirname(sklearn.datasets.__file__), "data", "digits.csv.gz")


def main():
    path = source_path()
    raw = open(path, "rb").read()
    print(f"source {path} sha256 {hashlib.sha256(raw).hexdigest()}")
    rows = [line.split(",") for line in gzip.decompress(raw).decode().split("\n") if line]
    assert len(rows) == 1797 and all(len(r) == 65 for r in rows)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
    header = [f"p{j}" for j in range(1, 65)] + ["digit"]
    seen = [0] * 10
    files = {}
    for name in ("train", "validation"):
        f = open(os.path.join(out, f"digits_{name}.csv"), "w", newline="")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        files[name] = (f, w)
    for r in rows:
        digit = int(r[64])
        seen[digit] += 1
        split = "validation" if seen[digit] % 5 == 0 else "train"
        pixels = [repr(int(v) / 16) for v in r[:64]]
        files[split][1].writerow(pixels + [str(digit)])
    for f, _ in files.values():
        f.close()
    print("per digit:", seen)


if __name__ == "__main__":
    main()
