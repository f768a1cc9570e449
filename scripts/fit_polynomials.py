#!/usr/bin/env python3
"""Fits the polynomial coefficients of src/math (ln's atanh series, the Box-Muller sine
and cosine) and prints them as Rust constants.

Each is a minimax fit (Remez exchange, in 60-digit arithmetic with mpmath) of the
function's remainder after its leading terms; the coefficients are then rounded to doubles,
and the printed maximum error is that of the rounded polynomial relative to the final
result, measured on a dense grid. The Rust tests
(tests/elementary.rs) measure the finished functions in ulp against a 256-bit reference.

Usage: pip install mpmath && python3 scripts/fit_polynomials.py
"""
import mpmath as mp

mp.mp.dps = 60


def remez(f, weight, lo, hi, degree, iterations=40):
    """Coefficients c_0..c_degree of the polynomial p minimising max |weight(z)(f(z) - p(z))|
    on [lo, hi]."""
    n = degree + 2
    # Chebyshev extrema as the first reference.
    xs = [(lo + hi) / 2 - (hi - lo) / 2 * mp.cos(mp.pi * i / (n - 1)) for i in range(n)]
    for _ in range(iterations):
        # Solve p(x_i) + (-1)^i E / weight(x_i) = f(x_i).
        a = mp.matrix(n, n)
        b = mp.matrix(n, 1)
        for i, x in enumerate(xs):
            for j in range(degree + 1):
                a[i, j] = x**j
            a[i, degree + 1] = (-1) ** i / weight(x)
            b[i] = f(x)
        sol = mp.lu_solve(a, b)
        coef = [sol[j] for j in range(degree + 1)]
        err = lambda x: weight(x) * (f(x) - mp.polyval(coef[::-1], x))
        # New reference: the extrema of the error between sign changes.
        grid = [lo + (hi - lo) * i / 4000 for i in range(4001)]
        vals = [err(x) for x in grid]
        segments, start = [], 0
        for i in range(1, len(grid)):
            if mp.sign(vals[i]) != mp.sign(vals[start]) and vals[i] != 0:
                segments.append(max(range(start, i), key=lambda k: abs(vals[k])))
                start = i
        segments.append(max(range(start, len(grid)), key=lambda k: abs(vals[k])))
        if len(segments) < n:
            break
        # Keep n alternating extrema with the largest errors.
        while len(segments) > n:
            if abs(vals[segments[0]]) < abs(vals[segments[-1]]):
                segments.pop(0)
            else:
                segments.pop()
        xs = [grid[k] for k in segments]
    return coef


def rounded_error(f, weight, lo, hi, coef):
    c = [mp.mpf(float(v)) for v in coef]
    grid = [lo + (hi - lo) * i / 20000 for i in range(20001)]
    return max(abs(weight(x) * (f(x) - mp.polyval(c[::-1], x))) for x in grid)


def show(name, coef, err):
    print(f"// {name}: max weighted error of the rounded polynomial {mp.nstr(err, 3)}")
    for i, v in enumerate(coef):
        print(f"    f64::from_bits({float(v).hex()!s:>24}), // {name} c{i} = {float(v)!r}")


def as_bits(v):
    import struct
    return hex(struct.unpack("<Q", struct.pack("<d", float(v)))[0])


def show_bits(name, coef, err):
    print(f"// {name}: max weighted error (rounded coefficients) {mp.nstr(err, 3)}")
    print(f"const {name}: [f64; {len(coef)}] = [")
    for v in coef:
        print(f"    f64::from_bits({as_bits(v)}), // {float(v)!r}")
    print("];")


# ln: ln m = 2s + 2s·z·P(z), s = (m − 1)/(m + 1), z = s², |s| ≤ (√2 − 1)/(√2 + 1).
# P(z) = (atanh(s)/s − 1)/z; the error of 2s·z·P relative to ln m ≈ 2s is z·|ΔP|.
a = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2


def atanh_rem(z):
    if z == 0:
        return mp.mpf(1) / 3
    s = mp.sqrt(z)
    return (mp.atanh(s) / s - 1) / z


coef = remez(atanh_rem, lambda z: 1, mp.mpf(0), a, 6)
show_bits("LN_ATANH", coef, rounded_error(atanh_rem, lambda z: z, mp.mpf(0), a, coef))

# Box–Muller sine: sin(2πv) = v·2π + v·w·S(w), w = v², |v| ≤ 1/8; relative to sin(2πv) ≈ 2πv.
w_hi = mp.mpf(1) / 64
tau = 2 * mp.pi


def sin_rem(w):
    if w == 0:
        return -(tau**3) / 6
    v = mp.sqrt(w)
    return (mp.sin(tau * v) / v - tau) / w


coef = remez(sin_rem, lambda w: 1, mp.mpf(0), w_hi, 5)
show_bits("SIN_TURNS8", coef, rounded_error(sin_rem, lambda w: w / tau, mp.mpf(0), w_hi, coef))


# Box–Muller cosine: cos(2πv) = 1 + w·C(w); relative to cos(2πv) ≥ cos(π/4).
def cos_rem(w):
    if w == 0:
        return -(tau**2) / 2
    v = mp.sqrt(w)
    return (mp.cos(tau * v) - 1) / w


coef = remez(cos_rem, lambda w: 1, mp.mpf(0), w_hi, 6)
show_bits(
    "COS_TURNS8",
    coef,
    rounded_error(cos_rem, lambda w: w / mp.cos(tau * mp.sqrt(w)), mp.mpf(0), w_hi, coef),
)
print(f"// 2π = {float(tau)!r} = f64::from_bits({as_bits(tau)})")
