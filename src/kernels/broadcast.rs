//! Weights broadcast to the input's shape, as PyTorch broadcasts them: the kernel finds each
//! element's weight from the element's index (`broadcast.wgsl`), with no copy expanded on the
//! host.
//!
//! Dimensions are aligned from the right; a weight's dimension equals the input's or is 1
//! (missing leading dimensions count as 1). Runs of neighbouring dimensions that the weight
//! follows merge into one: element `e` of the input reads the weight at
//! `Σ ((e / div) % modulus) · stride` over at most [`RUNS`] runs.

use crate::error::{Error, Result};

/// Runs of followed dimensions a broadcast may have (any rank up to 6 fits).
pub(crate) const RUNS: usize = 3;

/// How an element of the input finds its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Broadcast {
    /// Per run: elements of the input inside its innermost dimension.
    pub div: [u32; RUNS],
    /// Per run: the product of its dimensions.
    pub modulus: [u32; RUNS],
    /// Per run: the weight's elements inside its innermost dimension (0 for an unused run).
    pub stride: [u32; RUNS],
}

impl Broadcast {
    /// No run: every element reads the weight's element 0.
    pub(crate) const NONE: Broadcast = Broadcast {
        div: [1; RUNS],
        modulus: [1; RUNS],
        stride: [0; RUNS],
    };

    /// The broadcast of a `what` of shape `weight` to `input`, or the error that says why it
    /// does not broadcast (`op` names the loss).
    pub(crate) fn new(op: &str, what: &str, weight: &[usize], input: &[usize]) -> Result<Self> {
        let refuse = |why: &str| {
            Error::Shape(format!(
                "{op}: {what} of shape {weight:?} does not broadcast to the input's {input:?}{why}"
            ))
        };
        let extra = weight.len().saturating_sub(input.len());
        if weight[..extra].iter().any(|&d| d != 1) {
            return Err(refuse(""));
        }
        let weight = &weight[extra..];
        let numel: u64 = input.iter().map(|&d| d as u64).product();
        if numel > u64::from(u32::MAX) {
            return Err(refuse(": broadcasting is for inputs under 2^32 elements"));
        }
        let mut b = Broadcast::NONE;
        let (mut runs, mut in_run) = (0, false);
        let (mut inner, mut w_inner) = (1u32, 1u32);
        for k in (0..input.len()).rev() {
            let d = input[k] as u32;
            let w = match k.checked_sub(input.len() - weight.len()) {
                Some(j) => weight[j] as u32,
                None => 1,
            };
            if w != d && w != 1 {
                return Err(refuse(""));
            }
            let follows = w == d;
            match (follows, in_run) {
                (true, false) if d > 1 => {
                    if runs == RUNS {
                        return Err(refuse(&format!(
                            ": it alternates with the input in more than {RUNS} runs of \
                             dimensions"
                        )));
                    }
                    b.div[runs] = inner;
                    b.modulus[runs] = d;
                    b.stride[runs] = w_inner;
                    runs += 1;
                    in_run = true;
                }
                (true, true) => b.modulus[runs - 1] *= d,
                (false, _) if d > 1 => in_run = false,
                _ => {}
            }
            inner *= d;
            w_inner *= w;
        }
        Ok(b)
    }

    /// The weight's index for element `e` of the input (as `broadcast.wgsl` computes it).
    #[cfg(test)]
    fn index(&self, e: u32) -> u32 {
        (0..RUNS)
            .map(|r| e / self.div[r] % self.modulus[r] * self.stride[r])
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weight's index of every element of `input`, by walking coordinates.
    fn naive(weight: &[usize], input: &[usize]) -> Vec<u32> {
        let n: usize = input.iter().product();
        let offset = input.len() as isize - weight.len() as isize;
        (0..n)
            .map(|mut e| {
                let mut coords = vec![0; input.len()];
                for k in (0..input.len()).rev() {
                    coords[k] = e % input[k];
                    e /= input[k];
                }
                let mut index = 0;
                for (j, &w) in weight.iter().enumerate() {
                    let k = j as isize + offset;
                    let c = if k >= 0 && w != 1 {
                        coords[k as usize]
                    } else {
                        0
                    };
                    index = index * w + c;
                }
                index as u32
            })
            .collect()
    }

    #[test]
    fn every_element_finds_the_weight_pytorch_broadcasting_gives_it() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[3], &[2, 3]),
            (&[2, 1], &[2, 3]),
            (&[1], &[5]),
            (&[1, 1, 1, 1], &[2, 3]),
            (&[4, 1, 1], &[2, 4, 3, 5]),
            (&[2, 1, 3, 1], &[2, 4, 3, 5]),
            (&[2, 4, 3, 5], &[2, 4, 3, 5]),
            (&[1, 4, 1, 5], &[2, 4, 3, 5]),
            (&[4, 1, 5], &[3, 4, 1, 5]),
            (&[2, 1, 3, 1, 5], &[2, 7, 3, 2, 5]),
            (&[1, 6], &[3, 1, 6]),
            (&[7], &[7]),
        ];
        for &(weight, input) in cases {
            let b = Broadcast::new("test", "weight", weight, input).unwrap();
            let n: usize = input.iter().product();
            let got: Vec<u32> = (0..n as u32).map(|e| b.index(e)).collect();
            assert_eq!(
                got,
                naive(weight, input),
                "{weight:?} over {input:?}: {b:?}"
            );
        }
    }

    #[test]
    fn shapes_that_do_not_broadcast_are_refused_with_the_reason() {
        for (weight, input) in [
            (&[2][..], &[2, 3][..]),
            (&[2, 3, 1][..], &[3, 1][..]),
            (&[2, 3][..], &[3][..]),
            (&[2, 1, 2, 1, 2, 1, 2][..], &[2, 3, 2, 3, 2, 3, 2][..]),
        ] {
            let err = Broadcast::new("bce", "weight", weight, input).unwrap_err();
            assert!(matches!(err, Error::Shape(_)), "{err}");
            assert!(err.to_string().contains("does not broadcast"), "{err}");
        }
        let err = Broadcast::new(
            "bce",
            "weight",
            &[2, 1, 2, 1, 2, 1, 2],
            &[2, 3, 2, 3, 2, 3, 2],
        )
        .unwrap_err();
        assert!(err.to_string().contains("runs"), "{err}");
    }
}
