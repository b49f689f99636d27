// Kullback-Leibler divergence, PyTorch's kl_div(input, target): input x holds log q.
//   target p:             p (log p - x), 0 - 0 x where p = 0;   derivative -p
//   target log p (flag):  exp(y) (y - x);                       derivative -exp(y)
// PyTorch computes xlogy(p, p) - p x: where p = 0 that is 0 - 0 x, which is NaN for an
// infinite or NaN x, and 0 otherwise. Elsewhere p (log p - x) is the same value without the
// cancellation of p log p - p x when log p is near x (p near q, the usual case).

fn target_prob4(y: vec4<f32>) -> vec4<f32> {
    if LOG_TARGET {
        return exp(y);
    }
    return y;
}

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    if LOG_TARGET {
        return exp(y) * (y - x);
    }
    return select(y * (log(y) - x), 0.0 - y * x, y == vec4<f32>(0.0));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return -target_prob4(y);
}
