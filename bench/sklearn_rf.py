#!/usr/bin/env python3
"""Fits scikit-learn's RandomForest (n_jobs=1) on data written by bench/native-trees.mjs.

The matrix and targets are raw little-endian float64 files; the first --n-train rows train, the rest
test. Prints one JSON object: fit and predict seconds, held-out r2 or accuracy, node count.
"""
import argparse
import json
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import accuracy_score, r2_score


def max_features(value):
    if value in ("sqrt", "log2"):
        return value
    if value == "all":
        return 1.0
    return float(value) if "." in value else int(value)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--x", required=True)
    p.add_argument("--y", required=True)
    p.add_argument("--n-train", type=int, required=True)
    p.add_argument("--n-features", type=int, required=True)
    p.add_argument("--task", choices=["regression", "classification"], required=True)
    p.add_argument("--n-estimators", type=int, default=100)
    p.add_argument("--max-depth", default="none")
    p.add_argument("--max-features", default="all")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    x = np.fromfile(a.x, dtype="<f8").reshape(-1, a.n_features)
    y = np.fromfile(a.y, dtype="<f8")
    if a.task == "classification":
        y = y.astype(np.int64)
    x_train, y_train = x[: a.n_train], y[: a.n_train]
    x_test, y_test = x[a.n_train :], y[a.n_train :]

    model_class = RandomForestRegressor if a.task == "regression" else RandomForestClassifier
    model = model_class(
        n_estimators=a.n_estimators,
        max_depth=None if a.max_depth == "none" else int(a.max_depth),
        max_features=max_features(a.max_features),
        bootstrap=True,
        n_jobs=1,
        random_state=a.seed,
    )
    t0 = time.perf_counter()
    model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = model.predict(x_test)
    predict_seconds = time.perf_counter() - t0
    quality = r2_score(y_test, pred) if a.task == "regression" else accuracy_score(y_test, pred)
    print(
        json.dumps(
            {
                "fitSeconds": fit_seconds,
                "predictSeconds": predict_seconds,
                "quality": float(quality),
                "nodes": int(sum(e.tree_.node_count for e in model.estimators_)),
            }
        )
    )


if __name__ == "__main__":
    main()
