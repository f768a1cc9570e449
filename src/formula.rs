//! Formulas in experiment files: a small expression language, parsed and checked once
//! before anything runs, evaluated with the project's own elementary functions, and
//! differentiated exactly (reverse mode over the parsed expression, no finite differences).
//!
//! Grammar (spaces are ignored; `^` binds tighter than a sign, so `-x^2` is `-(x^2)`, and is
//! right-associative, so `2^3^2` is `2^9`):
//!
//! ```text
//! expr     := term (('+' | '-') term)*
//! term     := unary (('*' | '/') unary)*
//! unary    := ('-' | '+')* power
//! power    := primary ('^' unary)?
//! primary  := number | name | function '(' expr ')' | '(' expr ')'
//! number   := digits ['.' digits] [('e' | 'E') ['+' | '-'] digits]     (or '.' digits …)
//! name     := 'pi' | 'e' | 'x1' … 'xd' (by number: x10 after x9) | 'x' (separable form)
//! function := 'sin' | 'cos' | 'tan' | 'exp' | 'ln' | 'log' (= ln) | 'sqrt' | 'abs' | 'tanh'
//! ```
//!
//! No function calls the platform's libm, so a formula's values are the same on every
//! machine: sin, cos and tan reduce their argument exactly in turns (x/2π) and use the
//! project's sine polynomial (`math::trig`); exp, ln and tanh are the project's own
//! (`math::elementary`, `objective::mlp::tanh`); sqrt and abs are exact IEEE operations.
//! `a ^ n` with n a constant integer is repeated multiplication (square and multiply);
//! any other power is exp(b·ln a), defined for a > 0 (NaN below, as for a real power).
//! Constant subexpressions are evaluated once, when the formula is parsed.
//!
//! Written here rather than taken from a crate (exmex, meval, fasteval evaluate through
//! `f64::sin` and friends, that is libm) so that nothing platform-dependent decides a
//! number, so that nesting is bounded before anything recurses, and so that every error
//! names its position.

use crate::math::elementary::{exp, ln};
use crate::math::trig::{cos_of_turns, sin_of_turns};
use std::cell::RefCell;
use std::fmt;

/// The longest formula accepted, in bytes.
pub const MAX_LEN: usize = 10_000;
/// The deepest nesting accepted (parentheses, powers, function calls).
pub const MAX_DEPTH: usize = 100;

/// A formula that could not be parsed: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaError {
    /// Position of the offending character, counted from 1 (in characters).
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position, self.message)
    }
}

impl std::error::Error for FormulaError {}

/// Which variables a formula may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variables {
    /// x1 … xd.
    Numbered(usize),
    /// The single variable `x` (a separable form h(x)).
    Single,
    /// This many names given to [`Formula::parse_named`] (a derived sweep axis's other
    /// axes: their names, or their paths such as `dynamics.eta`).
    Named(usize),
}

/// The functions a formula may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Ln,
    Sqrt,
    Abs,
    Tanh,
}

const FUNCTIONS: [(&str, Func); 9] = [
    ("sin", Func::Sin),
    ("cos", Func::Cos),
    ("tan", Func::Tan),
    ("exp", Func::Exp),
    ("ln", Func::Ln),
    ("log", Func::Ln),
    ("sqrt", Func::Sqrt),
    ("abs", Func::Abs),
    ("tanh", Func::Tanh),
];

impl Func {
    fn apply(self, a: f64) -> f64 {
        let turns = a / std::f64::consts::TAU;
        match self {
            Func::Sin => sin_of_turns(turns),
            Func::Cos => cos_of_turns(turns),
            Func::Tan => sin_of_turns(turns) / cos_of_turns(turns),
            Func::Exp => exp(a),
            Func::Ln => ln(a),
            Func::Sqrt => a.sqrt(),
            Func::Abs => a.abs(),
            Func::Tanh => crate::objective::mlp::tanh(a),
        }
    }

    /// The derivative at a, given the value there.
    fn derivative(self, a: f64, value: f64) -> f64 {
        match self {
            Func::Sin => Func::Cos.apply(a),
            Func::Cos => -Func::Sin.apply(a),
            Func::Tan => 1.0 + value * value,
            Func::Exp => value,
            Func::Ln => 1.0 / a,
            Func::Sqrt => 0.5 / value,
            Func::Abs => {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    a * 0.0 // 0 at 0 (a subgradient), NaN for NaN
                }
            }
            Func::Tanh => 1.0 - value * value,
        }
    }
}

