// Connectionist temporal classification: the negative log-likelihood of each target sequence
// under the log-probabilities lp [T, N, C] (time first), summed over every alignment, and its
// gradient. A dynamic program in log space over the extended target l' = (blank, l_0, blank,
// l_1, ..., blank): 2L + 1 states, state s labelled blank when even and l_{(s-1)/2} when odd.
//
//   alpha_t(s) = lp(t, l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2))
//   beta_t(s)  = lp(t, l'_s) + logsumexp(beta_{t+1}(s), beta_{t+1}(s+1), beta_{t+1}(s+2))
//   (the s -+ 2 term only for a label that differs from the one two states away)
//   nll = -logsumexp(alpha_{T_n-1}(2L), alpha_{T_n-1}(2L-1))
//   d nll / d lp(t, c) = exp(lp) - exp(logsumexp_{s: l'_s = c} (alpha_t(s) + beta_t(s)) + nll - lp)
//
// the gradient PyTorch's kernels return: the one for log-probabilities that come out of a
// log-softmax (it is the gradient in the logits that feed that log-softmax).
//
// Unscaled, alpha and beta grow to T log C in magnitude, where f32 keeps 3 decimals at
// T = 20,000 (the gradient was 10% off). So every RESCALE-th time step of alpha and of beta
// is stored less its maximum over the states, the maxima of alpha summed (compensated) per
// sequence for the loss; the gradient divides by Z_t = logsumexp_s (alpha_t(s) + beta_t(s) -
// lp(t, l'_s)), the likelihood seen from step t, in which every scale cancels. (Rescaling
// every step was as accurate and took twice as long on lavapipe: each is a workgroup max.)
//
// Passes, each dispatched by the crate:
//   ctc_prologue  one workgroup per sequence: checks lengths and labels (status word), finds
//                 the sequence's offsets, and links the target positions of each class
//   ctc_alpha     one workgroup per sequence, states over its invocations, time steps
//                 [t_begin, t_end) in a loop with a storage barrier per step
//   ctc_beta      the same, backwards: step k is time T - 1 - k
//   ctc_loss      one invocation per sequence: its loss, scaled for the reduction
//   ctc_norm      one invocation per (time step, sequence) of [t_begin, t_end): Z_t
//   ctc_grad      one invocation per element of time steps [t_begin, t_end)
//
// Dispatches split the time steps so that no invocation loops more than Mesa's software
// adapters allow (they stop an invocation's loops after 65,535 iterations in all).

struct CtcParams {
    time: u32,
    batch: u32,
    classes: u32,
    blank: u32,
    // Targets padded to `columns` per sequence (else concatenated).
    padded: u32,
    columns: u32,
    // Elements of the targets tensor.
    total: u32,
    // The most labels one sequence may have in this call.
    max_labels: u32,
    // The states of all sequences together at most (the size of one time step of alpha).
    max_states: u32,
    t_begin: u32,
    t_end: u32,
    zero_infinity: u32,
    // Reduction mean: each loss divided by its target length (at least 1).
    per_length: u32,
    // The gradient's factor besides the per-length division (1 / N for a mean).
    grad_scale: f32,
    // -inf, from the host: WGSL has no infinite constant.
    neg_inf: f32,
}

@group(0) @binding(0) var<uniform> params: CtcParams;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read> input_lengths: array<u32>;
@group(0) @binding(4) var<storage, read> target_lengths: array<u32>;
// Per sequence: target offset, state offset, target length, input length (0 and 0 when the
// sequence's lengths or labels are bad).
@group(0) @binding(5) var<storage, read_write> seqs: array<u32>;
// first[n * C + c]: the first target position of class c (NONE if none); then, from N * C,
// next[target offset + k]: the next position with the label of position k.
@group(0) @binding(6) var<storage, read_write> links: array<u32>;
@group(0) @binding(7) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(8) var<storage, read_write> beta: array<f32>;
@group(0) @binding(9) var<storage, read_write> losses: array<f32>;
@group(0) @binding(10) var<storage, read_write> grad: array<f32>;
@group(0) @binding(11) var<storage, read_write> status: array<atomic<u32>>;
// Z_t of each (time step, sequence), [T, N].
@group(0) @binding(12) var<storage, read_write> norm: array<f32>;
// Per sequence: the sum of alpha's scales and its compensation (Kahan).
@group(0) @binding(13) var<storage, read_write> offsets: array<f32>;

