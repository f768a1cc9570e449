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
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The widest instruction set this CPU has (detected once per process).
    pub fn detect() -> Self {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| *Self::available().last().expect("the baseline"))
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
            if std::arch::is_x86_feature_detected!("avx512f") {
                all.push(Isa(Kind::Avx512));
            }
        }
        all
    }

    /// The baseline of the build target (SSE2 on x86-64), which every CPU runs.
    pub fn baseline() -> Self {
        Isa(Kind::Baseline)
    }

    /// Its name: `baseline`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self.0 {
            Kind::Baseline => "baseline",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512 => "avx512",
        }
    }

    /// Runs `kernel` compiled for this instruction set.
    #[inline(always)]
    pub fn run<K: Kernel>(self, kernel: K) -> K::Output {
        match self.0 {
            Kind::Baseline => kernel.call::<16>(),
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
#[target_feature(enable = "avx512f")]
unsafe fn avx512<K: Kernel>(kernel: K) -> K::Output {
    kernel.call::<64>()
}
