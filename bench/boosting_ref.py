#!/usr/bin/env python3
"""Data and reference fits for bench/boosting.mjs (one thread each; /usr/bin/python3 with
python3-sklearn and python3-xgboost from apt).

  prepare --dir D   writes every dataset of the benchmark to D as little-endian float64 files
                    (<name>.xtrain, .ytrain, .xtest, .ytest) plus D/datasets.json describing them:
                    Friedman #1 (make_friedman1, 100,000 rows, noise 1: 75,000 train), a 3-class
                    make_classification (62,500 x 20: 50,000 train), and the four shared datasets
                    (/work/shared/datasets, 25% stratified test split), all with fixed seeds.
  fit --dir D --name N --model xgboost|xgbrf|hgb [params as JSON]
                    fits one model on N and prints one JSON line: fit wall and CPU seconds, held-out
                    r2 or accuracy.
"""
import argparse
import csv
import json
import time

import numpy as np

SHARED = "/work/shared/datasets"


def write(d, name, xtr, ytr, xte, yte, task, n_classes):
    for suffix, a in (("xtrain", xtr), ("ytrain", ytr), ("xtest", xte), ("ytest", yte)):
        np.ascontiguousarray(a, dtype="<f8").tofile(f"{d}/{name}.{suffix}")
    return {
        "name": name,
        "task": task,
        "nClasses": n_classes,
        "nTrain": int(xtr.shape[0]),
        "nTest": int(xte.shape[0]),
        "nFeatures": int(xtr.shape[1]),
    }


def prepare(d):
    from sklearn.datasets import make_classification, make_friedman1
    from sklearn.model_selection import train_test_split

    out = []
    x, y = make_friedman1(n_samples=100_000, n_features=10, noise=1.0, random_state=0)
    out.append(write(d, "friedman1", x[:75_000], y[:75_000], x[75_000:], y[75_000:], "regression", None))
    x, y = make_classification(
        n_samples=62_500, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    out.append(write(d, "classes3", x[:50_000], y[:50_000], x[50_000:], y[50_000:], "classification", 3))
    for name, task in (
        ("iris", "classification"),
        ("wine", "classification"),
        ("breast_cancer", "classification"),
        ("diabetes", "regression"),
    ):
        with open(f"{SHARED}/{name}.csv") as f:
            rows = list(csv.reader(f))[1:]
        x = np.array([[float(v) for v in r[:-1]] for r in rows])
        labels = [r[-1] for r in rows]
        if task == "classification":
            classes = sorted(set(labels))
            y = np.array([classes.index(v) for v in labels], dtype=float)
            n_classes = len(classes)
        else:
            y = np.array([float(v) for v in labels])
            n_classes = None
        xtr, xte, ytr, yte = train_test_split(
            x, y, test_size=0.25, random_state=0, stratify=y if task == "classification" else None
        )
        out.append(write(d, name, xtr, ytr, xte, yte, task, n_classes))
    with open(f"{d}/datasets.json", "w") as f:
        json.dump(out, f)


def fit(d, name, model_name, params):
    from sklearn.metrics import accuracy_score, r2_score

    meta = {m["name"]: m for m in json.load(open(f"{d}/datasets.json"))}[name]
    nf = meta["nFeatures"]
    xtr = np.fromfile(f"{d}/{name}.xtrain", dtype="<f8").reshape(-1, nf)
    ytr = np.fromfile(f"{d}/{name}.ytrain", dtype="<f8")
    xte = np.fromfile(f"{d}/{name}.xtest", dtype="<f8").reshape(-1, nf)
    yte = np.fromfile(f"{d}/{name}.ytest", dtype="<f8")
    reg = meta["task"] == "regression"
    if not reg:
        ytr = ytr.astype(np.int64)
        yte = yte.astype(np.int64)
    if model_name == "xgboost":
        import xgboost as xgb

        cls = xgb.XGBRegressor if reg else xgb.XGBClassifier
        model = cls(tree_method="hist", n_jobs=1, random_state=0, **params)
    elif model_name == "xgbrf":
        import xgboost as xgb

        model = xgb.XGBRFRegressor(tree_method="hist", n_jobs=1, random_state=0, **params)
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = HistGradientBoostingRegressor if reg else HistGradientBoostingClassifier
        model = cls(random_state=0, **params)
    c0 = time.process_time()
    t0 = time.perf_counter()
    model.fit(xtr, ytr)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    pred = model.predict(xte)
    quality = r2_score(yte, pred) if reg else accuracy_score(yte, pred)
    print(json.dumps({"fitSeconds": wall, "cpuSeconds": cpu, "quality": quality}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["prepare", "fit"])
    p.add_argument("--dir", required=True)
    p.add_argument("--name")
    p.add_argument("--model", choices=["xgboost", "xgbrf", "hgb"])
    p.add_argument("--params", default="{}")
    a = p.parse_args()
    if a.command == "prepare":
        prepare(a.dir)
    else:
        fit(a.dir, a.name, a.model, json.loads(a.params))


if __name__ == "__main__":
    main()