/// a^n by square and multiply (x^2 is exactly x·x).
fn powi(a: f64, n: i32) -> f64 {
    let (mut result, mut base, mut e) = (1.0, a, n.unsigned_abs());
    while e > 0 {
        if e & 1 == 1 {
            result *= base;
        }
        e >>= 1;
        if e > 0 {
            base *= base;
        }
    }
    if n < 0 { 1.0 / result } else { result }
}

/// a^b for a real exponent: exp(b ln a) for a > 0; 0^b is 0, 1 or ∞; NaN for a < 0.
fn powf(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        return if b > 0.0 {
            0.0
        } else if b == 0.0 {
            1.0
        } else {
            f64::INFINITY
        };
    }
    exp(b * ln(a))
}

/// One node of a parsed formula; operands are earlier nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Const(f64),
    Var(usize),
    Neg(usize),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    PowInt(usize, i32),
    Pow(usize, usize),
    Call(Func, usize),
}

/// A parsed formula: its nodes in evaluation order (every operand before its use), the
/// last one the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    ops: Vec<Op>,
    variables: Variables,
}

thread_local! {
    /// Values and adjoints of the nodes, grown once to the longest formula evaluated.
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Formula {
    /// Parses `text` with the variables `variables`.
    pub fn parse(text: &str, variables: Variables) -> Result<Formula, FormulaError> {
        Self::parse_with(text, variables, &[])
    }

    /// Parses `text` whose variables are `names` (`x[k]` is `names[k]` in [`Formula::value`]);
    /// a name may hold dots (`dynamics.eta`) and indices (`objective.k[0]`).
    pub fn parse_named(text: &str, names: &[String]) -> Result<Formula, FormulaError> {
        Self::parse_with(text, Variables::Named(names.len()), names)
    }

    fn parse_with(
        text: &str,
        variables: Variables,
        names: &[String],
    ) -> Result<Formula, FormulaError> {
        if text.len() > MAX_LEN {
            return Err(FormulaError {
                position: 1,
                message: format!("longer than {MAX_LEN} bytes"),
            });
        }
        // Nesting of parentheses, bounded before the parser recurses (powers and calls are
        // bounded again while parsing).
        let mut depth = 0usize;
        for (i, c) in text.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_DEPTH {
                return Err(FormulaError {
                    position: text[..i].chars().count() + 1,
                    message: format!("nested more than {MAX_DEPTH} parentheses deep"),
                });
            }
        }
        let mut p = Parser {
            text,
            at: 0,
            depth: 0,
            ops: Vec::new(),
            variables,
            names,
        };
        p.skip_spaces();
        if p.at == text.len() {
            return Err(p.error("empty formula"));
        }
        p.expr()?;
        p.skip_spaces();
        if p.at < text.len() {
            let message = if p.peek() == Some(')') {
                "unbalanced `)`".to_string()
            } else {
                format!("expected an operator, found `{}`", p.peek_char_text())
            };
            return Err(p.error(&message));
        }
        Ok(Formula {
            ops: p.ops,
            variables,
        })
    }

    /// The variables it was parsed with.
    pub fn variables(&self) -> Variables {
        self.variables
    }

    /// Whether it calls abs (whose derivative jumps at 0).
    pub fn has_kinks(&self) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(op, Op::Call(Func::Abs, _)))
    }

    /// The value at x (`x[k]` is x_{k+1}; `x[0]` is `x` in the separable form).
    pub fn value(&self, x: &[f64]) -> f64 {
        self.with_buffers(|values, _| self.forward(x, values))
    }

    /// The value at x, with the gradient added to `grad` (`grad[k]` += ∂/∂x_{k+1}).
    pub fn value_and_add_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.with_buffers(|values, adjoints| {
            let value = self.forward(x, values);
            self.backward(values, adjoints, grad);
            value
        })
    }

    fn with_buffers<R>(&self, f: impl FnOnce(&mut [f64], &mut [f64]) -> R) -> R {
        let n = self.ops.len();
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < 2 * n {
                s.resize(2 * n, 0.0);
            }
            let (values, adjoints) = s[..2 * n].split_at_mut(n);
            f(values, adjoints)
        })
    }

    fn forward(&self, x: &[f64], v: &mut [f64]) -> f64 {
        for (i, op) in self.ops.iter().enumerate() {
            v[i] = match *op {
                Op::Const(c) => c,
                // Out of range only for a formula used beyond the dimension it was checked
                // for: NaN (reported as divergence), never a panic.
                Op::Var(k) => x.get(k).copied().unwrap_or(f64::NAN),
                Op::Neg(a) => -v[a],
                Op::Add(a, b) => v[a] + v[b],
                Op::Sub(a, b) => v[a] - v[b],
                Op::Mul(a, b) => v[a] * v[b],
                Op::Div(a, b) => v[a] / v[b],
                Op::PowInt(a, n) => powi(v[a], n),
                Op::Pow(a, b) => powf(v[a], v[b]),
                Op::Call(f, a) => f.apply(v[a]),
            };
        }
        v[v.len() - 1]
    }

    /// Reverse mode: adjoints from the result down to the variables, in a fixed order.
    fn backward(&self, v: &[f64], adj: &mut [f64], grad: &mut [f64]) {
        adj.fill(0.0);
        let last = adj.len() - 1;
        adj[last] = 1.0;
        for (i, op) in self.ops.iter().enumerate().rev() {
            let g = adj[i];
            match *op {
                Op::Const(_) => {}
                Op::Var(k) => {
                    if let Some(d) = grad.get_mut(k) {
                        *d += g;
                    }
                }
                Op::Neg(a) => adj[a] -= g,
                Op::Add(a, b) => {
                    adj[a] += g;
                    adj[b] += g;
                }
                Op::Sub(a, b) => {
                    adj[a] += g;
                    adj[b] -= g;
                }
                Op::Mul(a, b) => {
                    adj[a] += g * v[b];
                    adj[b] += g * v[a];
                }
                Op::Div(a, b) => {
                    adj[a] += g / v[b];
                    adj[b] -= g * v[i] / v[b];
                }
                Op::PowInt(a, n) => {
                    if n != 0 {
                        adj[a] += g * (n as f64 * powi(v[a], n - 1));
                    }
                }
                Op::Pow(a, b) => {
                    adj[a] += g * (v[b] * powf(v[a], v[b] - 1.0));
                    if !matches!(self.ops[b], Op::Const(_)) {
                        adj[b] += g * (v[i] * ln(v[a]));
                    }
                }
                Op::Call(f, a) => adj[a] += g * f.derivative(v[a], v[i]),
            }
        }
    }
}

