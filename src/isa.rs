//! The instruction sets hot kernels are compiled for, chosen once at run time.
//!
//! The crate is built for the baseline of its target (SSE2 on x86-64) so the binary runs on
//! every CPU; a kernel run through [`Isa::run`] is compiled a second and third time with
//! AVX2 or AVX-512 enabled and the best one the CPU has is taken. Kernels use only correctly
//! rounded operations (Rust never fuses a multiply and an add on its own), keep every sum in
//! a fixed order and vectorise only across independent entries, so every instruction set
//! gives the same bits: wider vectors only do more entries at once.

use std::sync::OnceLock;

/// An instruction set this CPU has. Only [`Isa::detect`] and [`Isa::available`] make one,
/// so holding a value means the CPU can run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Isa(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// One lane: lane kernels run on plain `f64` (the reference every vector path must
    /// equal); other kernels as on the baseline. Only chosen through `SGD_ESCAPE_ISA`.
    Scalar,
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The instruction set kernels run on: the widest this CPU has (detected once per
    /// process), or the one `SGD_ESCAPE_ISA` names (`scalar`: one trajectory at a time;
    /// `baseline`, `avx2`, `avx512`). Results are the same on each, so this only changes
    /// the speed; tests use it to compare the paths. A name the CPU cannot run is refused
    /// with a message on the first call, and the widest is used.
    pub fn detect() -> Self {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| {
            let all = Self::available();
            let best = *all.last().expect("the baseline");
            match std::env::var("SGD_ESCAPE_ISA") {
                Ok(name) if name == "scalar" => Isa::scalar(),
                Ok(name) => all
                    .iter()
                    .copied()
                    .find(|i| i.name() == name)
                    .unwrap_or_else(|| {
                        eprintln!(
                            "warning: SGD_ESCAPE_ISA={name}: not an instruction set this CPU \
                         runs (it runs: {}); using {}",
                            all.iter().map(|i| i.name()).collect::<Vec<_>>().join(", "),
                            best.name()
                        );
                        best
                    }),
                Err(_) => best,
            }
        })
    }

    /// Every instruction set this CPU has, the baseline first: for tests that check they
    /// all give the same bits.
    pub fn available() -> Vec<Self> {
        #[allow(unused_mut)]
        let mut all = vec![Isa(Kind::Baseline)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                all.push(Isa(Kind::Avx2));
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
            {
                all.push(Isa(Kind::Avx512));
            }
        }
        all
    }

    /// One trajectory at a time: lane kernels on one lane (plain `f64`), the reference the
    /// vector paths are tested against.
    pub fn scalar() -> Self {
        Isa(Kind::Scalar)
    }

    /// The baseline of the build target (SSE2 on x86-64), which every CPU runs.
    pub fn baseline() -> Self {
        Isa(Kind::Baseline)
    }

    /// Its name: `scalar`, `baseline`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self.0 {
            Kind::Scalar => "scalar",
            Kind::Baseline => "baseline",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512 => "avx512",
        }
    }

    /// Runs `kernel` on this instruction set's lanes: one (`scalar`), 4 portable lanes,
    /// AVX2's 4 or AVX-512's 8.
    #[inline(always)]
    pub fn run_lanes<K: LaneKernel>(self, kernel: K) -> K::Output {
        match self.0 {
            Kind::Scalar => kernel.call::<f64>(),
            Kind::Baseline => kernel.call::<crate::lanes::Array<4>>(),
            // SAFETY: an `Isa` of these kinds is only made when the CPU has the feature.
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => unsafe { avx2_lanes(kernel) },
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512 => unsafe { avx512_lanes(kernel) },
        }
    }

    /// Runs `kernel` compiled for this instruction set.
    #[inline(always)]
    pub fn run<K: Kernel>(self, kernel: K) -> K::Output {
        match self.0 {
            Kind::Scalar | Kind::Baseline => kernel.call::<16>(),
            // SAFETY: an `Isa` of these kinds is only made when the CPU has the feature.
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => unsafe { avx2(kernel) },
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512 => unsafe { avx512(kernel) },
        }
    }
}

/// A computation compiled once per instruction set. Mark `call`, and every function it
/// calls in its hot loops, `#[inline(always)]`: a closure would not do, since the compiler
/// keeps one shared copy of a closure called from three places, compiled for the baseline.
pub trait Kernel {
    /// What the computation returns.
    type Output;
    /// Runs it with N doubles per block of registers: eight vectors of the instruction
    /// set (16 for SSE2, 32 for AVX2, 64 for AVX-512), enough independent sums to hide the
    /// latency of an addition without spilling registers.
    fn call<const N: usize>(self) -> Self::Output;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<K: Kernel>(kernel: K) -> K::Output {
    kernel.call::<32>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn avx512<K: Kernel>(kernel: K) -> K::Output {
    kernel.call::<64>()
}

/// A computation over lanes of trajectories, compiled once per instruction set with its
/// vector type ([`crate::lanes::Real`]). As for [`Kernel`], mark `call` and everything it
/// calls in hot loops `#[inline(always)]`.
pub trait LaneKernel {
    /// What the computation returns.
    type Output;
    /// Runs it on lanes of type `R`.
    fn call<R: crate::lanes::Real>(self) -> Self::Output;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2_lanes<K: LaneKernel>(kernel: K) -> K::Output {
    kernel.call::<crate::lanes::F64x4>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn avx512_lanes<K: LaneKernel>(kernel: K) -> K::Output {
    kernel.call::<crate::lanes::F64x8>()
}
