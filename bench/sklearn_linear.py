"""Fits scikit-learn's linear models on a design matrix written by bench/linear.mjs; prints one JSON line.

The matrix is already standardised / one-hot encoded (modelreg's design rows), so both sides solve the
same problem. LogisticRegression runs lbfgs to a tight tolerance so that its answer is the optimum.
"""
import argparse
import json
import time

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score

p = argparse.ArgumentParser()
p.add_argument("--z", required=True)
p.add_argument("--y", required=True)
p.add_argument("--n-train", type=int, required=True)
p.add_argument("--width", type=int, required=True)
p.add_argument("--model", choices=["LinearRegression", "Ridge", "LogisticRegression"], required=True)
p.add_argument("--alpha", type=float, default=1.0)
p.add_argument("--C", type=float, default=1.0)
a = p.parse_args()

z = np.fromfile(a.z, dtype=np.float64).reshape(-1, a.width)
y = np.fromfile(a.y, dtype=np.float64)
zt, yt, ze, ye = z[: a.n_train], y[: a.n_train], z[a.n_train :], y[a.n_train :]
if a.model == "LinearRegression":
    m = LinearRegression()
elif a.model == "Ridge":
    m = Ridge(alpha=a.alpha)
else:
    m = LogisticRegression(C=a.C, solver="lbfgs", tol=1e-10, max_iter=100000)
    yt = yt.astype(int)
    ye = ye.astype(int)
t = time.perf_counter()
m.fit(zt, yt)
fit_s = time.perf_counter() - t
pred = m.predict(ze)
metric = accuracy_score(ye, pred) if a.model == "LogisticRegression" else r2_score(ye, pred)
coef = np.atleast_2d(m.coef_)
intercept = np.atleast_1d(m.intercept_)
# The optimum to machine precision, to see how close lbfgs itself gets: Newton-CG, tight tolerance.
ref = None
if a.model == "LogisticRegression":
    r = LogisticRegression(C=a.C, solver="newton-cg", tol=1e-14, max_iter=100000).fit(zt, yt)
    ref = {"coef": np.atleast_2d(r.coef_).tolist(), "intercept": np.atleast_1d(r.intercept_).tolist()}
print(
    json.dumps(
        {
            "coef": coef.tolist(),
            "intercept": intercept.tolist(),
            "metric": float(metric),
            "fit_s": fit_s,
            "ref": ref,
            "n_iter": int(np.max(getattr(m, "n_iter_", None) if getattr(m, "n_iter_", None) is not None else [1])),
        }
    )
)
