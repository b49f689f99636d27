// Kullback-Leibler divergence, PyTorch's kl_div(input, target): input x holds log q.
//   target p:             p (log p - x), 0 where p = 0;   derivative -p
//   target log p (flag):  exp(y) (y - x);                 derivative -exp(y)

fn target_prob4(y: vec4<f32>) -> vec4<f32> {
    if LOG_TARGET {
        return exp(y);
    }
    return y;
}

fn loss4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    if LOG_TARGET {
        return exp(y) * (y - x);
    }
    return select(y * (log(y) - x), vec4<f32>(0.0), y == vec4<f32>(0.0));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return -target_prob4(y);
}