const NONE: u32 = 0xffffffffu;

// Time steps between two rescalings of alpha and beta.
const RESCALE: u32 = 8u;

// What the status word flags: its lowest (index * 4 + kind) wins.
const BAD_INPUT_LENGTH: u32 = 0u;
const BAD_TARGET_LENGTH: u32 = 1u;
const BAD_LABEL: u32 = 2u;

fn flag(index: u32, kind: u32) {
    atomicMax(&status[0], 0xffffffffu - (index * 4u + kind));
}

// log(exp(a) + exp(b)), -inf when both are.
fn log_add(a: f32, b: f32) -> f32 {
    let m = max(a, b);
    if m == params.neg_inf {
        return m;
    }
    return m + log1p(exp(min(a, b) - m));
}

fn lp_at(t: u32, n: u32, c: u32) -> f32 {
    return load_lp((t * params.batch + n) * params.classes + c);
}

// The label of state s of the sequence whose targets start at `toff`.
fn state_label(toff: u32, s: u32) -> u32 {
    if (s & 1u) == 0u {
        return params.blank;
    }
    return targets[toff + (s >> 1u)];
}

struct Sequence {
    toff: u32,
    soff: u32,
    labels: u32,
    steps: u32,
}

fn sequence(n: u32) -> Sequence {
    return Sequence(seqs[4u * n], seqs[4u * n + 1u], seqs[4u * n + 2u], seqs[4u * n + 3u]);
}

// A sequence's targets as the prologue clamps them, before they are checked.
fn clamped_labels(m: u32) -> u32 {
    return min(target_lengths[m], params.max_labels);
}

@compute @workgroup_size(WG)
fn ctc_prologue(ids: Ids, group: Group) {
    let n = group.id.x;
    for (var c = ids.lid; c < params.classes; c += WG) {
        links[n * params.classes + c] = NONE;
    }
    storageBarrier();
    if ids.lid != 0u {
        return;
    }
    var toff = n * params.columns;
    var soff = 0u;
    for (var m = 0u; m < n; m++) {
        let lm = clamped_labels(m);
        if params.padded == 0u {
            toff += lm;
        }
        soff += 2u * lm + 1u;
    }
    let steps = input_lengths[n];
    let labels = target_lengths[n];
    var room = params.columns;
    if params.padded == 0u {
        room = select(0u, params.total - toff, toff <= params.total);
    }
    var ok = true;
    if steps > params.time {
        flag(n, BAD_INPUT_LENGTH);
        ok = false;
    }
    if labels > min(room, params.max_labels) || soff + 2u * labels + 1u > params.max_states {
        flag(n, BAD_TARGET_LENGTH);
        ok = false;
    }
    if ok {
        // Backwards, so that each position links to the next one of its class.
        let first = n * params.classes;
        let next = params.batch * params.classes + toff;
        for (var j = 0u; j < labels; j++) {
            let k = labels - 1u - j;
            let c = targets[toff + k];
            if c >= params.classes || c == params.blank {
                flag(toff + k, BAD_LABEL);
                ok = false;
            } else {
                links[next + k] = links[first + c];
                links[first + c] = k;
            }
        }
    }
    offsets[2u * n] = 0.0;
    offsets[2u * n + 1u] = 0.0;
    seqs[4u * n] = toff;
    seqs[4u * n + 1u] = soff;
    seqs[4u * n + 2u] = select(0u, labels, ok);
    seqs[4u * n + 3u] = select(0u, steps, ok);
}