/// Recursive descent over the text, emitting nodes in evaluation order.
struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
    ops: Vec<Op>,
    variables: Variables,
    names: &'a [String],
}

impl Parser<'_> {
    fn error(&self, message: &str) -> FormulaError {
        self.error_at(self.at, message)
    }

    fn error_at(&self, byte: usize, message: &str) -> FormulaError {
        FormulaError {
            position: self.text[..byte].chars().count() + 1,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn peek_char_text(&self) -> String {
        self.peek().map(String::from).unwrap_or_default()
    }

    fn skip_spaces(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.at += c.len_utf8();
        }
    }

    /// Consumes `c` (after spaces) when it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Counts one level of recursion, refused beyond [`MAX_DEPTH`].
    fn descend(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(&format!("nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    /// Appends a node, or its value when every operand is a constant (operands of a
    /// constant node are the last nodes: constant subtrees are single nodes).
    fn push(&mut self, op: Op) -> usize {
        let constant = |i: usize| match self.ops[i] {
            Op::Const(c) => Some(c),
            _ => None,
        };
        let (first, operands_constant) = match op {
            Op::Const(_) | Op::Var(_) => (self.ops.len(), false),
            Op::Neg(a) | Op::PowInt(a, _) | Op::Call(_, a) => (a, constant(a).is_some()),
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) => {
                (a, constant(a).is_some() && constant(b).is_some())
            }
        };
        if operands_constant {
            let mut scratch = self.ops[first..].to_vec();
            scratch.push(remap(op, first));
            let value = Formula {
                ops: scratch,
                variables: self.variables,
            }
            .value(&[]);
            self.ops.truncate(first);
            self.ops.push(Op::Const(value));
        } else {
            self.ops.push(op);
        }
        self.ops.len() - 1
    }

    fn expr(&mut self) -> Result<usize, FormulaError> {
        self.descend()?;
        let mut left = self.term()?;
        loop {
            if self.eat('+') {
                let right = self.term()?;
                left = self.push(Op::Add(left, right));
            } else if self.eat('-') {
                let right = self.term()?;
                left = self.push(Op::Sub(left, right));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(left)
    }

    fn term(&mut self) -> Result<usize, FormulaError> {
        let mut left = self.unary()?;
        loop {
            if self.eat('*') {
                let right = self.unary()?;
                left = self.push(Op::Mul(left, right));
            } else if self.eat('/') {
                let right = self.unary()?;
                left = self.push(Op::Div(left, right));
            } else {
                break;
            }
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<usize, FormulaError> {
        // A run of signs is read in a loop, not by recursion.
        let mut negate = false;
        loop {
            if self.eat('-') {
                negate = !negate;
            } else if !self.eat('+') {
                break;
            }
        }
        let operand = self.power()?;
        Ok(if negate {
            self.push(Op::Neg(operand))
        } else {
            operand
        })
    }

    fn power(&mut self) -> Result<usize, FormulaError> {
        let base = self.primary()?;
        if !self.eat('^') {
            return Ok(base);
        }
        self.descend()?;
        let exponent = self.unary()?;
        self.depth -= 1;
        if let Op::Const(n) = self.ops[exponent]
            && n.fract() == 0.0
            && n.abs() <= 1024.0
        {
            self.ops.pop();
            return Ok(self.push(Op::PowInt(base, n as i32)));
        }
        Ok(self.push(Op::Pow(base, exponent)))
    }

    fn primary(&mut self) -> Result<usize, FormulaError> {
        self.skip_spaces();
        let start = self.at;
        match self.peek() {
            None => Err(self.error("the formula ends where a number, a name or `(` is expected")),
            Some('(') => {
                self.at += 1;
                let inner = self.expr()?;
                if !self.eat(')') {
                    return Err(self.error_at(start, "this `(` is never closed"));
                }
                Ok(inner)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => self.name(),
            Some(c) => Err(self.error(&format!("expected a number, a name or `(`, found `{c}`"))),
        }
    }

    fn number(&mut self) -> Result<usize, FormulaError> {
        let start = self.at;
        let bytes = self.text.as_bytes();
        let digits = |mut i: usize| {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut end = digits(start);
        if end < bytes.len() && bytes[end] == b'.' {
            end = digits(end + 1);
        }
        if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
            // An exponent only when digits follow (so `2*e` and `x1*e` keep the constant).
            let mut i = end + 1;
            if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                i += 1;
            }
            if i < bytes.len() && bytes[i].is_ascii_digit() {
                end = digits(i);
            }
        }
        let token = &self.text[start..end];
        let value: f64 = token
            .parse()
            .map_err(|_| self.error(&format!("`{token}` is not a number")))?;
        if !value.is_finite() {
            return Err(self.error(&format!("`{token}` is out of range")));
        }
        self.at = end;
        Ok(self.push(Op::Const(value)))
    }

    fn name(&mut self) -> Result<usize, FormulaError> {
        let start = self.at;
        let rest = &self.text[start..];
        let paths = matches!(self.variables, Variables::Named(_));
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || (paths && ".[]".contains(c))))
            .unwrap_or(rest.len());
        let name = &rest[..len];
        self.at += len;
        if let Some(&(_, func)) = FUNCTIONS.iter().find(|(n, _)| *n == name) {
            if !self.eat('(') {
                return Err(
                    self.error_at(start, &format!("`{name}` needs an argument in parentheses"))
                );
            }
            let open = self.at - 1;
            self.descend()?;
            let argument = self.expr()?;
            self.depth -= 1;
            if !self.eat(')') {
                return Err(self.error_at(open, "this `(` is never closed"));
            }
            return Ok(self.push(Op::Call(func, argument)));
        }
        let op = match name {
            "pi" => Op::Const(std::f64::consts::PI),
            "e" => Op::Const(std::f64::consts::E),
            _ => match self.variable(name) {
                Some(k) => Op::Var(k),
                None => return Err(self.error_at(start, &self.unknown(name))),
            },
        };
        self.skip_spaces();
        if self.peek() == Some('(') {
            return Err(self.error_at(start, &format!("`{name}` is not a function")));
        }
        Ok(self.push(op))
    }

    /// The index of variable `name`, if the formula may use it.
    fn variable(&self, name: &str) -> Option<usize> {
        match self.variables {
            Variables::Single => (name == "x").then_some(0),
            Variables::Named(_) => self.names.iter().position(|n| n == name),
            Variables::Numbered(dim) => {
                let digits = name.strip_prefix('x')?;
                if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let k: usize = digits.parse().ok()?;
                (1..=dim).contains(&k).then_some(k - 1)
            }
        }
    }

    fn unknown(&self, name: &str) -> String {
        let functions = "sin, cos, tan, exp, ln, log, sqrt, abs, tanh";
        match self.variables {
            Variables::Single => format!(
                "unknown name `{name}`: the separable form has the one variable x, the constants pi and e, and the functions {functions}"
            ),
            Variables::Named(_) => format!(
                "unknown name `{name}`: the variables are {}, the constants pi and e, and the functions {functions}",
                self.names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Variables::Numbered(dim) => {
                let vars = if dim == 1 {
                    "x1".to_string()
                } else {
                    format!("x1 … x{dim}")
                };
                let why = match name.strip_prefix('x').map(|d| d.parse::<usize>()) {
                    Some(Ok(k)) if k > dim => format!(" (the dimension is {dim})"),
                    _ => String::new(),
                };
                format!(
                    "unknown name `{name}`{why}: the variables are {vars}, the constants pi and e, and the functions {functions}"
                )
            }
        }
    }
}

/// `op` with its operand indices moved down by `first` (for evaluating a constant subtree
/// on its own).
fn remap(op: Op, first: usize) -> Op {
    match op {
        Op::Neg(a) => Op::Neg(a - first),
        Op::PowInt(a, n) => Op::PowInt(a - first, n),
        Op::Call(f, a) => Op::Call(f, a - first),
        Op::Add(a, b) => Op::Add(a - first, b - first),
        Op::Sub(a, b) => Op::Sub(a - first, b - first),
        Op::Mul(a, b) => Op::Mul(a - first, b - first),
        Op::Div(a, b) => Op::Div(a - first, b - first),
        Op::Pow(a, b) => Op::Pow(a - first, b - first),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::math::trig::fraction_of_turn;

    #[test]
    fn turns_are_reduced_exactly() {
        for u in [
            0.0,
            0.3,
            -0.7,
            2.5,
            -3.5,
            1e15 + 0.125,
            4.5e15,
            1e300,
            -1e-300,
        ] {
            let f = fraction_of_turn(u);
            assert!(f.abs() <= 0.5, "{u}: {f}");
            // Exact: f + n = u for an integer n.
            let n = u - f;
            assert_eq!(n, n.round(), "{u}");
            assert_eq!(n + f, u, "{u}");
        }
        assert!(fraction_of_turn(f64::INFINITY).is_nan());
        assert!(fraction_of_turn(f64::NAN).is_nan());
    }

    #[test]
    fn sine_and_cosine_are_close_to_the_standard_library() {
        // Within a few ulp of 1 where the argument is moderate; the conversion to turns
        // (x/2π) costs about |x|·1e-16 beyond.
        for i in -20_000..20_000 {
            let x = i as f64 * 0.00937;
            let tol = 4e-16 * x.abs().max(1.0);
            assert!((Func::Sin.apply(x) - x.sin()).abs() <= tol, "sin {x}");
            assert!((Func::Cos.apply(x) - x.cos()).abs() <= tol, "cos {x}");
        }
        assert_eq!(Func::Sin.apply(0.0), 0.0);
        assert_eq!(Func::Cos.apply(0.0), 1.0);
    }

    #[test]
    fn constant_subexpressions_fold_to_one_node() {
        let f = Formula::parse("2*pi/0.5*x1 + (3 - 1)^2", Variables::Numbered(1)).unwrap();
        // 2π/0.5, x1, their product, 4, the sum.
        assert_eq!(f.ops.len(), 5, "{:?}", f.ops);
        assert_eq!(f.value(&[1.0]), 2.0 * std::f64::consts::PI / 0.5 + 4.0);
    }
}
