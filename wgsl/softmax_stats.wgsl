// One-pass statistics of a row of logits for log-sum-exp (an "online softmax").
//
// `m` is the maximum seen and `r` the sum of exp(x - m) over every element but one
// occurrence of the maximum, so lse = m + log1p(r). Keeping the maximum's own 1 out of `r`
// keeps full relative precision when one class dominates (a confident prediction, loss near
// 0), where m + log(1 + r) would round the loss to a multiple of 6e-8 or worse.
// In other words r + 1 = sum of exp(x - m). Before any element that sum is 0: r starts at -1,
// and stays there while only -inf logits come (exp(-inf - m) = 0). A row of -inf logits alone
// ends with r = -1; as in PyTorch, whose log_softmax computes x - max = -inf + inf there, its
// loss and gradient are NaN (`row_log1p`), and so are those of a row holding +inf
// (inf - max = inf - inf).

// Below every finite f32: the running maximum's start, so exp(start - m) is 0 and -inf logits
// give exp(-inf) = 0 rather than exp(-inf + inf) = NaN.
const LOWEST: f32 = -0x1.fffffep+127f;
const HIGHEST: f32 = 0x1.fffffep+127f;

struct Stats {
    m: f32,
    r: f32,
}

fn stats_start() -> Stats {
    return Stats(LOWEST, -1.0);
}

// log1p(r): log(sum of exp(x - m)) of a row with maximum m. NaN for a row of -inf logits
// alone (r = -1, no element above LOWEST) and for a row whose maximum is +inf: the NaN, made
// from r's bits as WGSL has no NaN constant, makes the row's loss and every element of its
// gradient NaN.
fn row_log1p(r: f32, m: f32) -> f32 {
    if r < 0.0 || m > HIGHEST {
        return bitcast<f32>(bitcast<u32>(r) | 0x7fc00000u);
    }
    return log1p(r);
}

// Adds element v with one exp: exp(-|v - m|) is exp(v - m) below the maximum and
// exp(m - v) (the rescale of r and of the old maximum's 1) above it. The first element above
// the start gives r = (-1 + 1) exp(..) = 0 exactly.
fn stats_push(s: Stats, v: f32) -> Stats {
    let e = exp(-abs(v - s.m));
    return Stats(max(s.m, v), select(s.r + e, (s.r + 1.0) * e, v > s.m));
}

// A weighted sum of a row's logits kept relative to the running maximum, as (A, D) with
// A = sum of a_c and D = sum of a_c (x_c - m). A sum like sum_c a_c (lse - x_c) is then
// A log1p(r) - D, without the cancellation of A lse - sum_c a_c x_c at large logits (at 1e4
// that lost 3 digits): the x_c - m are small and exact. Pushing v moves the maximum from
// m_old to m_new; D is re-centred by A (m_old - m_new), which is 0 while A is (no weight yet,
// so no 0 * inf from the start value).
fn centered_push(c: vec2<f32>, m_old: f32, m_new: f32, a: f32, v: f32) -> vec2<f32> {
    let recentre = select(c.x * (m_old - m_new), 0.0, c.x == 0.0);
    return vec2<f32>(c.x + a, c.y + recentre + a * (v - m_new));
}

// A row's statistics merged over the workgroup, with a `centered_push` sum carried along.
struct RowStats {
    m: f32,
    log1p_r: f32,
    extra: vec2<f32>,
}

// Merges every invocation's statistics, and its centred sum re-centred on the row maximum:
// the invocations holding the row maximum keep their r and count one tie each; the others
// rescale r + 1 to the row maximum.
// An invocation that saw no element above LOWEST adds r + 1 = 0 either way, so a row of -inf
// logits alone sums to -1 (and `row_log1p` makes it NaN). Call from uniform control flow.
fn workgroup_stats(s: Stats, centered: vec2<f32>, ids: Ids) -> RowStats {
    let m = workgroup_max(s.m, ids);
    let top = s.m == m;
    let part = select((s.r + 1.0) * exp(s.m - m), s.r, top);
    let recentre = select(centered.x * (s.m - m), 0.0, centered.x == 0.0);
    let extra = vec2<f32>(centered.x, centered.y + recentre);
    let sums = workgroup_sum(vec4<f32>(part, select(0.0, 1.0, top), extra), ids);
    return RowStats(m, row_log1p(sums.x + (sums.y - 1.0), m), sums.zw);
}