// Invocations of a recursion's workgroup. Fewer than WG: a software adapter pays for every
// invocation at each step's barrier (64 ran [500 x 32 x 32] 2.1x faster than 256 on lavapipe,
// 32 no faster than 64), and a target of L labels has only 2L + 1 states to share out; 64 is
// two of NVIDIA's subgroups, one of AMD's.
const RWG: u32 = 64u;

var<workgroup> step_max: array<f32, RWG>;

// The largest of `top` over the workgroup, or 0 where it is -inf: a step whose states are all
// -inf (no alignment reaches them) stays unscaled. Call from uniform control flow.
fn step_scale(top: f32, ids: Ids) -> f32 {
    step_max[ids.lid] = top;
    workgroupBarrier();
    for (var half = RWG / 2u; half > 0u; half >>= 1u) {
        if ids.lid < half {
            step_max[ids.lid] = max(step_max[ids.lid], step_max[ids.lid + half]);
        }
        workgroupBarrier();
    }
    let m = step_max[0];
    workgroupBarrier();
    return select(0.0, m, m > params.neg_inf);
}

@compute @workgroup_size(RWG)
fn ctc_alpha(ids: Ids, group: Group) {
    let q = sequence(group.id.x);
    let n = group.id.x;
    let states = 2u * q.labels + 1u;
    let base = q.soff * params.time;
    for (var t = params.t_begin; t < params.t_end; t++) {
        let live = t < q.steps;
        let row = base + t * states;
        var top = params.neg_inf;
        if live {
            for (var s = ids.lid; s < states; s += RWG) {
                let label = state_label(q.toff, s);
                var a = params.neg_inf;
                if t == 0u {
                    if s < 2u {
                        a = 0.0;
                    }
                } else {
                    let prev = row - states;
                    a = alpha[prev + s];
                    if s >= 1u {
                        a = log_add(a, alpha[prev + s - 1u]);
                    }
                    if s >= 2u && label != state_label(q.toff, s - 2u) {
                        a = log_add(a, alpha[prev + s - 2u]);
                    }
                }
                a += lp_at(t, n, label);
                alpha[row + s] = a;
                top = max(top, a);
            }
        }
        var m = 0.0;
        if t % RESCALE == RESCALE - 1u {
            m = step_scale(top, ids);
        }
        if live && m != 0.0 {
            for (var s = ids.lid; s < states; s += RWG) {
                alpha[row + s] -= m;
            }
            if ids.lid == 0u {
                let y = m - offsets[2u * n + 1u];
                let sum = offsets[2u * n] + y;
                offsets[2u * n + 1u] = (sum - offsets[2u * n]) - y;
                offsets[2u * n] = sum;
            }
        }
        storageBarrier();
    }
}

@compute @workgroup_size(RWG)
fn ctc_beta(ids: Ids, group: Group) {
    let q = sequence(group.id.x);
    let n = group.id.x;
    let states = 2u * q.labels + 1u;
    let base = q.soff * params.time;
    for (var k = params.t_begin; k < params.t_end; k++) {
        let t = params.time - 1u - k;
        let live = t < q.steps;
        let row = base + t * states;
        var top = params.neg_inf;
        if live {
            for (var s = ids.lid; s < states; s += RWG) {
                let label = state_label(q.toff, s);
                var b = params.neg_inf;
                if t + 1u == q.steps {
                    if s + 2u >= states {
                        b = 0.0;
                    }
                } else {
                    let later = row + states;
                    b = beta[later + s];
                    if s + 1u < states {
                        b = log_add(b, beta[later + s + 1u]);
                    }
                    if s + 2u < states && label != state_label(q.toff, s + 2u) {
                        b = log_add(b, beta[later + s + 2u]);
                    }
                }
                b += lp_at(t, n, label);
                beta[row + s] = b;
                top = max(top, b);
            }
        }
        var m = 0.0;
        if k % RESCALE == RESCALE - 1u {
            m = step_scale(top, ids);
        }
        if live && m != 0.0 {
            for (var s = ids.lid; s < states; s += RWG) {
                beta[row + s] -= m;
            }
        }
        storageBarrier();
    }
}

// log p(target | input) of sequence q less alpha's scales: -inf where no alignment exists.
fn scaled_likelihood(q: Sequence) -> f32 {
    let states = 2u * q.labels + 1u;
    let last = q.soff * params.time + (q.steps - 1u) * states;
    var ll = alpha[last + states - 1u];
    if q.labels > 0u {
        ll = log_add(ll, alpha[last + states - 2u]);
    }
    return ll;
}

// log p(target | input) of sequence q: -inf where no alignment exists; 0 for an empty
// target of an empty input.
fn log_likelihood(q: Sequence, n: u32) -> f32 {
    if q.steps == 0u {
        return select(params.neg_inf, 0.0, q.labels == 0u);
    }
    return scaled_likelihood(q) + (offsets[2u * n] - offsets[2u * n + 1u]);
}

@compute @workgroup_size(WG)
fn ctc_loss(ids: Ids, group: Group) {
    let n = group.id.x * WG + ids.lid;
    if n >= params.batch {
        return;
    }
    let q = sequence(n);
    let ll = log_likelihood(q, n);
    var loss = -ll;
    if params.zero_infinity != 0u && ll == params.neg_inf {
        loss = 0.0;
    }
    if params.per_length != 0u {
        loss /= f32(max(q.labels, 1u));
    }
    losses[n] = loss;
}

@compute @workgroup_size(WG)
fn ctc_norm(ids: Ids, group: Group) {
    let e = group.id.x * WG + ids.lid;
    if e >= (params.t_end - params.t_begin) * params.batch {
        return;
    }
    let t = params.t_begin + e / params.batch;
    let n = e % params.batch;
    let q = sequence(n);
    if t >= q.steps {
        return;
    }
    let states = 2u * q.labels + 1u;
    let row = q.soff * params.time + t * states;
    var z = params.neg_inf;
    for (var s = 0u; s < states; s++) {
        z = log_add(z, alpha[row + s] + beta[row + s] - lp_at(t, n, state_label(q.toff, s)));
    }
    norm[t * params.batch + n] = z;
}

@compute @workgroup_size(WG)
fn ctc_grad(ids: Ids, group: Group) {
    let e = group.id.x * WG + ids.lid;
    let per_step = params.batch * params.classes;
    if e >= (params.t_end - params.t_begin) * per_step {
        return;
    }
    let t = params.t_begin + e / per_step;
    let n = (e / params.classes) % params.batch;
    let c = e % params.classes;
    let i = t * per_step + n * params.classes + c;
    let q = sequence(n);
    if t >= q.steps || (params.zero_infinity != 0u && scaled_likelihood(q) == params.neg_inf) {
        grad[i] = 0.0;
        return;
    }
    let states = 2u * q.labels + 1u;
    let row = q.soff * params.time + t * states;
    // log of the summed probability of the alignments through class c at time t.
    var r = params.neg_inf;
    if c == params.blank {
        for (var s = 0u; s < states; s += 2u) {
            r = log_add(r, alpha[row + s] + beta[row + s]);
        }
    } else {
        let next = params.batch * params.classes + q.toff;
        var k = links[n * params.classes + c];
        for (var hops = 0u; k < q.labels && hops < q.labels; hops++) {
            let s = 2u * k + 1u;
            r = log_add(r, alpha[row + s] + beta[row + s]);
            k = links[next + k];
        }
    }
    let lp = load_lp(i);
    var scale = params.grad_scale;
    if params.per_length != 0u {
        scale /= f32(max(q.labels, 1u));
    }
    grad[i] = (exp(lp) - exp(r - lp - norm[t * params.batch + n])) * scale;
}
